import type { SqliteWriter, WriterMethod } from './sqlite-writer.js';

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

/**
 * Where a SqliteStore sends its writes: its own writer thread (`WriterThread`), or, in a worker of
 * `serve --workers N`, the machine's one writer in the primary process (`ClusterWriterClient`).
 */
export interface WriterChannel {
  invoke<M extends WriterMethod>(method: M, ...args: Parameters<SqliteWriter[M]>): Promise<ReturnType<SqliteWriter[M]>>;
  onExternalChange(listener: (() => void) | undefined): void;
  /** A fault the writer reported on its own (the journal is gone): writes fail until a restart. */
  readonly fault: string | undefined;
  close(): Promise<void>;
}
