import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SqliteWriter, WriterMethod } from './sqlite-writer.js';
import type { WriterChannel, WriterReply, WriterRequest } from './writer-protocol.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Pending = { resolve: (reply: Extract<WriterReply, { ok: true }>) => void; reject: (err: Error) => void };

/**
 * The main-thread side of the writer thread. A booking batch is posted to the thread and its
 * outcomes come back only after COMMIT returned there, so the durability promise is unchanged, but
 * the HTTP thread keeps parsing and answering while the disk syncs.
 */
export class WriterThread implements WriterChannel {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  private externalListener: (() => void) | undefined;
  /** A fault the thread reported on its own (the journal is gone). */
  fault: string | undefined;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (reply: WriterReply) => {
      if ('external' in reply) return this.externalListener?.();
      if ('fault' in reply) {
        this.fault = reply.fault;
        return;
      }
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply);
      else waiter.reject(Object.assign(new Error(reply.message), reply.code ? { code: reply.code } : {}));
    });
    const fail = (err: Error) => {
      this.failure ??= err;
      for (const waiter of this.pending.values()) waiter.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the SQLite writer thread exited (code ${code})`)));
  }

  static async start(path: string, options: { busyTimeoutMs: number; pollMs: number; integrityCheck?: boolean; script?: URL; secretKeys?: readonly Uint8Array[] }): Promise<WriterThread> {
    const workerData = { path, ...options, script: undefined };
    const worker = options.script ? new Worker(options.script, { workerData }) : startWriterEntry(workerData);
    // Only our own listeners are removed afterwards: Worker keeps internal ones on itself.
    let onMessage: (reply: WriterReply) => void = () => {};
    let onError: (err: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (reply) => {
          if (reply.id !== -1) return;
          if (reply.ok) resolve();
          else reject(new Error(reply.message));
        };
        onError = reject;
        onExit = (code) => reject(new Error(`the SQLite writer thread exited during start (code ${code})`));
        worker.on('message', onMessage).once('error', onError).once('exit', onExit);
      });
    } finally {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
    return new WriterThread(worker);
  }

  /** Runs one SqliteWriter method on the thread; resolves after its transaction committed there. */
  async invoke<M extends WriterMethod>(method: M, ...args: Parameters<SqliteWriter[M]>): Promise<ReturnType<SqliteWriter[M]>> {
    const reply = await this.call({ op: 'call', method, args });
    return reply.result as ReturnType<SqliteWriter[M]>;
  }

  onExternalChange(listener: (() => void) | undefined): void {
    this.externalListener = listener;
  }

  async close(): Promise<void> {
    if (this.failure) return;
    await this.call({ op: 'close' }).catch(() => {});
    await this.worker.terminate();
  }

  private call(request: WithoutId<WriterRequest>): Promise<Extract<WriterReply, { ok: true }>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...request, id } as WriterRequest);
    });
  }
}

/**
 * Starts the thread's entry point beside this module: the compiled one in a build, and the
 * TypeScript source (through tsx's loader, registered inside the thread) when this module itself
 * runs from source, as under vitest, so a test run always exercises the code it claims to test,
 * with no build in between.
 */
function startWriterEntry(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./writer-thread-main.js', import.meta.url), { workerData });
  // require.resolve finds the CommonJS build of the API; the thread imports its ES module twin.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const source = new URL('./writer-thread-main.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => (api.register ?? api.default.register)()).then(() => import(${JSON.stringify(source)}))`;
  return new Worker(boot, { eval: true, workerData });
}
