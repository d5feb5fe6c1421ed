import type { Command, EventCounts, Outcome } from './commands.js';
import type { Event } from './types.js';

export type HoldEvent = 'created' | 'confirmed' | 'released' | 'expired';

/** Hooks run synchronously after each committed batch, on the booking path: keep them cheap. */
export interface ServiceObserver {
  /** Every committed batch, command by command, with its outcomes (the log record is one). */
  committed?(commands: readonly Command[], outcomes: readonly Outcome[], millis: number): void;
  batchCommitted?(size: number, millis: number): void;
  bookingDecided?(outcome: 'booked' | 'refused' | 'failed', tickets: number): void;
  /** `tickets` is the total over those holds. */
  holdsChanged?(what: HoldEvent, holds: number, tickets: number): void;
  ticketsCancelled?(tickets: number): void;
  /**
   * A door's scan was decided (not a replay of a nonce): admitted, already_checked_in, conflict,
   * cancelled, invalid_code, wrong_event, ticket_not_found, door_revoked, offline_not_allowed.
   */
  scanDecided?(outcome: string, offline: boolean): void;
  /** A batch failed whole (storage unavailable): nothing of it was applied. */
  failed?(commands: readonly Command[], err: unknown): void;
}

/**
 * Listeners learn about every committed change, e.g. to push live availability. `external` means
 * another process changed something: re-read what you show.
 */
export type Change = EventCounts | { eventId: string; created: Event } | { external: true };
export type ChangeListener = (change: Change) => void;

/** Tells each observer what a committed batch did, derived once from its commands and outcomes. */
export function reportBatch(observers: readonly ServiceObserver[], commands: readonly Command[], outcomes: readonly Outcome[], millis: number): void {
  for (const o of observers) {
    o.committed?.(commands, outcomes, millis);
    o.batchCommitted?.(commands.length, millis);
  }
  for (let i = 0; i < commands.length; i++) {
    const command = commands[i]!;
    const outcome = outcomes[i]!;
    if (outcome.ok && outcome.kind === 'expired') {
      if (outcome.expired > 0) notify(observers, (o) => o.holdsChanged?.('expired', outcome.expired, 0));
      continue;
    }
    if (command.type === 'checkin') {
      if ('replayed' in outcome && outcome.replayed) continue;
      const what = outcome.ok ? (outcome.kind === 'checkin' ? outcome.scan.outcome : 'admitted') : outcome.code === 'ticket_cancelled' ? 'cancelled' : outcome.code;
      notify(observers, (o) => o.scanDecided?.(what, command.scannedAt !== undefined));
      continue;
    }
    if (!outcome.ok) {
      if (outcome.expiredHold) notify(observers, (o) => o.holdsChanged?.('expired', 1, 0));
      if ((command.type === 'book' || command.type === 'hold') && !outcome.replayed) notify(observers, (o) => o.bookingDecided?.('refused', command.tickets));
      continue;
    }
    if (outcome.kind === 'cancelled') notify(observers, (o) => o.ticketsCancelled?.(outcome.cancelled));
    if ('replayed' in outcome && outcome.replayed) continue;
    if (command.type === 'book') notify(observers, (o) => o.bookingDecided?.('booked', command.tickets));
    else if (command.type === 'hold') notify(observers, (o) => o.holdsChanged?.('created', 1, command.tickets));
    else if (command.type === 'confirm' && outcome.kind === 'booking') notify(observers, (o) => o.holdsChanged?.('confirmed', 1, outcome.booking.tickets.length));
    else if (command.type === 'release' && outcome.kind === 'hold' && outcome.counts) notify(observers, (o) => o.holdsChanged?.('released', 1, outcome.hold.tickets));
  }
}

export function reportFailure(observers: readonly ServiceObserver[], commands: readonly Command[], err: unknown): void {
  for (const o of observers) o.failed?.(commands, err);
  for (const command of commands) {
    if (command.type === 'book' || command.type === 'hold') notify(observers, (o) => o.bookingDecided?.('failed', command.tickets));
  }
}

function notify(observers: readonly ServiceObserver[], call: (o: ServiceObserver) => void): void {
  for (const o of observers) call(o);
}
