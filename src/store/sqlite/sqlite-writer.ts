import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { decideBatch, type IdentitySource } from '../../core/decide-batch.js';
import type { BookingOutcome, BookingRequest } from '../../core/store.js';
import type { Event } from '../../core/types.js';
import { pendingMigrations } from '../migration.js';
import { sqliteMigrations } from './migrations.js';

export const EVENT_COLUMNS = 'id, name, date, total_tickets, available_tickets, max_tickets_per_booking';

/** Opens (creating if needed) a database file with the durability settings and the current schema. */
export function openDatabase(path: string, busyTimeoutMs = 5000): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // FULL: a COMMIT has reached the disk (WAL fsync'd) before it returns.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // Random UUID keys touch pages all over the indexes: keep 64 MiB of them in memory, and
  // checkpoint the WAL every ~40 MiB instead of every 4 MiB, since each checkpoint is an extra fsync
  // of the database file on the commit path.
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  // The version is read under the write lock: processes starting together apply each step once.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (const migration of pendingMigrations(sqliteMigrations, current)) {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
  }).immediate();
  return db;
}

/**
 * Every write of the SQLite adapter, synchronous. It runs either on the caller's thread or inside
 * the writer worker thread (see writer-thread.ts), so an fsync never stalls the HTTP thread there.
 */
export class SqliteWriter {
  private readonly stmt;
  private readonly commitTx: (requests: readonly BookingRequest[]) => BookingOutcome[];

  constructor(
    readonly db: Database.Database,
    private readonly identity?: IdentitySource,
  ) {
    this.stmt = {
      insertEvent: db.prepare(
        `INSERT INTO events (${EVENT_COLUMNS}) VALUES (@id, @name, @date, @totalTickets, @availableTickets, @maxTicketsPerBooking)`,
      ),
      available: db.prepare<[string], number>('SELECT available_tickets FROM events WHERE id = ?').pluck(),
      // The conditional decrement: it cannot take more than is there, whatever the caller computed.
      take: db.prepare('UPDATE events SET available_tickets = available_tickets - ? WHERE id = ? AND available_tickets >= ?'),
      insertBooking: db.prepare('INSERT INTO bookings (id, event_id, tickets, created_at) VALUES (?, ?, ?, ?)'),
      insertTicket: db.prepare('INSERT INTO tickets (id, booking_seq, event_id) VALUES (?, ?, ?)'),
    };
    const tx = db.transaction((requests: readonly BookingRequest[]) => this.decideAndWrite(requests));
    // IMMEDIATE takes the write lock up front, so another process can never make us read stale availability.
    this.commitTx = (requests) => tx.immediate(requests);
  }

  createEvent(event: Event): void {
    this.stmt.insertEvent.run(event);
  }

  /** One BEGIN IMMEDIATE … COMMIT for the whole batch: it applies whole or not at all. */
  commitBookings(requests: readonly BookingRequest[]): BookingOutcome[] {
    return this.commitTx(requests);
  }

  /** Changes committed by other connections since the last call (SQLite's data_version). */
  externalChangeProbe(): () => boolean {
    let seen = this.db.pragma('data_version', { simple: true });
    return () => {
      const now = this.db.pragma('data_version', { simple: true });
      const changed = now !== seen;
      seen = now;
      return changed;
    };
  }

  private decideAndWrite(requests: readonly BookingRequest[]): BookingOutcome[] {
    const available = new Map<string, number>();
    for (const { eventId } of requests) {
      if (available.has(eventId)) continue;
      const n = this.stmt.available.get(eventId);
      if (n !== undefined) available.set(eventId, n);
    }
    const decision = decideBatch(requests, available, this.identity);
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
}
