import type { EventCounts } from './commands.js';
import { IDEMPOTENCY_KEY_TTL_MS } from './decisions/index.js';
import type { Logger } from './logger.js';
import type { Store } from './store.js';

export interface ExpiryResult {
  expired: number;
  counts: EventCounts[];
}

export interface HousekeepingOptions {
  /** How often due holds are looked for (ms); it bounds how late an expiry can be. */
  intervalMs: number;
  /** How often idempotency keys older than 24 h are deleted (ms). */
  purgeEveryMs: number;
  now: () => Date;
  logger: Logger;
  /** Expires due holds through the service's write lane (which logs and reports it). */
  expire: () => Promise<ExpiryResult>;
}

/**
 * Returns expired holds' tickets to stock on time whether or not anyone asks, and forgets old
 * idempotency keys. It asks the store, not its own memory, which holds are due: holds made by
 * another node, or before a restart, expire just the same, and the store's transaction makes sure
 * each hold ends once however many nodes sweep at the same moment.
 */
export class Housekeeping {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private lastPurge = 0;

  constructor(
    private readonly store: Store,
    private readonly options: HousekeepingOptions,
  ) {}

  start(): void {
    if (this.timer || this.options.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Expires every due hold now (also what the timer does). */
  sweep(): Promise<ExpiryResult> {
    return this.options.expire();
  }

  private tick(): Promise<void> {
    // One sweep at a time: a slow database must not pile sweeps up behind each other.
    this.running ??= this.work().finally(() => (this.running = undefined));
    return this.running;
  }

  private async work(): Promise<void> {
    try {
      const now = this.options.now();
      // The due-check is one read of a small index; the write transaction runs only when needed.
      const next = await this.store.nextHoldExpiry();
      if (next !== undefined && Date.parse(next) <= now.getTime()) await this.sweep();
      if (now.getTime() - this.lastPurge >= this.options.purgeEveryMs) {
        this.lastPurge = now.getTime();
        const purged = await this.store.purgeIdempotencyKeys(new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS));
        if (purged > 0) this.options.logger.info({ purged }, 'old idempotency keys forgotten');
      }
    } catch (err) {
      // The next tick tries again; nothing is lost while storage is down, expiry is only late.
      this.options.logger.warn({ err }, 'housekeeping failed; retrying');
    }
  }
}
