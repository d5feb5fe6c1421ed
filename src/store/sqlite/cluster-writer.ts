import type { SharedCommit } from '../../core/store.js';
import { isBoxofficeMessage, toError, type ToWorker, type ToWriter, type WriterError } from './cluster-protocol.js';
import type { SqliteWriter, WriterMethod } from './sqlite-writer.js';
import type { WriterChannel } from './writer-protocol.js';

type Pending = { resolve: (result: unknown) => void; reject: (err: Error) => void };

/**
 * A worker's side of the machine's one writer (`serve --workers N` on SQLite): each group-commit
 * batch goes to the primary as one message, and the primary answers with every commit it makes, so
 * this worker's caches follow the other workers' bookings without polling the file.
 */
export class ClusterWriterClient implements WriterChannel {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private externalListener: (() => void) | undefined;
  private commitListener: ((commit: SharedCommit) => void) | undefined;
  private failure: Error | undefined;
  fault: string | undefined;

  constructor() {
    if (!process.send) throw new Error('the cluster writer needs an IPC channel to the primary');
    process.on('message', this.onMessage);
    process.on('disconnect', this.onDisconnect);
  }

  invoke<M extends WriterMethod>(method: M, ...args: Parameters<SqliteWriter[M]>): Promise<ReturnType<SqliteWriter[M]>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const message: ToWriter = method === 'write' ? { bo: 'write', id, batch: args[0] as Parameters<SqliteWriter['write']>[0] } : { bo: 'call', id, method: method as Exclude<WriterMethod, 'write'>, args };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject });
      process.send!(message, undefined, undefined, (err) => {
        if (err) this.settle(id, undefined, { message: `cannot reach the writer: ${err.message}` });
      });
    });
  }

  onExternalChange(listener: (() => void) | undefined): void {
    this.externalListener = listener;
  }

  onCommit(listener: ((commit: SharedCommit) => void) | undefined): void {
    this.commitListener = listener;
  }

  async close(): Promise<void> {
    process.off('message', this.onMessage);
    process.off('disconnect', this.onDisconnect);
    this.fail(new Error('the store is closed'));
  }

  private readonly onMessage = (message: unknown): void => {
    if (!isBoxofficeMessage(message)) return;
    const msg = message as ToWorker;
    switch (msg.bo) {
      case 'commit':
        // The caches learn the commit before any of its waiters resumes, as in one process.
        this.commitListener?.({ changes: msg.changes, ...(msg.report && { report: msg.report }) });
        for (const reply of msg.replies) {
          if ('error' in reply) this.settle(reply.id, undefined, reply.error);
          else this.settle(reply.id, reply.outcomes);
        }
        return;
      case 'reply':
        return this.settle(msg.id, msg.result);
      case 'refused':
        return this.settle(msg.id, undefined, msg.error);
      case 'external':
        return this.externalListener?.();
      case 'fault':
        this.fault = msg.fault;
        return;
    }
  };

  private readonly onDisconnect = (): void => this.fail(new Error('the primary process (the SQLite writer) is gone'));

  private settle(id: number, result: unknown, error?: WriterError): void {
    const waiter = this.pending.get(id);
    if (!waiter) return;
    this.pending.delete(id);
    if (error) waiter.reject(toError(error));
    else waiter.resolve(result);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.pending.values()) waiter.reject(err);
    this.pending.clear();
  }
}
