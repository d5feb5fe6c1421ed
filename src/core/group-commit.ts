import { Errors, isBoxofficeError } from './errors.js';

export interface GroupCommitOptions<C, O> {
  /** Most commands decided in one transaction; 1 turns group commit off (one command per transaction). */
  maxBatch: number;
  /** Defers a flush until the current I/O phase has delivered everything that arrived; setImmediate by default. */
  defer?: (fn: () => void) => void;
  /**
   * Send a batch without waiting for the previous one's commit: for a store that decides and answers
   * batches in the order they were sent (the machine's shared writer under `--workers`, over one
   * ordered channel). The batches still commit in order; only the round trip is no longer waited out,
   * so a batch reaches the writer when its requests arrive, not one commit later.
   */
  pipeline?: boolean;
  /** Called once per committed batch, before any of its waiters resumes. */
  onBatch?: (commands: readonly C[], outcomes: readonly O[], millis: number) => void;
}

interface Waiter<C, O> {
  command: C;
  resolve: (outcome: O) => void;
  reject: (err: unknown) => void;
}

/**
 * This process's one write lane, with group commit: one transaction (one fsync) decides every
 * command that queued up while the previous transaction was in flight. At most one batch is in
 * flight, so batches commit in arrival order and the queue keeps commands FIFO; a promise settles
 * only after its batch has committed (or failed whole). Because answers come back in commit order,
 * caches that apply the answers' counts never apply an older count over a newer one.
 */
export class GroupCommitter<C, O> {
  private queue: Waiter<C, O>[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private readonly defer: (fn: () => void) => void;

  constructor(
    private readonly commit: (batch: readonly C[]) => Promise<O[]>,
    private readonly options: GroupCommitOptions<C, O>,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('maxBatch must be ≥ 1');
    this.defer = options.defer ?? setImmediate;
  }

  submit(command: C): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ command, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or in flight (used by graceful shutdown). */
  drain(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if ((this.inFlight > 0 && !this.options.pipeline) || this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight > 0 && !this.options.pipeline) return;
    if (this.queue.length === 0) return this.notifyIdle();
    const max = this.options.maxBatch;
    const batch = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
    this.queue = batch === this.queue ? [] : this.queue.slice(max);
    this.inFlight++;
    if (this.options.pipeline && this.queue.length > 0) this.schedule();
    const started = performance.now();
    try {
      const commands = batch.map((w) => w.command);
      const outcomes = await this.commit(commands);
      if (outcomes.length !== batch.length) throw new Error(`store returned ${outcomes.length} outcomes for ${batch.length} commands`);
      this.options.onBatch?.(commands, outcomes, performance.now() - started);
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outcomes[i]!);
    } catch (err) {
      // The transaction rolled back as a whole: no command of this batch was applied.
      const failure = isBoxofficeError(err) ? err : Errors.storageUnavailable(err);
      for (const w of batch) w.reject(failure);
    } finally {
      this.inFlight--;
    }
    // Scheduled in the same tick as the answers are handed out, before any waiter's continuation.
    if (this.queue.length > 0) this.schedule();
    else if (this.inFlight === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
