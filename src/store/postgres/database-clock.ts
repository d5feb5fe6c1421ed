import type pg from 'pg';
import type { Logger } from '../../core/logger.js';
import type { ClockStatus, SharedClock } from '../../core/store.js';

export interface DatabaseClockOptions {
  /** How often the offset is measured again (default 15 s): clocks drift and get stepped by NTP. */
  intervalMs?: number;
  /** Beyond this much skew the node warns in its log and its /readyz (default 2 s). */
  toleranceMs?: number;
  /** This node's clock in ms; tests replace it. */
  local?: () => number;
  logger: Logger;
}

/**
 * The database's clock, read through this node's: the offset between `clock_timestamp()` and the
 * local clock is measured (at the midpoint of the round trip) and added to every local reading, so a
 * deadline costs no query. Every node sharing the database then judges hold expiry on one clock,
 * whatever its own says: a node 15 minutes fast no longer expires another node's holds early.
 */
export class DatabaseClock implements SharedClock {
  private offsetMs: number | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private warned = false;
  private readonly local: () => number;
  private readonly toleranceMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: DatabaseClockOptions,
  ) {
    this.local = options.local ?? Date.now;
    this.toleranceMs = options.toleranceMs ?? 2000;
  }

  /** Measures once (so the first write already uses the database's time), then keeps measuring. */
  async start(): Promise<void> {
    await this.measure();
    this.timer = setInterval(() => void this.measure().catch(() => {}), this.options.intervalMs ?? 15_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  now(): Date {
    return new Date(this.local() + (this.offsetMs ?? 0));
  }

  status(): ClockStatus {
    if (this.offsetMs === undefined) return { status: 'unmeasured', toleranceMs: this.toleranceMs };
    const skewMs = Math.round(-this.offsetMs);
    return { status: Math.abs(skewMs) > this.toleranceMs ? 'skewed' : 'ok', skewMs, toleranceMs: this.toleranceMs };
  }

  async measure(): Promise<void> {
    const sent = this.local();
    const { rows } = await this.pool.query<{ ms: string }>({
      name: 'database-clock',
      text: 'SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8::text AS ms',
    });
    const received = this.local();
    this.offsetMs = Number(rows[0]!.ms) - (sent + received) / 2;
    this.report();
  }

  private report(): void {
    const { status, skewMs } = this.status();
    if (status === 'skewed' && !this.warned) {
      this.warned = true;
      this.options.logger.warn(
        { skewMs, toleranceMs: this.toleranceMs },
        `this node's clock is ${Math.abs(skewMs!)} ms ${skewMs! > 0 ? 'ahead of' : 'behind'} the database's; deadlines use the database's clock, but fix the system clock (NTP)`,
      );
    } else if (status === 'ok' && this.warned) {
      this.warned = false;
      this.options.logger.info({ skewMs }, "this node's clock agrees with the database's again");
    }
  }
}
