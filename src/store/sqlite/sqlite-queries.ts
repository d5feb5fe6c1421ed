import type Database from 'better-sqlite3';
import type { StoredBooking } from '../../core/effects.js';
import type { Event, Hold, Ticket } from '../../core/types.js';
import { EVENT_COLUMNS, HOLD_COLUMNS, toEvent, toHold, toStoredHold, type EventRow, type HoldRow } from '../rows.js';
import type { StoredHold } from '../../core/effects.js';

/**
 * The reads of the SQLite adapter, prepared on one connection. The HTTP thread's reader connection
 * and the writer connection (which must read inside its own transactions) each have an instance.
 */
export class SqliteQueries {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      getEvent: db.prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`),
      listEvents: db.prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY date, name, id`),
      getTicket: db.prepare<[string], { id: string; event_id: string; booking_id: string; cancelled_at: string | null }>(
        'SELECT t.id, t.event_id, b.id AS booking_id, t.cancelled_at FROM tickets t JOIN bookings b ON b.seq = t.booking_seq WHERE t.id = ?',
      ),
      getBooking: db.prepare<[string], { seq: number; id: string; event_id: string; created_at: string; secret_hash: string | null; buyer: string | null }>(
        'SELECT seq, id, event_id, created_at, secret_hash, buyer FROM bookings WHERE id = ?',
      ),
      ticketsOfBooking: db.prepare<[number], { id: string; cancelled_at: string | null }>(
        'SELECT id, cancelled_at FROM tickets WHERE booking_seq = ? ORDER BY id',
      ),
      countTickets: db.prepare<[string], number>('SELECT count(*) FROM tickets WHERE event_id = ? AND cancelled_at IS NULL').pluck(),
      getHold: db.prepare<[string], HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = ?`),
      nextHoldExpiry: db.prepare<[], string>("SELECT min(expires_at) FROM holds WHERE status = 'active'").pluck(),
    };
  }

  getEvent(id: string): Event | undefined {
    const row = this.stmt.getEvent.get(id);
    return row && toEvent(row);
  }

  listEvents(): Event[] {
    return this.stmt.listEvents.all().map(toEvent);
  }

  getTicket(id: string): Ticket | undefined {
    const row = this.stmt.getTicket.get(id);
    return row && { id: row.id, eventId: row.event_id, bookingId: row.booking_id, status: row.cancelled_at ? 'cancelled' : 'valid' };
  }

  getBooking(id: string): StoredBooking | undefined {
    const row = this.stmt.getBooking.get(id);
    if (!row) return undefined;
    const booking: StoredBooking = {
      id: row.id,
      eventId: row.event_id,
      createdAt: row.created_at,
      tickets: this.stmt.ticketsOfBooking.all(row.seq).map((t) => ({
        id: t.id,
        eventId: row.event_id,
        bookingId: row.id,
        status: t.cancelled_at ? 'cancelled' : 'valid',
      })),
    };
    if (row.secret_hash) booking.secretHash = row.secret_hash;
    if (row.buyer) booking.buyer = row.buyer;
    return booking;
  }

  countTickets(eventId: string): number {
    return this.stmt.countTickets.get(eventId) ?? 0;
  }

  getHold(id: string): Hold | undefined {
    const row = this.stmt.getHold.get(id);
    return row && toHold(row);
  }

  /** The hold with its buyer, for the write path. */
  getStoredHold(id: string): StoredHold | undefined {
    const row = this.stmt.getHold.get(id);
    return row && toStoredHold(row);
  }

  nextHoldExpiry(): string | undefined {
    return this.stmt.nextHoldExpiry.get() ?? undefined;
  }
}
