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

/** A write that is not a booking (a confirmation, a release, a cancellation, an expiry sweep). */
interface Solo {
  solo: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Queued = Waiter | Solo;
const isSolo = (q: Queued): q is Solo => 'solo' in q;

/**
 * Group commit: one transaction (one fsync) decides every request that queued up while the previous
 * transaction was in flight. At most one batch is in flight, so batches commit in arrival order and
 * the queue keeps requests FIFO. A promise settles only after its batch has committed (or failed whole).
 *
 * It is also this process's one write lane: other writes (`runSolo`) queue in the same FIFO and run
 * alone between batches. So every write of this process commits, and is answered, in the order it
 * was queued, and the caches that apply the answers' counts never apply an older count over a newer
 * one (with several connections, answers could otherwise arrive out of commit order).
 */
export class GroupCommitter {
  private queue: Queued[] = [];
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

  /** Runs a write alone, in FIFO order with the bookings; settles with its result. */
  runSolo<T>(write: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ solo: write, resolve: resolve as (value: unknown) => void, reject });
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
    const head = this.queue[0]!;
    if (isSolo(head)) {
      this.queue.shift();
      this.inFlight = true;
      let result: unknown;
      try {
        result = await head.solo();
      } catch (err) {
        this.inFlight = false;
        head.reject(err);
        return this.next();
      }
      this.inFlight = false;
      head.resolve(result);
      this.next();
    } else {
      await this.commitBatch(this.takeBatch());
    }
  }

  /**
   * Called in the same tick as the answers are handed out: the next write is scheduled before any
   * waiter's continuation can queue its own timers, as it always was.
   */
  private next(): void {
    if (this.queue.length > 0) this.schedule();
    else this.notifyIdle();
  }

  /** The leading bookings of the queue, up to maxBatch, stopping at the first solo write. */
  private takeBatch(): Waiter[] {
    let end = 0;
    while (end < this.queue.length && end < this.options.maxBatch && !isSolo(this.queue[end]!)) end++;
    const batch = end === this.queue.length ? this.queue : this.queue.slice(0, end);
    this.queue = batch === this.queue ? [] : this.queue.slice(end);
    return batch as Waiter[];
  }

  private async commitBatch(batch: Waiter[]): Promise<void> {
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
    this.next();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
