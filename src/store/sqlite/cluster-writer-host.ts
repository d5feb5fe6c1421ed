import cluster, { type Worker } from 'node:cluster';
import { changesOf, latestCounts } from '../../core/change-relay.js';
import type { Command, Outcome, WriteBatch } from '../../core/commands.js';
import type { Store } from '../../core/store.js';
import { isBoxofficeMessage, writerError, type ToWorker, type ToWriter, type WriteReply } from './cluster-protocol.js';

const FAULT_POLL_MS = 200;

type Waiting = { batch: WriteBatch; from: Worker | undefined; id: number; settle?: (result: Outcome[] | Error) => void };
/** The primary's store: its writer thread takes writes pipelined and merges what queues up (`Store.pipelinedWrites`). */
type WriterStore = Pick<Store, 'write' | 'purgeIdempotencyKeys' | 'watchExternalChanges' | 'fault'>;

/**
 * The machine's one SQLite writer under `serve --workers N`, in the primary. Workers send their
 * group-commit batches here, and the host passes each on to the primary's writer thread as it
 * arrives: the thread decides every batch that arrived while a transaction was committing in the
 * next one, in arrival order (each alone if the merge fails), so one fsync serves every worker and
 * FIFO per event holds across the workers. What one I/O phase brought is answered together: one
 * message per worker with its answers and what changed, for the caches and streams of all of them.
 *
 * A worker that dies with batches here: each is in a transaction that commits or rolls back whole;
 * its answer just has nobody to go to.
 */
export class ClusterWriterHost {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: Array<() => void> = [];
  private lastFault: string | undefined;
  private readonly faultTimer: ReturnType<typeof setInterval>;
  private readonly stopExternal: (() => void) | undefined;

  constructor(private readonly store: WriterStore) {
    cluster.on('message', this.onMessage);
    cluster.on('online', this.greet);
    this.stopExternal = store.watchExternalChanges?.(() => this.broadcast({ bo: 'external' }));
    this.faultTimer = setInterval(() => {
      const fault = store.fault?.();
      if (fault && fault !== this.lastFault) this.broadcast({ bo: 'fault', fault: (this.lastFault = fault) });
    }, FAULT_POLL_MS);
    this.faultTimer.unref();
  }

  /** A write of the primary's own (expiry), decided in the same lane as the workers' batches. */
  write(batch: WriteBatch): Promise<Outcome[]> {
    return new Promise((resolve, reject) => {
      this.enqueue({ batch, from: undefined, id: 0, settle: (result) => (result instanceof Error ? reject(result) : resolve(result)) });
    });
  }

  /** Stops taking batches and waits for the ones already here. */
  async close(): Promise<void> {
    cluster.off('message', this.onMessage);
    cluster.off('online', this.greet);
    clearInterval(this.faultTimer);
    this.stopExternal?.();
    if (this.inFlight > 0 || this.queue.length > 0 || this.scheduled) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private readonly onMessage = (worker: Worker, message: unknown): void => {
    if (!isBoxofficeMessage(message)) return;
    const msg = message as ToWriter;
    if (msg.bo === 'write') return this.enqueue({ batch: msg.batch, from: worker, id: msg.id });
    if (msg.bo === 'call' && msg.method === 'purgeIdempotencyKeys') {
      this.store.purgeIdempotencyKeys(msg.args[0] as Date).then(
        (result) => send(worker, { bo: 'reply', id: msg.id, result }),
        (err: unknown) => send(worker, { bo: 'refused', id: msg.id, error: writerError(err) }),
      );
    }
  };

  /** A worker started after the journal went missing learns it at once. */
  private readonly greet = (worker: Worker): void => {
    if (this.lastFault) send(worker, { bo: 'fault', fault: this.lastFault });
  };

  private enqueue(waiting: Waiting): void {
    this.queue.push(waiting);
    this.schedule();
  }

  /** What arrived in this I/O phase goes to the writer together, and is answered together. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const group = this.queue;
    this.queue = [];
    if (group.length === 0) return;
    this.inFlight++;
    const started = performance.now();
    // Sent at once, without waiting for the group before: the thread replies in the order sent,
    // so groups settle, and commits reach the workers, in order.
    const results = await Promise.all(group.map((w) => this.store.write(w.batch).catch((err: unknown) => err as Error)));
    this.deliver(group, results, performance.now() - started);
    this.inFlight--;
    if (this.queue.length > 0) this.schedule();
    else if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private deliver(group: Waiting[], results: Array<Outcome[] | Error>, millis: number): void {
    const replies = new Map<Worker, WriteReply[]>();
    const committed: Outcome[] = [];
    let own: { commands: Command[]; outcomes: Outcome[]; millis: number } | undefined;
    group.forEach((w, i) => {
      const result = results[i]!;
      if (!(result instanceof Error)) committed.push(...result);
      if (!w.from) {
        if (!(result instanceof Error)) own = { commands: [...(own?.commands ?? []), ...w.batch.commands], outcomes: [...(own?.outcomes ?? []), ...result], millis };
        w.settle!(result);
        return;
      }
      const list = replies.get(w.from) ?? [];
      list.push(result instanceof Error ? { id: w.id, error: writerError(result) } : { id: w.id, outcomes: result });
      replies.set(w.from, list);
    });
    const changes = latestCounts(changesOf(committed));
    // The primary's own writes are logged and counted once, by one worker, like any other write.
    let report = own;
    for (const worker of connectedWorkers()) {
      const mine = replies.get(worker) ?? [];
      if (mine.length === 0 && changes.length === 0 && !report) continue;
      send(worker, { bo: 'commit', replies: mine, changes, ...(report && { report }) });
      report = undefined;
    }
  }

  private broadcast(message: ToWorker): void {
    for (const worker of connectedWorkers()) send(worker, message);
  }
}

function connectedWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
}

/** A worker that died meanwhile simply misses the message; its replacement reads the file afresh. */
function send(worker: Worker, message: ToWorker): void {
  if (!worker.isConnected()) return;
  try {
    worker.send(message, undefined, () => {});
  } catch {
    // The channel closed between the check and the send.
  }
}
