import type Database from 'better-sqlite3';
import type { StoredBooking } from '../../core/effects.js';
import type { AdminBooking, AttendeeRow, DoorSummary, Event, Hold, ScanRecord, Ticket } from '../../core/types.js';
import { DOOR_COLUMNS, EVENT_COLUMNS, HOLD_COLUMNS, likePattern, toAdminBooking, toAttendee, toEvent, toHold, toScanRecord, toStoredDoor, toStoredHold, type AttendeeSqlRow, type DoorRow, type EventRow, type HoldRow, type ScanRow } from '../rows.js';
import type { StoredDoor, StoredHold } from '../../core/effects.js';
import { publicDoor } from '../../core/decisions/index.js';

interface BookingsFilter {
  eventId: string;
  search: string | null;
  pattern: string | null;
  prefix: string | null;
  limit: number;
  offset: number;
}

// SQLite's lower() folds ASCII only: a search for "é" matches "é", not "É".
const BOOKINGS_FILTER = `b.event_id = @eventId AND (@search IS NULL
  OR lower(coalesce(b.buyer_name, '')) LIKE @pattern ESCAPE '\\'
  OR lower(coalesce(b.buyer_email, '')) LIKE @pattern ESCAPE '\\'
  OR b.id LIKE @prefix ESCAPE '\\')`;

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
      countTickets: db.prepare<[string], number>('SELECT count(*) FROM bookings b JOIN tickets t ON t.booking_seq = b.seq WHERE b.event_id = ? AND t.cancelled_at IS NULL').pluck(),
      getHold: db.prepare<[string], HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE id = ?`),
      nextHoldExpiry: db.prepare<[], string>("SELECT min(expires_at) FROM holds WHERE status = 'active'").pluck(),
      getDoor: db.prepare<[string], DoorRow>(`SELECT ${DOOR_COLUMNS} FROM doors WHERE id = ?`),
      listDoors: db.prepare<[string], DoorRow & { admitted: number }>(
        `SELECT ${DOOR_COLUMNS}, (SELECT count(*) FROM checkins c WHERE c.door_id = d.id) AS admitted FROM doors d WHERE event_id = ? ORDER BY created_at, id`,
      ),
      cancelledOf: db.prepare<[string], string>('SELECT id FROM tickets WHERE event_id = ? AND cancelled_at IS NOT NULL ORDER BY id').pluck(),
      checkedInOf: db.prepare<[string], string>('SELECT ticket_id FROM checkins WHERE event_id = ? ORDER BY ticket_id').pluck(),
      recentScans: db.prepare<[string, number], ScanRow>(
        `SELECT s.ticket_id, s.door_id, d.name AS door_name, s.at, s.outcome, s.offline FROM scans s JOIN doors d ON d.id = s.door_id
         WHERE s.event_id = ? ORDER BY s.seq DESC LIMIT ?`,
      ),
      conflictScans: db.prepare<[string], ScanRow>(
        `SELECT s.ticket_id, s.door_id, d.name AS door_name, s.at, s.outcome, s.offline FROM scans s JOIN doors d ON d.id = s.door_id
         WHERE s.ticket_id IN (SELECT ticket_id FROM scans WHERE event_id = ? AND outcome = 'conflict') AND s.outcome IN ('admitted', 'conflict')
         ORDER BY s.seq`,
      ),
      attendees: db.prepare<[string], AttendeeSqlRow>(
        `SELECT t.id AS ticket_id, b.id AS booking_id, b.created_at AS booked_at, t.cancelled_at IS NOT NULL AS cancelled, c.at AS checked_in_at, d.name AS door_name,
                b.buyer_name, b.buyer_email
         FROM bookings b JOIN tickets t ON t.booking_seq = b.seq LEFT JOIN checkins c ON c.ticket_id = t.id LEFT JOIN doors d ON d.id = c.door_id
         WHERE b.event_id = ? ORDER BY b.seq, t.id`,
      ),
      bookingsPage: db.prepare<[BookingsFilter], { seq: number; id: string; event_id: string; created_at: string; buyer_name: string | null; buyer_email: string | null }>(
        `SELECT seq, id, event_id, created_at, buyer_name, buyer_email FROM bookings b WHERE ${BOOKINGS_FILTER}
         ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`,
      ),
      bookingsCount: db.prepare<[BookingsFilter], number>(`SELECT count(*) FROM bookings b WHERE ${BOOKINGS_FILTER}`).pluck(),
      checkedInOfBooking: db.prepare<[number], number>(
        'SELECT count(*) FROM checkins c JOIN tickets t ON t.id = c.ticket_id WHERE t.booking_seq = ?',
      ).pluck(),
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

  getDoor(id: string): StoredDoor | undefined {
    const row = this.stmt.getDoor.get(id);
    return row && toStoredDoor(row);
  }

  listDoors(eventId: string): DoorSummary[] {
    return this.stmt.listDoors.all(eventId).map((row) => ({ ...publicDoor(toStoredDoor(row)), admitted: row.admitted }));
  }

  doorList(eventId: string): { cancelled: string[]; checkedIn: string[] } {
    return { cancelled: this.stmt.cancelledOf.all(eventId), checkedIn: this.stmt.checkedInOf.all(eventId) };
  }

  scans(eventId: string, limit: number): { recent: ScanRecord[]; conflicts: ScanRecord[] } {
    return { recent: this.stmt.recentScans.all(eventId, limit).map(toScanRecord), conflicts: this.stmt.conflictScans.all(eventId).map(toScanRecord) };
  }

  eventBookings(eventId: string, query: { search?: string; offset: number; limit: number }): { total: number; bookings: AdminBooking[] } {
    const filter: BookingsFilter = {
      eventId,
      search: query.search ?? null,
      pattern: query.search === undefined ? null : likePattern(query.search),
      prefix: query.search === undefined ? null : `${likePattern(query.search).slice(1, -1)}%`,
      limit: query.limit,
      offset: query.offset,
    };
    const total = this.stmt.bookingsCount.get(filter) ?? 0;
    const bookings = this.stmt.bookingsPage.all(filter).map((row) => {
      const tickets = this.stmt.ticketsOfBooking.all(row.seq);
      return toAdminBooking({
        ...row,
        ticket_ids: tickets.map((t) => t.id),
        cancelled: tickets.map((t) => t.cancelled_at !== null),
        checked_in: this.stmt.checkedInOfBooking.get(row.seq) ?? 0,
      });
    });
    return { total, bookings };
  }

  attendees(eventId: string): AttendeeRow[] {
    return this.stmt.attendees.all(eventId).map(toAttendee);
  }
}
