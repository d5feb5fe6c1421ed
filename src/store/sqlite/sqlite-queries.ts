import type Database from 'better-sqlite3';
import type { StoredBooking } from '../../core/store.js';
import type { Event, Hold, HoldStatus, Ticket } from '../../core/types.js';

export const EVENT_COLUMNS = 'id, name, date, total_tickets, available_tickets, held_tickets, max_tickets_per_booking, hold_seconds';

interface EventRow {
  id: string;
  name: string;
  date: string;
  total_tickets: number;
  available_tickets: number;
  held_tickets: number;
  max_tickets_per_booking: number;
  hold_seconds: number;
}

interface HoldRow {
  id: string;
  event_id: string;
  tickets: number;
  status: HoldStatus;
  created_at: string;
  expires_at: string;
  booking_id: string | null;
}

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
      getBooking: db.prepare<[string], { seq: number; id: string; event_id: string; created_at: string; secret_hash: string | null }>(
        'SELECT seq, id, event_id, created_at, secret_hash FROM bookings WHERE id = ?',
      ),
      ticketsOfBooking: db.prepare<[number], { id: string; cancelled_at: string | null }>(
        'SELECT id, cancelled_at FROM tickets WHERE booking_seq = ? ORDER BY id',
      ),
      countTickets: db.prepare<[string], number>('SELECT count(*) FROM tickets WHERE event_id = ? AND cancelled_at IS NULL').pluck(),
      getHold: db.prepare<[string], HoldRow>('SELECT id, event_id, tickets, status, created_at, expires_at, booking_id FROM holds WHERE id = ?'),
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
    return booking;
  }

  countTickets(eventId: string): number {
    return this.stmt.countTickets.get(eventId) ?? 0;
  }

  getHold(id: string): Hold | undefined {
    const row = this.stmt.getHold.get(id);
    return row && toHold(row);
  }

  nextHoldExpiry(): string | undefined {
    return this.stmt.nextHoldExpiry.get() ?? undefined;
  }
}

export function toEvent(row: EventRow): Event {
  return {
    id: row.id,
    name: row.name,
    date: row.date,
    totalTickets: row.total_tickets,
    availableTickets: row.available_tickets,
    heldTickets: row.held_tickets,
    maxTicketsPerBooking: row.max_tickets_per_booking,
    holdSeconds: row.hold_seconds,
  };
}

function toHold(row: HoldRow): Hold {
  const hold: Hold = {
    id: row.id,
    eventId: row.event_id,
    tickets: row.tickets,
    status: row.status,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
  if (row.booking_id) hold.bookingId = row.booking_id;
  return hold;
}
