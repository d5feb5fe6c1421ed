import type { Outcome, WriteBatch } from '../../core/commands.js';
import type { SharedCommit } from '../../core/store.js';
import type { WriterMethod } from './sqlite-writer.js';

/**
 * Messages between the workers of `serve --workers N` and the machine's one SQLite writer in the
 * primary (node:cluster IPC, advanced serialization: commands and outcomes cross as they are).
 * Every message carries `bo`, so the cluster's and prom-client's own messages pass by untouched.
 */

/** Set by the primary in each worker's environment when it owns the writes. */
export const CLUSTER_WRITER_ENV = 'BOXOFFICE_CLUSTER_WRITER';

export type ToWriter =
  /** One of the worker's group-commit batches: one message per batch, not per request. */
  | { bo: 'write'; id: number; batch: WriteBatch }
  | { bo: 'call'; id: number; method: Exclude<WriterMethod, 'write'>; args: unknown[] };

export type WriteReply = { id: number; outcomes: Outcome[] } | { id: number; error: WriterError };

export interface WriterError {
  message: string;
  code?: string;
}

export type ToWorker =
  /**
   * One commit of the writer, sent to every worker: the answers to this worker's batches in it,
   * and what changed (for every worker's caches), in commit order.
   */
  | ({ bo: 'commit'; replies: WriteReply[] } & SharedCommit)
  | { bo: 'reply'; id: number; result: unknown }
  | { bo: 'refused'; id: number; error: WriterError }
  /** A process outside this machine's cluster committed (e.g. `boxoffice backup`, another server). */
  | { bo: 'external' }
  | { bo: 'fault'; fault: string };

export function isBoxofficeMessage(message: unknown): message is { bo: string } {
  return typeof message === 'object' && message !== null && typeof (message as { bo?: unknown }).bo === 'string';
}

export function writerError(err: unknown): WriterError {
  const code = (err as { code?: unknown }).code;
  return { message: (err as Error).message ?? String(err), ...(typeof code === 'string' && { code }) };
}

export function toError(error: WriterError): Error {
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}
