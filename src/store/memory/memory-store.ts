import type { KeyClaim, Outcome, WriteBatch } from '../../core/commands.js';
import { buyerKey, type Admission, type BuyerTickets, type Effects, type StoredBooking, type StoredDoor, type StoredHold, type StoredKey, type StoredScan, type TicketRef } from '../../core/effects.js';
import { publicDoor } from '../../core/decisions/index.js';
import { publicHold } from '../../core/presenting.js';
import { compareEvents } from '../../core/event-catalog.js';
import { systemIdentity, type IdSource } from '../../core/identity.js';
import type { RowAccess, Store } from '../../core/store.js';
import type { AdminBooking, AttendeeRow, DoorSummary, Event, Hold, ScanRecord, Ticket } from '../../core/types.js';
import { runWrite } from '../../core/write-plan.js';
import type { QueueEntryQuery, QueueLine, QueueLineRead, StoredQueueEntry } from '../../core/queue-effects.js';
import type { QueueCounts } from '../../core/store.js';
import { MemoryQueue } from './memory-queue.js';

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
  private readonly doorRows = new Map<string, StoredDoor>();
  /** By ticket id: at most one admission per ticket. */
  private readonly admissionRows = new Map<string, Admission>();
  private readonly scanRows: StoredScan[] = [];
  private readonly ids: IdSource;
  private readonly queue = new MemoryQueue();

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

  async getDoor(id: string): Promise<StoredDoor | undefined> {
    const door = this.doorRows.get(id);
    return door && { ...door };
  }

  async listDoors(eventId: string): Promise<DoorSummary[]> {
    const admitted = new Map<string, number>();
    for (const a of this.admissionRows.values()) if (a.eventId === eventId) admitted.set(a.doorId, (admitted.get(a.doorId) ?? 0) + 1);
    return [...this.doorRows.values()]
      .filter((d) => d.eventId === eventId)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1))
      .map((d) => ({ ...publicDoor(d), admitted: admitted.get(d.id) ?? 0 }));
  }

  async doorList(eventId: string): Promise<{ cancelled: string[]; checkedIn: string[] }> {
    const cancelled: string[] = [];
    for (const t of this.ticketRows.values()) if (t.eventId === eventId && t.status === 'cancelled') cancelled.push(t.id);
    const checkedIn = [...this.admissionRows.values()].filter((a) => a.eventId === eventId).map((a) => a.ticketId);
    return { cancelled: cancelled.sort(), checkedIn: checkedIn.sort() };
  }

  async scans(eventId: string, limit: number): Promise<{ recent: ScanRecord[]; conflicts: ScanRecord[] }> {
    const mine = this.scanRows.filter((s) => s.eventId === eventId);
    const conflicted = new Set(mine.filter((s) => s.outcome === 'conflict').map((s) => s.ticketId));
    const record = (s: StoredScan): ScanRecord => ({ ticketId: s.ticketId, door: { id: s.doorId, name: this.doorRows.get(s.doorId)?.name ?? '' }, at: s.at, outcome: s.outcome, offline: s.offline });
    return {
      recent: mine.slice(-limit).reverse().map(record),
      conflicts: mine.filter((s) => conflicted.has(s.ticketId) && (s.outcome === 'admitted' || s.outcome === 'conflict')).map(record),
    };
  }

  async attendees(eventId: string): Promise<AttendeeRow[]> {
    const rows: AttendeeRow[] = [];
    const bookings = [...this.bookingRows.values()].filter((b) => b.eventId === eventId).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    for (const booking of bookings) {
      for (const ticketId of [...booking.ticketIds].sort()) {
        const ticket = this.ticketRows.get(ticketId)!;
        const admission = this.admissionRows.get(ticketId);
        const row: AttendeeRow = { ticketId, bookingId: booking.id, bookedAt: booking.createdAt, status: ticket.status };
        if (booking.contact?.name) row.name = booking.contact.name;
        if (booking.contact?.email) row.email = booking.contact.email;
        if (admission) {
          row.checkedInAt = admission.at;
          row.door = this.doorRows.get(admission.doorId)?.name ?? '';
        }
        rows.push(row);
      }
    }
    return rows;
  }

  async eventBookings(eventId: string, query: { search?: string; offset: number; limit: number }): Promise<{ total: number; bookings: AdminBooking[] }> {
    const needle = query.search?.toLowerCase();
    const matches = (b: { id: string; contact?: { name?: string; email?: string } }) =>
      needle === undefined ||
      b.id.startsWith(needle) ||
      (b.contact?.name ?? '').toLowerCase().includes(needle) ||
      (b.contact?.email ?? '').toLowerCase().includes(needle);
    const found = [...this.bookingRows.values()]
      .filter((b) => b.eventId === eventId && matches(b))
      .sort((a, b) => (a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? 1 : -1));
    const bookings = found.slice(query.offset, query.offset + query.limit).map((b): AdminBooking => {
      const tickets = [...b.ticketIds].sort().map((id) => ({ ...this.ticketRows.get(id)! }));
      const cancelledTickets = tickets.filter((t) => t.status === 'cancelled').length;
      const row: AdminBooking = {
        id: b.id,
        eventId: b.eventId,
        createdAt: b.createdAt,
        tickets,
        validTickets: tickets.length - cancelledTickets,
        cancelledTickets,
        checkedIn: tickets.filter((t) => this.admissionRows.has(t.id)).length,
        status: cancelledTickets === 0 ? 'active' : cancelledTickets === tickets.length ? 'cancelled' : 'partly_cancelled',
      };
      if (b.contact) row.buyer = { ...b.contact };
      return row;
    });
    return { total: found.length, bookings };
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

  lockActiveHolds(): void {
    // One event loop, no row locks.
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

  tickets(ids: string[]): TicketRef[] {
    return ids.flatMap((id) => {
      const t = this.ticketRows.get(id);
      return t ? [{ id: t.id, eventId: t.eventId, bookingId: t.bookingId, cancelled: t.status === 'cancelled' }] : [];
    });
  }

  doors(ids: string[]): StoredDoor[] {
    return ids.flatMap((id) => (this.doorRows.has(id) ? [{ ...this.doorRows.get(id)! }] : []));
  }

  admissions(ticketIds: string[]): Admission[] {
    return ticketIds.flatMap((id) => (this.admissionRows.has(id) ? [{ ...this.admissionRows.get(id)! }] : []));
  }

  queueLines(eventIds: string[], now: string): QueueLineRead[] {
    return this.queue.lines(eventIds, now);
  }

  queueEntries(query: QueueEntryQuery): StoredQueueEntry[] {
    return this.queue.entries(query);
  }

  async getQueueEntry(id: string): Promise<StoredQueueEntry | undefined> {
    return this.queue.entry(id);
  }

  async queueLine(eventId: string): Promise<QueueLine | undefined> {
    return this.queue.line(eventId);
  }

  async queueSummary(eventId: string, now: string): Promise<QueueCounts | undefined> {
    return this.queue.summary(eventId, now);
  }

  async waitingRoomEvents(now: string): Promise<string[]> {
    return [...this.eventRows.values()].filter((e) => e.waitingRoom && e.status === 'scheduled' && e.date > now).map((e) => e.id);
  }

  async sharedKey(name: string): Promise<string> {
    return this.queue.sharedKey(name);
  }

  apply(effects: Effects): void {
    this.checkGuards(effects);
    this.queue.check(effects.queue);
    for (const event of effects.newEvents) this.eventRows.set(event.id, { ...event });
    for (const [eventId, move] of effects.stock) {
      const event = this.eventRows.get(eventId)!;
      event.availableTickets += move.available;
      event.heldTickets += move.held;
      event.checkedInTickets += move.checkedIn ?? 0;
      const fields = effects.eventUpdates.get(eventId);
      if (fields) Object.assign(event, fields);
    }
    for (const [eventId, settings] of effects.eventSettings) this.eventRows.get(eventId)!.offlineCheckIn = settings.offlineCheckIn;
    for (const door of effects.newDoors) this.doorRows.set(door.id, { ...door });
    for (const r of effects.revokedDoors) this.doorRows.set(r.id, { ...this.doorRows.get(r.id)!, revokedAt: r.at });
    for (const a of effects.admissions) this.admissionRows.set(a.ticketId, { ...a });
    for (const scan of effects.scans) this.scanRows.push({ ...scan });
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
    for (const c of effects.cancelledEvents) {
      for (const ticket of this.ticketRows.values()) if (ticket.eventId === c.eventId) ticket.status = 'cancelled';
      for (const hold of this.holdRows.values()) if (hold.eventId === c.eventId && hold.status === 'active') hold.status = 'released';
    }
    for (const key of effects.rememberKeys) this.keyRows.set(key.key, { ...key });
    for (const [eventId, sale] of effects.saleSettings) Object.assign(this.eventRows.get(eventId)!, sale);
    this.queue.apply(effects.queue);
  }

  /** The memory store's conditional writes: every check runs before the first change. */
  private checkGuards(effects: Effects): void {
    for (const event of effects.newEvents) if (this.eventRows.has(event.id)) throw new Error(`event ${event.id} already exists`);
    for (const [eventId, move] of effects.stock) {
      const event = this.eventRows.get(eventId) ?? effects.newEvents.find((e) => e.id === eventId);
      if (!event || event.availableTickets + move.available < 0 || event.heldTickets + move.held < 0) throw new Error(`stock of event ${eventId} would go below zero`);
      const total = effects.eventUpdates.get(eventId)?.totalTickets ?? event.totalTickets;
      if (event.availableTickets + move.available + event.heldTickets + move.held > total) throw new Error(`stock of event ${eventId} would exceed its total`);
    }
    for (const [key, move] of effects.buyers) {
      const row = this.buyerRows.get(key);
      if ((row?.held ?? 0) + move.held < 0 || (row?.bought ?? 0) + move.bought < 0) throw new Error(`a buyer's counters of event ${move.eventId} would go below zero`);
    }
    for (const ending of effects.endedHolds) if (this.holdRows.get(ending.id)?.status !== 'active') throw new Error(`hold ${ending.id} is no longer active`);
    for (const c of effects.cancelledTickets) {
      for (const id of c.ticketIds) if (this.ticketRows.get(id)?.status !== 'valid' || this.ticketRows.get(id)?.bookingId !== c.bookingId) throw new Error(`ticket ${id} cannot be cancelled`);
    }
    for (const [eventId] of effects.eventUpdates) if (!effects.stock.has(eventId)) throw new Error(`event ${eventId} changed without its stock row`);
    for (const [eventId] of effects.eventSettings) if (!this.eventRows.has(eventId)) throw new Error(`event ${eventId} does not exist`);
    for (const door of effects.newDoors) if (this.doorRows.has(door.id) || !this.eventRows.has(door.eventId)) throw new Error(`door ${door.id} cannot be created`);
    for (const r of effects.revokedDoors) if (!this.doorRows.has(r.id) || this.doorRows.get(r.id)!.revokedAt) throw new Error(`door ${r.id} is not active`);
    // The primary key of the admissions: one per ticket, ever (this batch's included).
    const admitted = new Set<string>();
    for (const a of effects.admissions) {
      if (this.admissionRows.has(a.ticketId) || admitted.has(a.ticketId)) throw new Error(`ticket ${a.ticketId} is already admitted`);
      if (!this.ticketRows.has(a.ticketId)) throw new Error(`ticket ${a.ticketId} does not exist`);
      admitted.add(a.ticketId);
    }
  }

  private readBooking(id: string): StoredBooking | undefined {
    const row = this.bookingRows.get(id);
    if (!row) return undefined;
    const { ticketIds, ...rest } = row;
    return { ...rest, tickets: ticketIds.map((t) => ({ ...this.ticketRows.get(t)! })) };
  }
}
