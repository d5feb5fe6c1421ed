import { BoxofficeError, type ErrorCode } from '../../core/errors.js';
import type { WriterMethod } from './sqlite-writer.js';

/** Messages between the SQLite store and its writer thread: a method of SqliteWriter by name. */
export type WriterRequest = { id: number; op: 'call'; method: WriterMethod; args: unknown[] } | { id: number; op: 'close' };

export type WriterReply =
  | { id: number; ok: true; result?: unknown }
  | { id: number; ok: false; message: string }
  | { id: 0; external: true };

type WireError = { __boxofficeError: true; code: ErrorCode; message: string };

/**
 * Outcomes carry a BoxofficeError in `error`; structured clone would turn it into a plain Error and
 * lose its code, so it crosses as data and is rebuilt on the other side.
 */
export function toWire(result: unknown): unknown {
  if (Array.isArray(result)) return result.map(toWire);
  if (result && typeof result === 'object' && (result as { error?: unknown }).error instanceof BoxofficeError) {
    const error = (result as { error: BoxofficeError }).error;
    return { ...result, error: { __boxofficeError: true, code: error.code, message: error.message } satisfies WireError };
  }
  return result;
}

export function fromWire<T>(result: unknown): T {
  if (Array.isArray(result)) return result.map((r) => fromWire(r)) as T;
  const error = result && typeof result === 'object' ? (result as { error?: WireError }).error : undefined;
  if (error?.__boxofficeError) return { ...(result as object), error: new BoxofficeError(error.code, error.message) } as T;
  return result as T;
}
