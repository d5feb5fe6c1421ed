import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { decideBatch, type IdentitySource } from '../../core/decide-batch.js';
import type { BookingOutcome, BookingRequest, Store } from '../../core/store.js';
import type { Booking, Event, Ticket } from '../../core/types.js';
import { pendingMigrations } from '../migration.js';
import { sqliteMigrations } from './migrations.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before giving up (ms). */
  busyTimeoutMs?: number;
  identity?: IdentitySource;
}

interface EventRow {
  id: string;
  name: string;
  date: string;
  total_tickets: number;
  available_tickets: number;
  max_tickets_per_booking: number;
}

const EXTERNAL_POLL_MS = 200;
const EVENT_COLUMNS = 'id, name, date, total_tickets, available_tickets, max_tickets_per_booking';

/**
 * Embedded, durable storage: WAL with synchronous=FULL, so a COMMIT has reached the disk before it
 * returns. better-sqlite3 is synchronous, which makes each `commitBookings` call one uninterrupted
 * BEGIN IMMEDIATE … COMMIT: nothing else in this process can run between the read and the write.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly stmt;
  private readonly commitTx: (requests: readonly BookingRequest[]) => BookingOutcome[];

  constructor(
    readonly path: string,
    private readonly options: SqliteStoreOptions = {},
  ) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    this.migrate();
    const db = this.db;
    this.stmt = {
      insertEvent: db.prepare(
        `INSERT INTO events (${EVENT_COLUMNS}) VALUES (@id, @name, @date, @totalTickets, @availableTickets, @maxTicketsPerBooking)`,
      ),
      getEvent: db.prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`),
      listEvents: db.prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY date, name, id`),
      available: db.prepare<[string], number>('SELECT available_tickets FROM events WHERE id = ?').pluck(),
      // The conditional decrement: it cannot take more than is there, whatever the caller computed.
      take: db.prepare('UPDATE events SET available_tickets = available_tickets - ? WHERE id = ? AND available_tickets >= ?'),
      insertBooking: db.prepare('INSERT INTO bookings (id, event_id, tickets, created_at) VALUES (?, ?, ?, ?)'),
      insertTicket: db.prepare('INSERT INTO tickets (id, booking_seq, event_id) VALUES (?, ?, ?)'),
      getTicket: db.prepare<[string], { id: string; event_id: string; booking_id: string }>(
        'SELECT t.id, t.event_id, b.id AS booking_id FROM tickets t JOIN bookings b ON b.seq = t.booking_seq WHERE t.id = ?',
      ),
      getBooking: db.prepare<[string], { seq: number; id: string; event_id: string; created_at: string }>(
        'SELECT seq, id, event_id, created_at FROM bookings WHERE id = ?',
      ),
      ticketsOfBooking: db.prepare<[number], string>('SELECT id FROM tickets WHERE booking_seq = ? ORDER BY id').pluck(),
      countTickets: db.prepare<[string], number>('SELECT count(*) FROM tickets WHERE event_id = ?').pluck(),
    };
    const tx = db.transaction((requests: readonly BookingRequest[]) => this.decideAndWrite(requests));
    // IMMEDIATE takes the write lock up front, so a second process can never make us read stale availability.
    this.commitTx = (requests) => tx.immediate(requests);
  }

  async createEvent(event: Event): Promise<void> {
    this.stmt.insertEvent.run(event);
  }

  async getEvent(id: string): Promise<Event | undefined> {
    const row = this.stmt.getEvent.get(id);
    return row && toEvent(row);
  }

  async listEvents(): Promise<Event[]> {
    return this.stmt.listEvents.all().map(toEvent);
  }

  async commitBookings(requests: readonly BookingRequest[]): Promise<BookingOutcome[]> {
    return this.commitTx(requests);
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const row = this.stmt.getTicket.get(id);
    return row && { id: row.id, eventId: row.event_id, bookingId: row.booking_id };
  }

  async getBooking(id: string): Promise<Booking | undefined> {
    const row = this.stmt.getBooking.get(id);
    if (!row) return undefined;
    const ticketIds = this.stmt.ticketsOfBooking.all(row.seq);
    return {
      id: row.id,
      eventId: row.event_id,
      createdAt: row.created_at,
      tickets: ticketIds.map((ticketId) => ({ id: ticketId, eventId: row.event_id, bookingId: row.id })),
    };
  }

  async countTickets(eventId: string): Promise<number> {
    return this.stmt.countTickets.get(eventId) ?? 0;
  }

  /**
   * Other processes on the same file (`--workers`) commit on their own connections; SQLite bumps
   * `data_version` for exactly those commits, so a cheap poll tells when caches went stale.
   */
  watchExternalChanges(listener: () => void): () => void {
    let seen = this.db.pragma('data_version', { simple: true });
    const timer = setInterval(() => {
      if (!this.db.open) return;
      const now = this.db.pragma('data_version', { simple: true });
      if (now !== seen) {
        seen = now;
        listener();
      }
    }, EXTERNAL_POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private decideAndWrite(requests: readonly BookingRequest[]): BookingOutcome[] {
    const available = new Map<string, number>();
    for (const { eventId } of requests) {
      if (available.has(eventId)) continue;
      const n = this.stmt.available.get(eventId);
      if (n !== undefined) available.set(eventId, n);
    }
    const decision = decideBatch(requests, available, this.options.identity);
    for (const [eventId, n] of decision.taken) {
      // Zero rows changed means the decision and the row disagree: throwing rolls the whole batch back.
      if (this.stmt.take.run(n, eventId, n).changes !== 1) throw new Error(`conditional decrement refused for event ${eventId}`);
    }
    for (const booking of decision.bookings) {
      const seq = this.stmt.insertBooking.run(booking.id, booking.eventId, booking.tickets.length, booking.createdAt).lastInsertRowid;
      for (const ticket of booking.tickets) this.stmt.insertTicket.run(ticket.id, seq, ticket.eventId);
    }
    return decision.outcomes;
  }

  private migrate(): void {
    // The version is read under the write lock: workers starting together apply each step once.
    this.db
      .transaction(() => {
        const current = this.db.pragma('user_version', { simple: true }) as number;
        for (const migration of pendingMigrations(sqliteMigrations, current)) {
          this.db.exec(migration.sql);
          this.db.pragma(`user_version = ${migration.version}`);
        }
      })
      .immediate();
  }
}

function toEvent(row: EventRow): Event {
  return {
    id: row.id,
    name: row.name,
    date: row.date,
    totalTickets: row.total_tickets,
    availableTickets: row.available_tickets,
    maxTicketsPerBooking: row.max_tickets_per_booking,
  };
}
