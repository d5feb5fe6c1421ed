import type { KeyClaim, Outcome, WriteBatch } from '../../core/commands.js';
import { buyerKey, type BuyerTickets, type Effects, type StoredBooking, type StoredHold, type StoredKey } from '../../core/effects.js';
import { publicHold } from '../../core/presenting.js';
import { compareEvents } from '../../core/event-catalog.js';
import { systemIdentity, type IdSource } from '../../core/identity.js';
import type { RowAccess, Store } from '../../core/store.js';
import type { Event, Hold, Ticket } from '../../core/types.js';
import { runWrite } from '../../core/write-plan.js';

/**
 * Everything in process memory: for tests and `--db :memory:`. Not durable by design. A write runs
 * the shared plan without yielding, so it is atomic; `apply` checks every guard before it changes
 * anything, so a refused effect leaves nothing half-applied.
 */
export class MemoryStore implements Store, RowAccess {
  readonly kind = 'memory';
  private readonly eventRows = new Map<string, Event>();
  private readonly bookingRows = new Map<string, Omit<StoredBooking, 'tickets'> & { ticketIds: string[] }>();
  private readonly ticketRows = new Map<string, Ticket>();
  private readonly holdRows = new Map<string, StoredHold>();
  private readonly buyerRows = new Map<string, BuyerTickets>();
  private readonly keyRows = new Map<string, StoredKey>();
  private readonly ids: IdSource;

  constructor(ids?: IdSource) {
    this.ids = ids ?? systemIdentity;
  }

  async write(batch: WriteBatch): Promise<Outcome[]> {
    return runWrite(batch, this, this.ids);
  }

  async getEvent(id: string): Promise<Event | undefined> {
    const event = this.eventRows.get(id);
    return event && { ...event };
  }

  async listEvents(): Promise<Event[]> {
    return [...this.eventRows.values()].map((e) => ({ ...e })).sort(compareEvents);
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const ticket = this.ticketRows.get(id);
    return ticket && { ...ticket };
  }

  async getBooking(id: string): Promise<StoredBooking | undefined> {
    return this.readBooking(id);
  }

  async countTickets(eventId: string): Promise<number> {
    let count = 0;
    for (const ticket of this.ticketRows.values()) if (ticket.eventId === eventId && ticket.status === 'valid') count++;
    return count;
  }

  async getHold(id: string): Promise<Hold | undefined> {
    const hold = this.holdRows.get(id);
    return hold && publicHold(hold);
  }

  async nextHoldExpiry(): Promise<string | undefined> {
    let next: string | undefined;
    for (const hold of this.holdRows.values()) if (hold.status === 'active' && (next === undefined || hold.expiresAt < next)) next = hold.expiresAt;
    return next;
  }

  async purgeIdempotencyKeys(before: Date): Promise<number> {
    const cutoff = before.toISOString();
    let purged = 0;
    for (const [key, row] of this.keyRows) {
      if (row.createdAt < cutoff) {
        this.keyRows.delete(key);
        purged++;
      }
    }
    return purged;
  }

  async close(): Promise<void> {}

  // RowAccess: what the write plan reads and applies.

  claimKeys(claims: KeyClaim[]): StoredKey[] {
    return this.keys(claims.map((c) => c.key));
  }

  keys(keys: string[]): StoredKey[] {
    return keys.flatMap((k) => (this.keyRows.has(k) ? [{ ...this.keyRows.get(k)! }] : []));
  }

  holds(ids: string[]): StoredHold[] {
    return ids.flatMap((id) => (this.holdRows.has(id) ? [{ ...this.holdRows.get(id)! }] : []));
  }

  dueHolds(now: string, limit: number): StoredHold[] {
    const due: StoredHold[] = [];
    for (const hold of this.holdRows.values()) if (hold.status === 'active' && Date.parse(hold.expiresAt) <= Date.parse(now)) due.push({ ...hold });
    return due.sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, limit);
  }

  buyers(pairs: Array<{ eventId: string; buyer: string }>): BuyerTickets[] {
    return pairs.flatMap(({ eventId, buyer }) => {
      const row = this.buyerRows.get(buyerKey(eventId, buyer));
      return row ? [{ ...row }] : [];
    });
  }

  bookings(ids: string[]): StoredBooking[] {
    return ids.flatMap((id) => this.readBooking(id) ?? []);
  }

  events(ids: string[]): Event[] {
    return ids.flatMap((id) => (this.eventRows.has(id) ? [{ ...this.eventRows.get(id)! }] : []));
  }

  apply(effects: Effects): void {
    this.checkGuards(effects);
    for (const event of effects.newEvents) this.eventRows.set(event.id, { ...event });
    for (const [eventId, move] of effects.stock) {
      const event = this.eventRows.get(eventId)!;
      event.availableTickets += move.available;
      event.heldTickets += move.held;
    }
    for (const booking of effects.newBookings) {
      const { tickets, ...row } = booking;
      this.bookingRows.set(booking.id, { ...row, ticketIds: tickets.map((t) => t.id) });
      for (const ticket of tickets) this.ticketRows.set(ticket.id, { ...ticket });
    }
    for (const [key, move] of effects.buyers) {
      const row = this.buyerRows.get(key) ?? { eventId: move.eventId, buyer: move.buyer, held: 0, bought: 0 };
      this.buyerRows.set(key, { ...row, held: row.held + move.held, bought: row.bought + move.bought });
    }
    for (const hold of effects.newHolds) this.holdRows.set(hold.id, { ...hold });
    for (const ending of effects.endedHolds) {
      const hold = this.holdRows.get(ending.id)!;
      this.holdRows.set(ending.id, ending.bookingId ? { ...hold, status: ending.status, bookingId: ending.bookingId } : { ...hold, status: ending.status });
    }
    for (const cancellation of effects.cancelledTickets) for (const id of cancellation.ticketIds) this.ticketRows.get(id)!.status = 'cancelled';
    for (const key of effects.rememberKeys) this.keyRows.set(key.key, { ...key });
  }

  /** The memory store's conditional writes: every check runs before the first change. */
  private checkGuards(effects: Effects): void {
    for (const event of effects.newEvents) if (this.eventRows.has(event.id)) throw new Error(`event ${event.id} already exists`);
    for (const [eventId, move] of effects.stock) {
      const event = this.eventRows.get(eventId) ?? effects.newEvents.find((e) => e.id === eventId);
      if (!event || event.availableTickets + move.available < 0 || event.heldTickets + move.held < 0) throw new Error(`stock of event ${eventId} would go below zero`);
      if (event.availableTickets + move.available + event.heldTickets + move.held > event.totalTickets) throw new Error(`stock of event ${eventId} would exceed its total`);
    }
    for (const [key, move] of effects.buyers) {
      const row = this.buyerRows.get(key);
      if ((row?.held ?? 0) + move.held < 0 || (row?.bought ?? 0) + move.bought < 0) throw new Error(`a buyer's counters of event ${move.eventId} would go below zero`);
    }
    for (const ending of effects.endedHolds) if (this.holdRows.get(ending.id)?.status !== 'active') throw new Error(`hold ${ending.id} is no longer active`);
    for (const c of effects.cancelledTickets) {
      for (const id of c.ticketIds) if (this.ticketRows.get(id)?.status !== 'valid' || this.ticketRows.get(id)?.bookingId !== c.bookingId) throw new Error(`ticket ${id} cannot be cancelled`);
    }
  }

  private readBooking(id: string): StoredBooking | undefined {
    const row = this.bookingRows.get(id);
    if (!row) return undefined;
    const { ticketIds, ...rest } = row;
    return { ...rest, tickets: ticketIds.map((t) => ({ ...this.ticketRows.get(t)! })) };
  }
}
