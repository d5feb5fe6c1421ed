/**
 * Whether storage works, as /readyz reports it: a load balancer should stop sending bookings to a
 * node whose writes keep failing (full disk, damaged file) and send them again once they work.
 *
 * Reads and writes are judged apart (on a full disk reads still work while every write fails). A
 * kind is failing after FAILURES_TO_FAIL consecutive failures, or at once after an error that says
 * the file is damaged; one success makes it healthy again. A failing node gets no traffic, so
 * nothing would ever succeed to clear it: FAILING_FOR_MS after the last failure it reports ready
 * again and lets traffic try (a half-open circuit). A fault the store reports itself (its journal
 * is gone) lasts until restart.
 */
export const FAILURES_TO_FAIL = 3;
export const FAILING_FOR_MS = 10_000;

export interface StorageStatus {
  /** failing: storage calls keep failing; unreachable: the readiness ping got no answer. */
  status: 'ok' | 'failing' | 'unreachable';
  /** Why, for an operator: the latest error, or the store's own fault. */
  reason?: string;
}

type Kind = 'read' | 'write';

interface Streak {
  failures: number;
  lastFailureAt: number;
  reason: string;
}

const DAMAGED = /malformed|not a database|SQLITE_CORRUPT|SQLITE_NOTADB/i;

export class StorageHealth {
  private readonly streaks: Record<Kind, Streak> = {
    read: { failures: 0, lastFailureAt: 0, reason: '' },
    write: { failures: 0, lastFailureAt: 0, reason: '' },
  };

  constructor(private readonly now: () => number = Date.now) {}

  succeeded(kind: Kind): void {
    this.streaks[kind].failures = 0;
  }

  failed(kind: Kind, err: unknown): void {
    const streak = this.streaks[kind];
    const reason = describe(err);
    streak.failures = DAMAGED.test(reason) || DAMAGED.test(codeOf(err)) ? Math.max(streak.failures + 1, FAILURES_TO_FAIL) : streak.failures + 1;
    streak.lastFailureAt = this.now();
    streak.reason = reason;
  }

  /** `fault`: a condition the store reports itself, which no success clears. */
  status(fault?: string): StorageStatus {
    if (fault) return { status: 'failing', reason: fault };
    for (const kind of ['write', 'read'] as const) {
      const streak = this.streaks[kind];
      if (streak.failures >= FAILURES_TO_FAIL && this.now() - streak.lastFailureAt < FAILING_FOR_MS) {
        return { status: 'failing', reason: `the last ${streak.failures} storage ${kind}s failed: ${streak.reason}` };
      }
    }
    return { status: 'ok' };
  }
}

function describe(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  const inner = cause instanceof Error ? cause : err;
  return (inner instanceof Error ? inner.message : String(inner)).split('\n')[0]!.slice(0, 200);
}

function codeOf(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause ?? err;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : '';
}
