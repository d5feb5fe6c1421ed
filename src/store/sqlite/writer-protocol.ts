import type { WriterMethod } from './sqlite-writer.js';

/**
 * Messages between the SQLite store and its writer thread: a method of SqliteWriter by name.
 * Commands and outcomes are plain data, so they cross by structured clone as they are.
 */
export type WriterRequest = { id: number; op: 'call'; method: WriterMethod; args: unknown[] } | { id: number; op: 'close' };

export type WriterReply =
  | { id: number; ok: true; result?: unknown }
  | { id: number; ok: false; message: string; code?: string }
  | { id: 0; external: true }
  | { id: 0; fault: string };
