import { createHmac, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * Signed ticket codes (issue 14): `BO1.` + base64url(ticketId 16 bytes ‖ eventId 16 bytes ‖ Ed25519
 * signature 64 bytes over the 32 id bytes). A door tells a genuine ticket from a forged or altered
 * one without asking the server. The signing key of an event is derived from the server key, so
 * nothing is stored and every node sharing the server key signs and verifies alike.
 */
export const CODE_PREFIX = 'BO1.';
export const CODE_LENGTH = CODE_PREFIX.length + 128;
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export type ReadCode =
  | { ok: true; ticketId: string; eventId: string }
  /** `malformed`: not a code at all (truncated, wrong alphabet); `forged`: the signature does not match. */
  | { ok: false; reason: 'malformed' | 'forged' };

export interface TicketCodes {
  /** The code of a ticket (deterministic: Ed25519 signatures are). */
  codeFor(ticketId: string, eventId: string): string;
  /** Reads and verifies a code; never throws. */
  read(code: unknown): ReadCode;
  /** The event's public key: 32 raw bytes, base64url (of the current server key). */
  publicKey(eventId: string): string;
  /** The event's public keys of every server key still accepted (current first), for doors after a rotation. */
  publicKeys(eventId: string): string[];
}

interface EventKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  raw: string;
}

const uuidBytes = (id: string): Buffer => Buffer.from(id.replaceAll('-', ''), 'hex');
const uuidText = (bytes: Buffer): string => {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BASE64URL = /^[A-Za-z0-9_-]{128}$/;

/**
 * Codes signed with keys derived from `serverKeys[0]` (the server's secret key); codes signed with
 * a previous server key (`serverKeys[1…]`, after a rotation) still verify, so printed tickets stay good.
 */
export function ticketCodes(...serverKeys: Uint8Array[]): TicketCodes {
  if (serverKeys.length === 0) throw new Error('ticket codes need a server key');
  const all = serverKeys.map((key) => keyring(key));
  const [current] = all as [(eventId: string) => EventKeys];
  return {
    codeFor(ticketId, eventId) {
      const ids = Buffer.concat([uuidBytes(ticketId), uuidBytes(eventId)]);
      const signature = sign(null, ids, current(eventId).privateKey);
      return CODE_PREFIX + Buffer.concat([ids, signature]).toString('base64url');
    },
    read(code) {
      if (typeof code !== 'string' || code.length !== CODE_LENGTH || !code.startsWith(CODE_PREFIX)) return { ok: false, reason: 'malformed' };
      const body = code.slice(CODE_PREFIX.length);
      if (!BASE64URL.test(body)) return { ok: false, reason: 'malformed' };
      const bytes = Buffer.from(body, 'base64url');
      // 128 base64url characters carry 96 bytes; a last character with stray low bits is another
      // spelling of the same bytes, which would make two codes for one ticket: refuse it.
      if (bytes.length !== 96 || bytes.toString('base64url') !== body) return { ok: false, reason: 'malformed' };
      const ticketId = uuidText(bytes.subarray(0, 16));
      const eventId = uuidText(bytes.subarray(16, 32));
      if (!UUID.test(ticketId) || !UUID.test(eventId)) return { ok: false, reason: 'malformed' };
      const genuine = all.some((keys) => verify(null, bytes.subarray(0, 32), keys(eventId).publicKey, bytes.subarray(32)));
      return genuine ? { ok: true, ticketId, eventId } : { ok: false, reason: 'forged' };
    },
    publicKey: (eventId) => current(eventId).raw,
    publicKeys: (eventId) => all.map((keys) => keys(eventId).raw),
  };
}

/** An event's keys derived from one server key; deriving costs an HMAC and two key imports, so recent events' are kept. */
function keyring(serverKey: Uint8Array): (eventId: string) => EventKeys {
  const cache = new LRUCache<string, EventKeys>({ max: 1000 });
  return (eventId: string): EventKeys => {
    let keys = cache.get(eventId);
    if (!keys) {
      const seed = createHmac('sha256', serverKey).update(`ticket-signing:v1:${eventId}`).digest();
      const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
      const publicKey = createPublicKey(privateKey);
      const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64url');
      keys = { privateKey, publicKey, raw };
      cache.set(eventId, keys);
    }
    return keys;
  };
}
