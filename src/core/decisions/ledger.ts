import type { EventCounts, Outcome } from '../commands.js';
import { noEffects, type Effects, type StoredBooking, type StoredKey } from '../effects.js';
import { hashSecret, newSecret, type IdSource } from '../identity.js';
import type { Booking, Event, Hold } from '../types.js';

/** How long an idempotency key (and a confirmation's first answer) is remembered. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** The rows a batch touches, as read inside its transaction. */
export interface LoadedRows {
  events: ReadonlyMap<string, Event>;
  holds: ReadonlyMap<string, Hold>;
  bookings: ReadonlyMap<string, StoredBooking>;
  /** Live (younger than the TTL) idempotency rows: client keys and confirmation keys. */
  keys: ReadonlyMap<string, StoredKey>;
  /** Active holds due at the batch's `now` (only when the batch expires holds). */
  dueHolds: readonly Hold[];
}

/**
 * The batch's working copy of the rows it read, and the effects decided so far. Every decision
 * reads and changes rows through it, so a later command of the batch sees what an earlier one did
 * (FIFO), and every change is recorded once, as an effect for the adapter to apply.
 */
export class Ledger {
  readonly effects: Effects = noEffects();
  readonly now: Date;
  readonly nowIso: string;
  /** Client keys already decided in this batch, with their outcome. */
  readonly keysDecided = new Map<string, { fingerprint: string; outcome: Outcome }>();
  private readonly events = new Map<string, Event>();
  private readonly holds = new Map<string, Hold>();
  private readonly bookings = new Map<string, StoredBooking>();
  /** Events created by this batch: their counters are written with the new row, not moved. */
  private readonly created = new Map<string, number>();

  constructor(
    nowIso: string,
    readonly rows: LoadedRows,
    readonly ids: IdSource,
  ) {
    this.nowIso = nowIso;
    this.now = new Date(nowIso);
  }

  event(id: string): Event | undefined {
    return this.events.get(id) ?? this.rows.events.get(id);
  }

  hold(id: string): Hold | undefined {
    return this.holds.get(id) ?? this.rows.holds.get(id);
  }

  booking(id: string): StoredBooking | undefined {
    return this.bookings.get(id) ?? this.rows.bookings.get(id);
  }

  /** A remembered idempotency row, if still live. */
  key(key: string): StoredKey | undefined {
    const row = this.rows.keys.get(key);
    return row && Date.parse(row.createdAt) > this.now.getTime() - IDEMPOTENCY_KEY_TTL_MS ? row : undefined;
  }

  counts(eventId: string): EventCounts {
    const event = this.event(eventId)!;
    return { eventId, availableTickets: event.availableTickets, heldTickets: event.heldTickets };
  }

  createEvent(event: Event): void {
    this.events.set(event.id, { ...event });
    this.created.set(event.id, this.effects.newEvents.push({ ...event }) - 1);
  }

  /** Moves an event's counters and returns its counts after the move. */
  moveStock(eventId: string, available: number, held: number): EventCounts {
    const event = this.event(eventId)!;
    const moved = { ...event, availableTickets: event.availableTickets + available, heldTickets: event.heldTickets + held };
    this.events.set(eventId, moved);
    const created = this.created.get(eventId);
    if (created !== undefined) {
      this.effects.newEvents[created] = { ...moved };
      return this.counts(eventId);
    }
    const move = this.effects.stock.get(eventId) ?? { available: 0, held: 0 };
    move.available += available;
    move.held += held;
    this.effects.stock.set(eventId, move);
    return this.counts(eventId);
  }

  /** A new booking of `count` fresh tickets (ids sorted, so every store reads it back in this order). */
  addBooking(eventId: string, count: number): Booking {
    const bookingId = this.ids.newId();
    const ticketIds: string[] = [];
    for (let i = 0; i < count; i++) ticketIds.push(this.ids.newId());
    ticketIds.sort();
    const secret = newSecret(this.ids);
    const tickets = ticketIds.map((id) => ({ id, eventId, bookingId, status: 'valid' as const }));
    const booking: Booking = { id: bookingId, eventId, createdAt: this.nowIso, tickets, secret };
    const stored: StoredBooking = { id: bookingId, eventId, createdAt: this.nowIso, tickets, secretHash: hashSecret(secret) };
    this.bookings.set(bookingId, stored);
    this.effects.newBookings.push(stored);
    return booking;
  }

  addHold(hold: Hold): void {
    this.holds.set(hold.id, hold);
    this.effects.newHolds.push(hold);
  }

  endHold(hold: Hold, status: 'confirmed' | 'released' | 'expired', bookingId?: string): Hold {
    const ended: Hold = bookingId ? { ...hold, status, bookingId } : { ...hold, status };
    this.holds.set(hold.id, ended);
    this.effects.endedHolds.push(bookingId ? { id: hold.id, status, bookingId } : { id: hold.id, status });
    return ended;
  }

  cancelTickets(booking: StoredBooking, ticketIds: string[]): StoredBooking {
    const gone = new Set(ticketIds);
    const after = { ...booking, tickets: booking.tickets.map((t) => (gone.has(t.id) ? { ...t, status: 'cancelled' as const } : t)) };
    this.bookings.set(booking.id, after);
    this.effects.cancelledTickets.push({ bookingId: booking.id, eventId: booking.eventId, ticketIds, at: this.nowIso });
    return after;
  }

  remember(key: string, fingerprint: string, result: string): void {
    this.effects.rememberKeys.push({ key, fingerprint, result, createdAt: this.nowIso });
  }

  forget(key: string): void {
    this.effects.forgetKeys.push(key);
  }
}
