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
  /**
   * Longest wait (ms) for the commands a closed loop of clients sends back after a batch's answers,
   * before deciding a smaller batch (default 2; 0 turns the wait off). Never more than half the last
   * commit's duration, so it only pays where a commit (an fsync) costs more than the wait.
   */
  maxLingerMs?: number;
  /** Called once per committed batch, before any of its waiters resumes. */
  onBatch?: (commands: readonly C[], outcomes: readonly O[], millis: number) => void;
}

const DEFAULT_MAX_LINGER_MS = 2;

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
  /** Commands the last batch answered: clients in a closed loop send about as many back. */
  private expected = 0;
  private lastCommitMs = 0;
  /** While a batch waits for the rest of its clients: when it stops waiting (0: not waiting). */
  private lingerUntil = 0;

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
    if (this.lingering()) return this.schedule();
    const max = this.options.maxBatch;
    const batch = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
    this.queue = batch === this.queue ? [] : this.queue.slice(max);
    this.inFlight++;
    if (this.options.pipeline && this.queue.length > 0) this.schedule();
    const started = performance.now();
    let released = false;
    try {
      const commands = batch.map((w) => w.command);
      const outcomes = await this.commit(commands);
      if (outcomes.length !== batch.length) throw new Error(`store returned ${outcomes.length} outcomes for ${batch.length} commands`);
      this.lastCommitMs = performance.now() - started;
      // Commands that queued during this commit are leftovers of a split or a new arrival wave, not
      // clients still on their way back: nothing to wait for then.
      this.expected = this.queue.length > 0 ? 0 : batch.length;
      this.options.onBatch?.(commands, outcomes, this.lastCommitMs);
      // What queued meanwhile goes to the store before this batch's answers go out, so the store
      // commits it while this thread answers (on SQLite the writer thread would otherwise idle
      // through a third of every cycle). Still one batch in flight, still in commit order.
      this.inFlight--;
      released = true;
      if (this.queue.length > 0 && !this.scheduled) void this.flush();
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outcomes[i]!);
    } catch (err) {
      // The transaction rolled back as a whole: no command of this batch was applied.
      const failure = isBoxofficeError(err) ? err : Errors.storageUnavailable(err);
      for (const w of batch) w.reject(failure);
    } finally {
      if (!released) this.inFlight--;
    }
    // Scheduled in the same tick as the answers are handed out, before any waiter's continuation.
    if (this.queue.length > 0) this.schedule();
    else if (this.inFlight === 0) this.notifyIdle();
  }

  /**
   * Whether to wait a little longer before deciding what has queued. A batch's answers go out
   * together and its clients send their next requests back over the following fraction of a
   * millisecond; deciding at the first arrival splits them over two commits (two fsyncs, on
   * SQLite ~3.7 ms each here), so the batch waits until about as many commands as the last batch
   * answered have arrived, or the linger time has passed. A lone client (last batch of one) never waits.
   */
  private lingering(): boolean {
    // A pipelined lane sends at once: the shared writer merges what arrives while it commits.
    if (this.options.pipeline) return false;
    if (this.queue.length >= Math.min(this.expected, this.options.maxBatch)) {
      this.lingerUntil = 0;
      return false;
    }
    const now = performance.now();
    if (this.lingerUntil === 0) this.lingerUntil = now + Math.min(this.options.maxLingerMs ?? DEFAULT_MAX_LINGER_MS, this.lastCommitMs / 2);
    if (now < this.lingerUntil) return true;
    this.lingerUntil = 0;
    return false;
  }

  private notifyIdle(): void {
    if (this.inFlight > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
