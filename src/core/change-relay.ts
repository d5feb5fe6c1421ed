import type { Command, EventCounts, Outcome } from './commands.js';
import type { EventCatalog } from './event-catalog.js';
import type { Logger } from './logger.js';
import { reportBatch, type Change, type ChangeListener, type ServiceObserver } from './observers.js';

/** How long bursts of other processes' commits are gathered into one cache invalidation. */
export const EXTERNAL_CHANGE_COALESCE_MS = 100;

/**
 * What follows a commit: the caches learn the new counts and the change listeners (the live stream,
 * the in-process TUI) hear them, in commit order; other processes' commits invalidate the caches,
 * coalesced so a busy neighbour node costs one re-read per window instead of one per commit.
 */
export class ChangeRelay {
  private readonly listeners = new Set<ChangeListener>();
  private invalidateTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly catalog: EventCatalog,
    private readonly observers: ServiceObserver[],
    private readonly logger: Logger,
  ) {}

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs before any waiter of the batch resumes: caches and listeners see commits in commit order. */
  committed(commands: readonly Command[], outcomes: readonly Outcome[], millis: number): void {
    for (const outcome of outcomes) {
      if (outcome.ok && outcome.kind === 'event') {
        this.catalog.added(outcome.event);
        this.emit({ eventId: outcome.event.id, created: outcome.event });
      } else if (outcome.ok && outcome.kind === 'expired') {
        for (const counts of outcome.counts) this.noteCounts(counts);
      } else if (outcome.ok && outcome.kind === 'settings') {
        this.catalog.added(outcome.event);
        this.emit({ external: true });
      } else if (outcome.ok && (outcome.kind === 'door' || outcome.kind === 'queueEntry' || outcome.kind === 'queueLine')) {
        // Nothing cached: the waiting room publishes its own coalesced news (waiting-room.ts).
      } else if (outcome.counts) {
        this.noteCounts(outcome.counts);
      }
    }
    reportBatch(this.observers, commands, outcomes, millis);
  }

  /** Another process committed: re-read the caches (once per window) and tell the listeners. */
  externalChange(): void {
    if (this.invalidateTimer) return;
    this.invalidateTimer = setTimeout(() => {
      this.invalidateTimer = undefined;
      this.catalog.invalidateAll();
      this.emit({ external: true });
    }, EXTERNAL_CHANGE_COALESCE_MS);
    this.invalidateTimer.unref?.();
  }

  close(): void {
    clearTimeout(this.invalidateTimer);
  }

  private noteCounts(counts: EventCounts): void {
    if (this.catalog.countsChanged(counts)) this.emit(counts);
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.warn({ err }, 'change listener failed');
      }
    }
  }
}
