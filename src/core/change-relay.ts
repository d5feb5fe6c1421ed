import type { Command, EventCounts, Outcome } from './commands.js';
import type { EventCatalog } from './event-catalog.js';
import type { Logger } from './logger.js';
import type { CommittedChange, SharedCommit } from './store.js';
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
    private readonly sharedCommits = false,
  ) {}

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs before any waiter of the batch resumes: caches and listeners see commits in commit order.
   * Where a shared writer pushes every commit (`sharedCommits`), the caches follow those pushes
   * instead, and this process's own batches are only reported.
   */
  committed(commands: readonly Command[], outcomes: readonly Outcome[], millis: number): void {
    if (!this.sharedCommits) this.apply(changesOf(outcomes));
    reportBatch(this.observers, commands, outcomes, millis);
  }

  /** A commit the shared writer pushed (this process's or another's), in commit order. */
  sharedCommit(commit: SharedCommit): void {
    this.apply(commit.changes);
    if (commit.report) reportBatch(this.observers, commit.report.commands, commit.report.outcomes, commit.report.millis);
  }

  private apply(changes: readonly CommittedChange[]): void {
    for (const change of changes) {
      if ('created' in change) {
        this.catalog.added(change.created);
        this.emit({ eventId: change.created.id, created: change.created });
      } else if ('settings' in change) {
        this.catalog.added(change.settings);
        this.emit({ external: true });
      } else {
        this.noteCounts(change.counts);
      }
    }
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

/** What the caches and listeners need of a batch's outcomes, in order. */
export function changesOf(outcomes: readonly Outcome[]): CommittedChange[] {
  const changes: CommittedChange[] = [];
  for (const outcome of outcomes) {
    if (outcome.ok && outcome.kind === 'event') changes.push({ created: outcome.event });
    else if (outcome.ok && outcome.kind === 'expired') for (const counts of outcome.counts) changes.push({ counts });
    else if (outcome.ok && outcome.kind === 'settings') changes.push({ settings: outcome.event });
    // Nothing cached for doors; the waiting room publishes its own coalesced news (waiting-room.ts).
    else if (outcome.ok && (outcome.kind === 'door' || outcome.kind === 'queueEntry' || outcome.kind === 'queueLine')) continue;
    else if (outcome.counts) changes.push({ counts: outcome.counts });
  }
  return changes;
}

/**
 * The same changes with only each event's last counts: a later count supersedes an earlier one, so
 * a commit of 1,000 bookings on one event is pushed to the other processes as one count.
 */
export function latestCounts(changes: readonly CommittedChange[]): CommittedChange[] {
  const seen = new Set<string>();
  const kept: CommittedChange[] = [];
  for (let i = changes.length - 1; i >= 0; i--) {
    const change = changes[i]!;
    if ('counts' in change) {
      if (seen.has(change.counts.eventId)) continue;
      seen.add(change.counts.eventId);
    }
    kept.push(change);
  }
  return kept.reverse();
}
