import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { decideBatch, type EventStock, type IdentitySource } from '../../core/decide-batch.js';
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
  StoredKey,
} from '../../core/store.js';
import type { Booking, Event, Hold } from '../../core/types.js';
import { pendingMigrations } from '../migration.js';
import { sqliteMigrations } from './migrations.js';
import { EVENT_COLUMNS } from '../rows.js';
import { SqliteQueries } from './sqlite-queries.js';

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

/** The operations of the writer, as the writer thread exposes them by name. */
export type WriterMethod = 'createEvent' | 'commitBookings' | 'confirmHold' | 'releaseHold' | 'expireHolds' | 'cancelBooking' | 'purgeIdempotencyKeys';

/**
 * Every write of the SQLite adapter, synchronous, each one BEGIN IMMEDIATE … COMMIT. It runs either
 * on the caller's thread or inside the writer worker thread (see writer-thread.ts), so an fsync never
 * stalls the HTTP thread there. IMMEDIATE takes the write lock up front, so another process can
 * never make a transaction decide on stale counts.
 */
export class SqliteWriter {
  private readonly stmt;
  private readonly reads: SqliteQueries;
  private readonly identity: IdentitySource;
  readonly commitBookings: (requests: readonly BookingRequest[]) => BookingOutcome[];
  readonly confirmHold: (id: string, now: Date) => ConfirmOutcome;
  readonly releaseHold: (id: string, now: Date) => HoldOutcome;
  readonly expireHolds: (now: Date) => ExpiryResult;
  readonly cancelBooking: (id: string, ticketIds: readonly string[] | undefined, now: Date) => CancelOutcome;

  constructor(
    readonly db: Database.Database,
    identity?: IdentitySource,
  ) {
    this.identity = identity ?? systemIdentity;
    this.reads = new SqliteQueries(db);
    this.stmt = {
      insertEvent: db.prepare(
        `INSERT INTO events (${EVENT_COLUMNS}) VALUES (@id, @name, @date, @totalTickets, @availableTickets, @heldTickets, @maxTicketsPerBooking, @holdSeconds)`,
      ),
      stock: db.prepare<[string], EventStock>(
        'SELECT available_tickets AS availableTickets, held_tickets AS heldTickets, hold_seconds AS holdSeconds FROM events WHERE id = ?',
      ),
      counts: db.prepare<[string], EventCounts>(
        'SELECT id AS eventId, available_tickets AS availableTickets, held_tickets AS heldTickets FROM events WHERE id = ?',
      ),
      // The conditional writes: they cannot take more than is there, whatever the caller computed.
      take: db.prepare(
        'UPDATE events SET available_tickets = available_tickets - @taken, held_tickets = held_tickets + @held WHERE id = @eventId AND available_tickets >= @taken',
      ),
      unhold: db.prepare(
        'UPDATE events SET held_tickets = held_tickets - @tickets, available_tickets = available_tickets + @back WHERE id = @eventId AND held_tickets >= @tickets',
      ),
      giveBack: db.prepare('UPDATE events SET available_tickets = available_tickets + ? WHERE id = ?'),
      insertBooking: db.prepare('INSERT INTO bookings (id, event_id, tickets, created_at, secret_hash) VALUES (?, ?, ?, ?, ?)'),
      insertTicket: db.prepare('INSERT INTO tickets (id, booking_seq, event_id) VALUES (?, ?, ?)'),
      insertHold: db.prepare(
        "INSERT INTO holds (id, event_id, tickets, status, created_at, expires_at) VALUES (@id, @eventId, @tickets, 'active', @createdAt, @expiresAt)",
      ),
      // Only an active hold changes state: the WHERE makes "expired twice" impossible.
      setHoldStatus: db.prepare("UPDATE holds SET status = ?, booking_id = ? WHERE id = ? AND status = 'active'"),
      dueHolds: db.prepare<[string], { id: string; event_id: string; tickets: number }>(
        "SELECT id, event_id, tickets FROM holds WHERE status = 'active' AND expires_at <= ? ORDER BY expires_at",
      ),
      cancelTicket: db.prepare('UPDATE tickets SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL'),
      getKey: db.prepare<[string], StoredKey>('SELECT key, fingerprint, result, created_at AS createdAt FROM idempotency_keys WHERE key = ?'),
      putKey: db.prepare('INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, result, created_at) VALUES (@key, @fingerprint, @result, @createdAt)'),
      purgeKeys: db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?'),
    };
    const immediate = <A extends unknown[], R>(fn: (...args: A) => R): ((...args: A) => R) => {
      const tx = db.transaction(fn);
      return (...args: A) => tx.immediate(...args);
    };
    this.commitBookings = immediate((requests) => this.decideAndWrite(requests));
    this.confirmHold = immediate((id, now) => this.confirm(id, now));
    this.releaseHold = immediate((id, now) => this.release(id, now));
    this.expireHolds = immediate((now) => this.expireDue(now));
    this.cancelBooking = immediate((id, ticketIds, now) => this.cancel(id, ticketIds, now));
  }

  createEvent(event: Event): void {
    this.stmt.insertEvent.run(event);
  }

  purgeIdempotencyKeys(before: Date): number {
    return this.stmt.purgeKeys.run(before.toISOString()).changes;
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
    const stock = new Map<string, EventStock>();
    const previous = new Map<string, StoredKey>();
    for (const { eventId, idempotency } of requests) {
      if (!stock.has(eventId)) {
        const row = this.stmt.stock.get(eventId);
        if (row) stock.set(eventId, row);
      }
      if (idempotency && !previous.has(idempotency.key)) {
        const row = this.stmt.getKey.get(idempotency.key);
        if (row) previous.set(row.key, row);
      }
    }
    const decision = decideBatch(requests, stock, previous, this.identity);
    for (const [eventId, { taken, held }] of decision.changes) {
      // Zero rows changed means the decision and the row disagree: throwing rolls the whole batch back.
      if (this.stmt.take.run({ eventId, taken, held }).changes !== 1) throw new Error(`conditional decrement refused for event ${eventId}`);
    }
    for (const booking of decision.bookings) this.insertBooking(booking);
    for (const hold of decision.holds) this.stmt.insertHold.run(hold);
    for (const key of decision.keys) this.stmt.putKey.run(key);
    return decision.outcomes;
  }

  private confirm(id: string, now: Date): ConfirmOutcome {
    const hold = this.reads.getHold(id);
    const decision = decideConfirm(hold, id, now, this.identity);
    switch (decision.action) {
      case 'refuse':
        return { ok: false, error: decision.error };
      case 'replay':
        return {
          ok: true,
          booking: replayConfirmation(publicBooking(this.reads.getBooking(decision.bookingId)!), this.stmt.getKey.get(confirmationKey(id))),
          replayed: true,
        };
      case 'expire':
        return { ok: false, error: decision.error, counts: this.endHold(hold!, 'expired') };
      case 'confirm':
        this.moveHeld(hold!, 0);
        this.insertBooking(decision.booking);
        if (!this.setStatus(hold!, 'confirmed', decision.booking.id)) throw new Error(`hold ${id} changed under the write lock`);
        this.stmt.putKey.run(rememberConfirmation(id, decision.booking));
        return { ok: true, booking: decision.booking, counts: this.stmt.counts.get(hold!.eventId)!, replayed: false };
    }
  }

  private release(id: string, now: Date): HoldOutcome {
    const hold = this.reads.getHold(id);
    const decision = decideRelease(hold, id, now);
    switch (decision.action) {
      case 'refuse':
        return { ok: false, error: decision.error };
      case 'replay':
        return { ok: true, hold: decision.hold };
      case 'expire':
        return { ok: false, error: decision.error, counts: this.endHold(hold!, 'expired') };
      case 'release':
        return { ok: true, hold: decision.hold, counts: this.endHold(hold!, 'released') };
    }
  }

  private expireDue(now: Date): ExpiryResult {
    const due = this.stmt.dueHolds.all(now.toISOString());
    const touched = new Set<string>();
    for (const row of due) {
      this.endHold({ id: row.id, eventId: row.event_id, tickets: row.tickets }, 'expired');
      touched.add(row.event_id);
    }
    return { expired: due.length, counts: [...touched].map((eventId) => this.stmt.counts.get(eventId)!) };
  }

  private cancel(id: string, ticketIds: readonly string[] | undefined, now: Date): CancelOutcome {
    const booking = this.reads.getBooking(id);
    const decision = decideCancel(booking, id, ticketIds);
    if (decision.action === 'refuse') return { ok: false, error: decision.error };
    const at = now.toISOString();
    for (const ticketId of decision.ticketIds) {
      if (this.stmt.cancelTicket.run(at, ticketId).changes !== 1) throw new Error(`ticket ${ticketId} changed under the write lock`);
    }
    this.stmt.giveBack.run(decision.ticketIds.length, booking!.eventId);
    return {
      ok: true,
      booking: publicBooking(withCancelled(booking!, decision.ticketIds)),
      counts: this.stmt.counts.get(booking!.eventId)!,
      cancelled: decision.ticketIds.length,
    };
  }

  /** Ends an active hold as released or expired and returns its tickets; a hold no longer active is left alone. */
  private endHold(hold: Pick<Hold, 'id' | 'eventId' | 'tickets'>, status: 'released' | 'expired'): EventCounts | undefined {
    if (!this.setStatus(hold, status)) return undefined;
    this.moveHeld(hold, hold.tickets);
    return this.stmt.counts.get(hold.eventId)!;
  }

  private setStatus(hold: Pick<Hold, 'id'>, status: 'confirmed' | 'released' | 'expired', bookingId: string | null = null): boolean {
    return this.stmt.setHoldStatus.run(status, bookingId, hold.id).changes === 1;
  }

  /** Takes a hold's tickets out of `held`, `back` of them into `available` (0 when they were sold). */
  private moveHeld(hold: Pick<Hold, 'eventId' | 'tickets'>, back: number): void {
    if (this.stmt.unhold.run({ eventId: hold.eventId, tickets: hold.tickets, back }).changes !== 1) {
      throw new Error(`held count of event ${hold.eventId} is short`);
    }
  }

  private insertBooking(booking: Booking): void {
    const seq = this.stmt.insertBooking.run(
      booking.id,
      booking.eventId,
      booking.tickets.length,
      booking.createdAt,
      booking.secret ? hashSecret(booking.secret) : null,
    ).lastInsertRowid;
    for (const ticket of booking.tickets) this.stmt.insertTicket.run(ticket.id, seq, ticket.eventId);
  }
}
