import { Errors, isBoxofficeError } from './errors.js';
import type { BookingOutcome, BookingRequest } from './store.js';

export interface GroupCommitOptions {
  /** Most requests decided in one transaction; 1 turns group commit off (one booking per transaction). */
  maxBatch: number;
  /** Defers a flush until the current I/O phase has delivered everything that arrived; setImmediate by default. */
  defer?: (fn: () => void) => void;
  /** Called once per committed batch, before any of its waiters resumes. */
  onBatch?: (requests: readonly BookingRequest[], outcomes: readonly BookingOutcome[], millis: number) => void;
}

interface Waiter {
  request: BookingRequest;
  resolve: (outcome: BookingOutcome) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: one transaction (one fsync) decides every request that queued up while the previous
 * transaction was in flight. At most one batch is in flight, so batches commit in arrival order and
 * the queue keeps requests FIFO. A promise settles only after its batch has committed (or failed whole).
 */
export class GroupCommitter {
  private queue: Waiter[] = [];
  private inFlight = false;
  private scheduled = false;
  private idleWaiters: Array<() => void> = [];
  private readonly defer: (fn: () => void) => void;

  constructor(
    private readonly commit: (batch: readonly BookingRequest[]) => Promise<BookingOutcome[]>,
    private readonly options: GroupCommitOptions,
  ) {
    if (!Number.isInteger(options.maxBatch) || options.maxBatch < 1) throw new RangeError('maxBatch must be ≥ 1');
    this.defer = options.defer ?? setImmediate;
  }

  submit(request: BookingRequest): Promise<BookingOutcome> {
    return new Promise<BookingOutcome>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once nothing is queued or in flight (used by graceful shutdown). */
  drain(): Promise<void> {
    if (!this.inFlight && this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.inFlight || this.scheduled) return;
    this.scheduled = true;
    this.defer(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    if (this.inFlight) return;
    if (this.queue.length === 0) {
      this.notifyIdle();
      return;
    }
    const batch = this.queue.length <= this.options.maxBatch ? this.queue : this.queue.slice(0, this.options.maxBatch);
    this.queue = batch === this.queue ? [] : this.queue.slice(batch.length);
    this.inFlight = true;
    const started = performance.now();
    try {
      const requests = batch.map((w) => w.request);
      const outcomes = await this.commit(requests);
      if (outcomes.length !== batch.length) throw new Error(`store returned ${outcomes.length} outcomes for ${batch.length} requests`);
      this.options.onBatch?.(requests, outcomes, performance.now() - started);
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outcomes[i]!);
    } catch (err) {
      // The transaction rolled back as a whole: no request of this batch was applied.
      const failure = isBoxofficeError(err) ? err : Errors.storageUnavailable(err);
      for (const w of batch) w.reject(failure);
    } finally {
      this.inFlight = false;
    }
    if (this.queue.length > 0) this.schedule();
    else this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
