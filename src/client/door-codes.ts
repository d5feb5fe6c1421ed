import { createPublicKey, verify, type KeyObject } from 'node:crypto';

/**
 * Reading `BO1.` ticket codes on a door device, without the server: the ids and the Ed25519
 * signature, checked with the event's public key from the door list (issue 14). The server's own
 * reader is core/ticket-codes.ts; this one needs no secret.
 */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const CODE_PREFIX = 'BO1.';
const CODE_BODY = /^[A-Za-z0-9_-]{128}$/;

const uuidText = (bytes: Buffer): string => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

export type LocalRead = { ok: true; ticketId: string; eventId: string; signed: Buffer; signature: Buffer } | { ok: false };

/** Splits a `BO1.` code into its ids and signature without verifying it; `ok: false` when it is not a code. */
export function parseCode(code: string): LocalRead {
  if (!code.startsWith(CODE_PREFIX)) return { ok: false };
  const body = code.slice(CODE_PREFIX.length);
  if (!CODE_BODY.test(body)) return { ok: false };
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length !== 96 || bytes.toString('base64url') !== body) return { ok: false };
  return { ok: true, ticketId: uuidText(bytes.subarray(0, 16)), eventId: uuidText(bytes.subarray(16, 32)), signed: bytes.subarray(0, 32), signature: bytes.subarray(32) };
}

/** The public key object of a raw 32-byte base64url Ed25519 key. */
export function importPublicKey(raw: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, Buffer.from(raw, 'base64url')]), format: 'der', type: 'spki' });
}

/** Whether `read`'s signature verifies with one of `keys`. */
export function genuine(read: Extract<LocalRead, { ok: true }>, keys: readonly KeyObject[]): boolean {
  return keys.some((key) => verify(null, read.signed, key, read.signature));
}
