import type { EventCounts, Outcome } from '../commands.js';
import { buyerKey, eventFields, noEffects, usageOf, type Admission, type BuyerTickets, type Effects, type EventFields, type StoredBooking, type StoredDoor, type StoredHold, type StoredKey, type StoredScan, type TicketRef } from '../effects.js';
import { hashSecret, secretsOf, type BookingSecrets, type IdSource } from '../identity.js';
import type { QueueLineRead, SaleSettings, StoredQueueEntry } from '../queue-effects.js';
import type { Booking, BuyerContact, Event } from '../types.js';
import { QueueLedger } from './queue-ledger.js';

/** How long an idempotency key (and a confirmation's first answer) is remembered. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/**
 * What one buyer (one client address) can make the server store for one event, beyond the tickets
 * it keeps (at most the event's `maxTicketsPerBuyer`). Every row a buyer writes is a booking or a
 * hold whose tickets are kept, held, or given back, or a remembered answer under a key; the request
 * rate bounds how fast, these bound how many, whatever the time:
 * - `givenBack`: tickets the buyer gave back (cancelled with the booking's secret, released, or let
 *   expire) before new holds and bookings of the event are refused `buyer_limit_reached`. A loop of
 *   book-then-cancel or hold-then-release stops there; an admin's cancellation does not count.
 * - `refusals`: refusals remembered under the buyer's keys (so that a retry gets the same `409`);
 *   beyond it, a keyed refusal is answered but not remembered, and a retry is decided again (it can
 *   still only take tickets on sale). A flood of fresh keys on a sold-out event stops adding rows.
 */
export interface BuyerBudget {
  givenBack: number;
  refusals: number;
}

/**
 * The defaults: large enough that many buyers behind one address (an office, a carrier's NAT) do not
 * reach them in an on-sale, small enough that one address cannot grow the database without bound.
 * The server may set others (`--buyer-give-back`, `--buyer-refusals-kept`); every batch carries them.
 */
export const BUYER_BUDGET: BuyerBudget = { givenBack: 10_000, refusals: 10_000 };

/** The rows a batch touches, as read inside its transaction. */
export interface LoadedRows {
  events: ReadonlyMap<string, Event>;
  holds: ReadonlyMap<string, StoredHold>;
  bookings: ReadonlyMap<string, StoredBooking>;
  /** By `buyerKey`; a buyer with no row has nothing yet. */
  buyers: ReadonlyMap<string, BuyerTickets>;
  /** Live (younger than the TTL) idempotency rows: client keys and confirmation keys. */
  keys: ReadonlyMap<string, StoredKey>;
  /** Active holds due at the batch's `now` (only when the batch expires holds). */
  dueHolds: readonly StoredHold[];
  /** Tickets named by check-ins (their bookings are in `bookings`). */
  tickets?: ReadonlyMap<string, TicketRef>;
  doors?: ReadonlyMap<string, StoredDoor>;
  /** By ticket id. */
  admissions?: ReadonlyMap<string, Admission>;
  /** Waiting-room lines by event id, and entries by id. */
  queueLines?: ReadonlyMap<string, QueueLineRead>;
  queueEntries?: ReadonlyMap<string, StoredQueueEntry>;
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
  private readonly holds = new Map<string, StoredHold>();
  private readonly buyers = new Map<string, BuyerTickets>();
  private readonly bookings = new Map<string, StoredBooking>();
  private readonly doors = new Map<string, StoredDoor>();
  private readonly admissions = new Map<string, Admission>();
  /** Events created by this batch: their counters are written with the new row, not moved. */
  private readonly created = new Map<string, number>();
  /** Derives new bookings' secrets and recomputes them for replays (nothing secret is stored). */
  readonly secrets: BookingSecrets;
  /** The waiting room's lines and entries as this batch leaves them. */
  readonly queue: QueueLedger;

  constructor(
    nowIso: string,
    readonly rows: LoadedRows,
    readonly ids: IdSource,
    readonly budget: BuyerBudget = BUYER_BUDGET,
  ) {
    this.nowIso = nowIso;
    this.now = new Date(nowIso);
    this.secrets = secretsOf(ids);
    this.queue = new QueueLedger(rows.queueLines, rows.queueEntries, this.effects.queue, ids.randomInt?.bind(ids));
  }

  event(id: string): Event | undefined {
    return this.events.get(id) ?? this.rows.events.get(id);
  }

  hold(id: string): StoredHold | undefined {
    return this.holds.get(id) ?? this.rows.holds.get(id);
  }

  booking(id: string): StoredBooking | undefined {
    return this.bookings.get(id) ?? this.rows.bookings.get(id);
  }

  door(id: string): StoredDoor | undefined {
    return this.doors.get(id) ?? this.rows.doors?.get(id);
  }

  /** A ticket with its state, as this batch has left it (a cancellation earlier in the batch included). */
  ticket(id: string): TicketRef | undefined {
    const ref = this.rows.tickets?.get(id);
    if (!ref) return undefined;
    const inBatch = this.bookings.get(ref.bookingId)?.tickets.find((t) => t.id === id);
    return inBatch ? { ...ref, cancelled: inBatch.status === 'cancelled' } : ref;
  }

  /** The ticket's admission, this batch's included. */
  admission(ticketId: string): Admission | undefined {
    return this.admissions.get(ticketId) ?? this.rows.admissions?.get(ticketId);
  }

  /** Admits a ticket (once: the decision checked `admission` first) and counts it on its event. */
  admit(admission: Admission): EventCounts {
    this.admissions.set(admission.ticketId, admission);
    this.effects.admissions.push(admission);
    const event = this.event(admission.eventId)!;
    const counted = { ...event, checkedInTickets: event.checkedInTickets + 1 };
    this.events.set(event.id, counted);
    const created = this.created.get(event.id);
    if (created !== undefined) this.effects.newEvents[created] = { ...counted };
    else {
      const move = this.effects.stock.get(event.id) ?? { available: 0, held: 0 };
      move.checkedIn = (move.checkedIn ?? 0) + 1;
      this.effects.stock.set(event.id, move);
    }
    return { ...this.counts(event.id), checkedInTickets: counted.checkedInTickets };
  }

  recordScan(scan: Omit<StoredScan, 'recordedAt'>): void {
    this.effects.scans.push({ ...scan, recordedAt: this.nowIso });
  }

  addDoor(door: StoredDoor): void {
    this.doors.set(door.id, door);
    this.effects.newDoors.push(door);
  }

  revokeDoor(door: StoredDoor): StoredDoor {
    const revoked = { ...door, revokedAt: this.nowIso };
    this.doors.set(door.id, revoked);
    this.effects.revokedDoors.push({ id: door.id, at: this.nowIso });
    return revoked;
  }

  setOfflineCheckIn(eventId: string, offlineCheckIn: boolean): Event {
    const event = { ...this.event(eventId)!, offlineCheckIn };
    this.events.set(eventId, event);
    const created = this.created.get(eventId);
    if (created !== undefined) this.effects.newEvents[created] = { ...event };
    else this.effects.eventSettings.set(eventId, { offlineCheckIn });
    return event;
  }

  /**
   * Changes an event's editable fields; a new total moves `available` by the same amount (the
   * decision checked it stays at or above zero). Written with the event's stock move, in one statement.
   */
  updateEvent(eventId: string, change: Partial<EventFields & SaleSettings>): Event {
    const before = this.event(eventId)!;
    const delta = change.totalTickets === undefined ? 0 : change.totalTickets - before.totalTickets;
    if (delta !== 0) this.moveStock(eventId, delta, 0);
    const event = { ...this.event(eventId)!, ...change };
    this.events.set(eventId, event);
    const created = this.created.get(eventId);
    if (created !== undefined) this.effects.newEvents[created] = { ...event };
    else {
      if (!this.effects.stock.has(eventId)) this.effects.stock.set(eventId, { available: 0, held: 0 });
      this.effects.eventUpdates.set(eventId, eventFields(event));
    }
    if ('onSaleAt' in change || 'waitingRoom' in change || 'queueWindow' in change || 'waitingRoomOpensAt' in change) this.effects.saleSettings.set(eventId, saleOf(event));
    return event;
  }

  /** Cancels an event: its tickets and active holds in bulk, its stock to zero, its status. */
  cancelEvent(eventId: string): Event {
    const before = this.event(eventId)!;
    this.moveStock(eventId, -before.availableTickets, -before.heldTickets);
    const event = this.updateEvent(eventId, { status: 'cancelled', salesOpen: false });
    this.effects.cancelledEvents.push({ eventId, at: this.nowIso });
    return event;
  }

  /** A remembered idempotency row, if still live. */
  key(key: string): StoredKey | undefined {
    const row = this.rows.keys.get(key);
    return row && Date.parse(row.createdAt) > this.now.getTime() - IDEMPOTENCY_KEY_TTL_MS ? row : undefined;
  }

  /** What this buyer has of this event so far, this batch included. */
  buyer(eventId: string, buyer: string): BuyerTickets {
    const key = buyerKey(eventId, buyer);
    return this.buyers.get(key) ?? this.rows.buyers.get(key) ?? { eventId, buyer, held: 0, bought: 0 };
  }

  /** Moves a buyer's counters (nothing to move for rows made before buyers were recorded). */
  moveBuyer(eventId: string, buyer: string | undefined, held: number, bought: number): void {
    if (buyer === undefined) return;
    const key = buyerKey(eventId, buyer);
    const now = this.buyer(eventId, buyer);
    this.buyers.set(key, { ...now, held: now.held + held, bought: now.bought + bought });
    const move = this.effects.buyers.get(key) ?? { eventId, buyer, held: 0, bought: 0 };
    move.held += held;
    move.bought += bought;
    this.effects.buyers.set(key, move);
  }

  /** What this buyer has used of its budget for this event (see BUYER_BUDGET). */
  usage(eventId: string, buyer: string): { givenBack: number; refusals: number } {
    const row = this.buyer(eventId, usageOf(buyer));
    return { givenBack: row.bought, refusals: row.held };
  }

  /** Counts tickets a buyer gave back against its budget (nothing for rows without a buyer). */
  gaveBack(eventId: string, buyer: string | undefined, tickets: number): void {
    if (buyer !== undefined && tickets > 0) this.moveBuyer(eventId, usageOf(buyer), 0, tickets);
  }

  /**
   * Remembers a keyed refusal while the buyer's budget allows, and says whether it did. A refusal
   * of a caller that names no buyer (the service used in-process) is always remembered.
   */
  rememberRefusal(eventId: string, buyer: string | undefined, key: string, fingerprint: string, result: string): boolean {
    if (buyer !== undefined) {
      if (this.usage(eventId, buyer).refusals >= this.budget.refusals) return false;
      this.moveBuyer(eventId, usageOf(buyer), 1, 0);
    }
    this.remember(key, fingerprint, result);
    return true;
  }

  counts(eventId: string): EventCounts {
    const event = this.event(eventId)!;
    return { eventId, availableTickets: event.availableTickets, heldTickets: event.heldTickets };
  }

  createEvent(event: Event): void {
    this.events.set(event.id, { ...event });
    this.created.set(event.id, this.effects.newEvents.push({ ...event }) - 1);
    if (event.onSaleAt !== null || event.waitingRoom || event.queueWindow !== null) this.effects.saleSettings.set(event.id, saleOf(event));
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
  addBooking(eventId: string, count: number, buyer?: string, contact?: BuyerContact): Booking {
    const bookingId = this.ids.newId();
    const ticketIds: string[] = [];
    for (let i = 0; i < count; i++) ticketIds.push(this.ids.newId());
    ticketIds.sort();
    const secret = this.secrets.secretFor(bookingId);
    const tickets = ticketIds.map((id) => ({ id, eventId, bookingId, status: 'valid' as const }));
    const booking: Booking = { id: bookingId, eventId, createdAt: this.nowIso, tickets, secret };
    const stored: StoredBooking = { id: bookingId, eventId, createdAt: this.nowIso, tickets, secretHash: hashSecret(secret) };
    if (buyer !== undefined) stored.buyer = buyer;
    if (contact !== undefined) stored.contact = contact;
    this.bookings.set(bookingId, stored);
    this.effects.newBookings.push(stored);
    return booking;
  }

  addHold(hold: StoredHold): void {
    this.holds.set(hold.id, hold);
    this.effects.newHolds.push(hold);
  }

  endHold(hold: StoredHold, status: 'confirmed' | 'released' | 'expired', bookingId?: string): StoredHold {
    const ended: StoredHold = bookingId ? { ...hold, status, bookingId } : { ...hold, status };
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

const saleOf = (e: Event): SaleSettings => ({ onSaleAt: e.onSaleAt, waitingRoom: e.waitingRoom, waitingRoomOpensAt: e.waitingRoomOpensAt, queueWindow: e.queueWindow });
