import { decideBatch, type IdentitySource } from '../../core/decide-batch.js';
import { compareEvents } from '../../core/event-catalog.js';
import {
  confirmationKey,
  decideCancel,
  decideConfirm,
  decideRelease,
  publicBooking,
  rememberConfirmation,
  replayConfirmation,
  withCancelled,
} from '../../core/hold-decisions.js';
import { hashSecret, systemIdentity } from '../../core/identity.js';
import type {
  BookingOutcome,
  BookingRequest,
  CancelOutcome,
  ConfirmOutcome,
  EventCounts,
  ExpiryResult,
  HoldOutcome,
  Store,
  StoredBooking,
  StoredKey,
} from '../../core/store.js';
import type { Event, Hold, Ticket } from '../../core/types.js';

/** Everything in process memory: for tests and `--db :memory:`. Not durable by design. */
export class MemoryStore implements Store {
  readonly kind = 'memory';
  private readonly events = new Map<string, Event>();
  private readonly bookings = new Map<string, StoredBooking>();
  private readonly tickets = new Map<string, Ticket>();
  private readonly holds = new Map<string, Hold>();
  private readonly keys = new Map<string, StoredKey>();
  private readonly identity: IdentitySource;

  constructor(identity?: IdentitySource) {
    this.identity = identity ?? systemIdentity;
  }

  async createEvent(event: Event): Promise<void> {
    if (this.events.has(event.id)) throw new Error(`event ${event.id} already exists`);
    this.events.set(event.id, { ...event });
  }

  async getEvent(id: string): Promise<Event | undefined> {
    const event = this.events.get(id);
    return event && { ...event };
  }

  async listEvents(): Promise<Event[]> {
    return [...this.events.values()].map((e) => ({ ...e })).sort(compareEvents);
  }

  async commitBookings(requests: readonly BookingRequest[]): Promise<BookingOutcome[]> {
    const decision = decideBatch(requests, this.events, this.keys, this.identity);
    // Check every event before touching any, so a batch applies whole or not at all.
    for (const [eventId, { taken }] of decision.changes) {
      if (this.events.get(eventId)!.availableTickets < taken) throw new Error(`oversell prevented on event ${eventId}`);
    }
    for (const [eventId, { taken, held }] of decision.changes) {
      const event = this.events.get(eventId)!;
      event.availableTickets -= taken;
      event.heldTickets += held;
    }
    for (const booking of decision.bookings) this.insertBooking(booking);
    for (const hold of decision.holds) this.holds.set(hold.id, { ...hold });
    for (const key of decision.keys) this.keys.set(key.key, { ...key });
    return decision.outcomes;
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const ticket = this.tickets.get(id);
    return ticket && { ...ticket };
  }

  async getBooking(id: string): Promise<StoredBooking | undefined> {
    const booking = this.bookings.get(id);
    return booking && { ...booking, tickets: booking.tickets.map((t) => ({ ...this.tickets.get(t.id)! })) };
  }

  async countTickets(eventId: string): Promise<number> {
    let count = 0;
    for (const ticket of this.tickets.values()) if (ticket.eventId === eventId && ticket.status === 'valid') count++;
    return count;
  }

  async getHold(id: string): Promise<Hold | undefined> {
    const hold = this.holds.get(id);
    return hold && { ...hold };
  }

  async confirmHold(id: string, now: Date): Promise<ConfirmOutcome> {
    const hold = this.holds.get(id);
    const decision = decideConfirm(hold && { ...hold }, id, now, this.identity);
    switch (decision.action) {
      case 'refuse':
        return { ok: false, error: decision.error };
      case 'replay':
        return {
          ok: true,
          booking: replayConfirmation(publicBooking((await this.getBooking(decision.bookingId))!), this.keys.get(confirmationKey(id))),
          replayed: true,
        };
      case 'expire':
        return { ok: false, error: decision.error, counts: this.expire(hold!) };
      case 'confirm': {
        const event = this.events.get(hold!.eventId)!;
        if (event.heldTickets < hold!.tickets) throw new Error(`held count of event ${event.id} is short`);
        event.heldTickets -= hold!.tickets;
        this.insertBooking(decision.booking);
        this.holds.set(id, { ...hold!, status: 'confirmed', bookingId: decision.booking.id });
        const remembered = rememberConfirmation(id, decision.booking);
        this.keys.set(remembered.key, remembered);
        return { ok: true, booking: decision.booking, counts: countsOf(event), replayed: false };
      }
    }
  }

  async releaseHold(id: string, now: Date): Promise<HoldOutcome> {
    const hold = this.holds.get(id);
    const decision = decideRelease(hold && { ...hold }, id, now);
    switch (decision.action) {
      case 'refuse':
        return { ok: false, error: decision.error };
      case 'replay':
        return { ok: true, hold: decision.hold };
      case 'expire':
        return { ok: false, error: decision.error, counts: this.expire(hold!) };
      case 'release':
        this.holds.set(id, decision.hold);
        return { ok: true, hold: decision.hold, counts: this.returnToStock(hold!) };
    }
  }

  async expireHolds(now: Date): Promise<ExpiryResult> {
    const counts = new Map<string, EventCounts>();
    let expired = 0;
    for (const hold of this.holds.values()) {
      if (hold.status !== 'active' || Date.parse(hold.expiresAt) > now.getTime()) continue;
      const c = this.expire(hold);
      if (c) counts.set(c.eventId, c);
      expired++;
    }
    return { expired, counts: [...counts.values()] };
  }

  async nextHoldExpiry(): Promise<string | undefined> {
    let next: string | undefined;
    for (const hold of this.holds.values()) if (hold.status === 'active' && (next === undefined || hold.expiresAt < next)) next = hold.expiresAt;
    return next;
  }

  async cancelBooking(id: string, ticketIds: readonly string[] | undefined): Promise<CancelOutcome> {
    // Read, decide and apply without yielding, so two cancellations can never both apply.
    const stored = this.bookings.get(id);
    const booking = stored && { ...stored, tickets: stored.tickets.map((t) => ({ ...this.tickets.get(t.id)! })) };
    const decision = decideCancel(booking, id, ticketIds);
    if (decision.action === 'refuse') return { ok: false, error: decision.error };
    for (const ticketId of decision.ticketIds) this.tickets.get(ticketId)!.status = 'cancelled';
    const event = this.events.get(booking!.eventId)!;
    event.availableTickets += decision.ticketIds.length;
    return { ok: true, booking: publicBooking(withCancelled(booking!, decision.ticketIds)), counts: countsOf(event), cancelled: decision.ticketIds.length };
  }

  async purgeIdempotencyKeys(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    let purged = 0;
    for (const [key, row] of this.keys) {
      if (row.createdAt < cutoff) {
        this.keys.delete(key);
        purged++;
      }
    }
    return purged;
  }

  async close(): Promise<void> {}

  private insertBooking(booking: StoredBooking): void {
    const { secret, ...stored } = booking;
    this.bookings.set(booking.id, { ...stored, secretHash: secret ? hashSecret(secret) : undefined });
    for (const ticket of booking.tickets) this.tickets.set(ticket.id, { ...ticket });
  }

  /** Marks an active hold expired and returns its tickets; a hold that is no longer active is left alone. */
  private expire(hold: Hold): EventCounts | undefined {
    const current = this.holds.get(hold.id)!;
    if (current.status !== 'active') return undefined;
    this.holds.set(hold.id, { ...current, status: 'expired' });
    return this.returnToStock(current);
  }

  private returnToStock(hold: Hold): EventCounts {
    const event = this.events.get(hold.eventId)!;
    if (event.heldTickets < hold.tickets) throw new Error(`held count of event ${event.id} is short`);
    event.heldTickets -= hold.tickets;
    event.availableTickets += hold.tickets;
    return countsOf(event);
  }
}

function countsOf(event: Event): EventCounts {
  return { eventId: event.id, availableTickets: event.availableTickets, heldTickets: event.heldTickets };
}
