import type { QueueEntryQuery, QueueLineRead, StoredQueueEntry } from '../../core/queue-effects.js';
import { SqliteQueue } from './sqlite-queue.js';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { KeyClaim, Outcome, WriteBatch } from '../../core/commands.js';
import type { Admission, BuyerTickets, Effects, StoredBooking, StoredDoor, StoredHold, StoredKey, TicketRef } from '../../core/effects.js';
import { systemIdentity, type IdSource } from '../../core/identity.js';
import type { RowAccess } from '../../core/store.js';
import type { Event } from '../../core/types.js';
import { runWrite } from '../../core/write-plan.js';
import { pendingMigrations } from '../migration.js';
import { ADMISSION_COLUMNS, DOOR_COLUMNS, EVENT_INSERT_COLUMNS, HOLD_COLUMNS, toAdmission, toStoredDoor, toStoredHold, type AdmissionRow, type DoorRow, type HoldRow } from '../rows.js';
import { sqliteMigrations } from './migrations.js';
import { damagedError, isDamage, quickCheck } from './integrity.js';
import { JournalGuard, journalLostError } from './journal-guard.js';
import { SqliteQueries } from './sqlite-queries.js';

/**
 * The database and its journal are readable by this account only: created 0600 (SQLite gives the
 * -wal and -shm files the database file's mode), and tightened if an older version left them 0644.
 */
function makePrivate(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

/**
 * Opens (creating if needed) a database file with the durability settings and the current schema.
 * A damaged file is refused (see integrity.ts) unless `integrityCheck` is false.
 */
export function openDatabase(path: string, busyTimeoutMs = 5000, options: { integrityCheck?: boolean } = {}): Database.Database {
  try {
    return openChecked(path, busyTimeoutMs, options.integrityCheck ?? true);
  } catch (err) {
    // A header too damaged to read fails before the check: the same advice applies.
    if (isDamage(err) && !(err as Error).message.startsWith('the database file is damaged')) throw damagedError((err as Error).message);
    throw err;
  }
}

function openChecked(path: string, busyTimeoutMs: number, integrityCheck: boolean): Database.Database {
  if (path !== ':memory:') makePrivate(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  if (integrityCheck && path !== ':memory:') {
    try {
      quickCheck(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }
  // FULL: a COMMIT has reached the disk (WAL fsync'd) before it returns.
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${busyTimeoutMs}`);
  // Random UUID keys touch pages all over the indexes: keep 64 MiB of them in memory, and
  // checkpoint the WAL every ~40 MiB instead of every 4 MiB, since each checkpoint is an extra fsync
  // of the database file on the commit path.
  db.pragma('cache_size = -65536');
  db.pragma('wal_autocheckpoint = 10000');
  // After a checkpoint has gone through, the next write cuts the WAL file back to this size: a burst
  // does not leave a large file behind (SqliteWriter truncates it to zero past WAL_TRUNCATE_BYTES).
  db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
  // A migration may remove data that must not stay readable on disk (migration 4 removes clear
  // secrets): while migrating, freed space is zeroed, and the WAL is checkpointed and truncated after.
  db.pragma('secure_delete = ON');
  // The version is read under the write lock: processes starting together apply each step once.
  const applied = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    const pending = pendingMigrations(sqliteMigrations, current);
    for (const migration of pending) {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    }
    return pending.length;
  }).immediate();
  db.pragma('secure_delete = OFF');
  if (applied > 0 && path !== ':memory:') db.pragma('wal_checkpoint(TRUNCATE)');
  return db;
}

/** What the WAL file is cut back to once checkpointed (PRAGMA journal_size_limit). */
export const WAL_SIZE_LIMIT_BYTES = 16 * 1024 * 1024;
/**
 * Past this size the writer checkpoints and truncates the WAL itself. SQLite's own checkpoint (every
 * ~40 MiB, `wal_autocheckpoint`) is PASSIVE: a reader that keeps an old snapshot (a long read, another
 * process) makes it stop short, and the WAL then grows with every write.
 */
export const WAL_TRUNCATE_BYTES = 64 * 1024 * 1024;

/** The operations of the writer, as the writer thread exposes them by name. */
export type WriterMethod = 'write' | 'purgeIdempotencyKeys';

/**
 * The SQLite adapter's side of the write plan: row reads and conditional writes on the one write
 * connection. Each batch is one BEGIN IMMEDIATE … COMMIT (IMMEDIATE takes the write lock up front,
 * so another process can never make a transaction decide on stale rows). It runs on the caller's
 * thread or inside the writer thread (see writer-thread.ts), so an fsync never stalls HTTP there.
 */
export class SqliteWriter implements RowAccess {
  private readonly stmt;
  private readonly reads: SqliteQueries;
  private readonly queue: SqliteQueue;
  readonly write: (batch: WriteBatch) => Outcome[];
  /** Watches the WAL file of a database on disk (none in memory). */
  readonly journal: JournalGuard | undefined;

  constructor(
    readonly db: Database.Database,
    ids: IdSource = systemIdentity,
    options: { walTruncateBytes?: number } = {},
  ) {
    this.reads = new SqliteQueries(db);
    this.queue = new SqliteQueue(db);
    this.stmt = {
      insertEvent: db.prepare(
        `INSERT INTO events (${EVENT_INSERT_COLUMNS}) VALUES (@id, @name, @date, @totalTickets, @availableTickets, @heldTickets, @maxTicketsPerBooking, @holdSeconds, @maxHeldPerBuyer, @maxTicketsPerBuyer, @offline, @checkedInTickets, @description, @venue, @timeZone, @salesOpenInt, @status, @buyerDetails)`,
      ),
      // An organiser's change, with the event's stock move of the batch in the same statement: a new
      // total and the availability it frees or takes change together (the CHECK sees both at once).
      updateEvent: db.prepare(
        `UPDATE events SET available_tickets = available_tickets + @available, held_tickets = held_tickets + @held,
           checked_in_tickets = checked_in_tickets + @checkedIn, name = @name, date = @date, description = @description, venue = @venue,
           time_zone = @timeZone, total_tickets = @totalTickets, max_tickets_per_booking = @maxTicketsPerBooking, hold_seconds = @holdSeconds,
           max_held_per_buyer = @maxHeldPerBuyer, max_tickets_per_buyer = @maxTicketsPerBuyer, buyer_details = @buyerDetails,
           sales_open = @salesOpenInt, status = @status
         WHERE id = @eventId AND available_tickets + @available >= 0 AND held_tickets + @held >= 0`,
      ),
      cancelEventTickets: db.prepare('UPDATE tickets SET cancelled_at = ? WHERE booking_seq IN (SELECT seq FROM bookings WHERE event_id = ?) AND cancelled_at IS NULL'),
      releaseEventHolds: db.prepare("UPDATE holds SET status = 'released' WHERE event_id = ? AND status = 'active'"),
      // Neither counter may go below zero, whatever the decision computed; the CHECK bounds the sum.
      moveStock: db.prepare(
        `UPDATE events SET available_tickets = available_tickets + @available, held_tickets = held_tickets + @held,
           checked_in_tickets = checked_in_tickets + @checkedIn
         WHERE id = @eventId AND available_tickets + @available >= 0 AND held_tickets + @held >= 0`,
      ),
      insertBooking: db.prepare('INSERT INTO bookings (id, event_id, tickets, created_at, secret_hash, buyer, buyer_name, buyer_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      insertTicket: db.prepare('INSERT INTO tickets (id, booking_seq, event_id) VALUES (?, ?, ?)'),
      insertHold: db.prepare(
        "INSERT INTO holds (id, event_id, tickets, status, created_at, expires_at, buyer, buyer_name, buyer_email) VALUES (@id, @eventId, @tickets, 'active', @createdAt, @expiresAt, @buyer, @buyerName, @buyerEmail)",
      ),
      // Only an active hold changes state: the WHERE makes "expired twice" impossible.
      endHold: db.prepare("UPDATE holds SET status = ?, booking_id = ? WHERE id = ? AND status = 'active'"),
      dueHolds: db.prepare<[string, number], HoldRow>(`SELECT ${HOLD_COLUMNS} FROM holds WHERE status = 'active' AND expires_at <= ? ORDER BY id LIMIT ?`),
      getBuyer: db.prepare<[string, string], BuyerTickets>(
        'SELECT event_id AS eventId, buyer, held, bought FROM buyer_tickets WHERE event_id = ? AND buyer = ?',
      ),
      // The CHECKs refuse a counter below zero, whatever the decision computed. (An upsert would
      // check its VALUES row, negative for a decrement, before it found the existing row.)
      moveBuyer: db.prepare('UPDATE buyer_tickets SET held = held + @held, bought = bought + @bought WHERE event_id = @eventId AND buyer = @buyer'),
      newBuyer: db.prepare('INSERT INTO buyer_tickets (event_id, buyer, held, bought) VALUES (@eventId, @buyer, @held, @bought)'),
      cancelTicket: db.prepare('UPDATE tickets SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL'),
      getKey: db.prepare<[string], StoredKey>('SELECT key, fingerprint, result, created_at AS createdAt FROM idempotency_keys WHERE key = ?'),
      putKey: db.prepare('INSERT OR REPLACE INTO idempotency_keys (key, fingerprint, result, created_at) VALUES (@key, @fingerprint, @result, @createdAt)'),
      purgeKeys: db.prepare('DELETE FROM idempotency_keys WHERE created_at < ?'),
      getTicketRef: db.prepare<[string], { id: string; event_id: string; booking_id: string; cancelled: number }>(
        'SELECT t.id, t.event_id, b.id AS booking_id, t.cancelled_at IS NOT NULL AS cancelled FROM tickets t JOIN bookings b ON b.seq = t.booking_seq WHERE t.id = ?',
      ),
      getDoor: db.prepare<[string], DoorRow>(`SELECT ${DOOR_COLUMNS} FROM doors WHERE id = ?`),
      getAdmission: db.prepare<[string], AdmissionRow>(`SELECT ${ADMISSION_COLUMNS} FROM checkins WHERE ticket_id = ?`),
      setOffline: db.prepare('UPDATE events SET offline_checkin = ? WHERE id = ?'),
      insertDoor: db.prepare('INSERT INTO doors (id, event_id, name, token_hash, created_at) VALUES (@id, @eventId, @name, @tokenHash, @createdAt)'),
      revokeDoor: db.prepare('UPDATE doors SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      // The conditional insert of the one admission: a second one for the ticket changes no row.
      admit: db.prepare(
        'INSERT INTO checkins (ticket_id, event_id, booking_id, door_id, at, offline) VALUES (@ticketId, @eventId, @bookingId, @doorId, @at, @offline) ON CONFLICT (ticket_id) DO NOTHING',
      ),
      insertScan: db.prepare(
        'INSERT INTO scans (event_id, ticket_id, door_id, at, recorded_at, outcome, offline) VALUES (@eventId, @ticketId, @doorId, @at, @recordedAt, @outcome, @offline)',
      ),
    };
    const tx = db.transaction((batch: WriteBatch) => runWrite(batch, this, ids));
    const journal = (this.journal = db.memory ? undefined : new JournalGuard(db));
    const walTruncateBytes = options.walTruncateBytes ?? WAL_TRUNCATE_BYTES;
    this.write = (batch) => {
      // A stat before (so nothing more goes into a journal already gone) and one after COMMIT, before
      // anyone is answered: an acknowledgement must never rest on a journal with no name on disk.
      const gone = journal?.check();
      if (gone) throw journalLostError(gone);
      const outcomes = tx.immediate(batch);
      const lost = journal?.check();
      if (lost) throw journalLostError(lost);
      if (journal && journal.size > walTruncateBytes) this.truncateWal();
      return outcomes;
    };
  }

  /**
   * Checkpoints every frame and truncates the WAL to zero, if no reader is in the way. It never
   * waits for one (busy_timeout 0 meanwhile): a reader holding an old snapshot makes it copy what it
   * can and stop; a later batch tries again. It runs after COMMIT, so a failure loses nothing.
   */
  private truncateWal(): void {
    const timeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    try {
      this.db.pragma('busy_timeout = 0');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // SQLITE_BUSY: another connection holds the checkpoint lock; the next batch tries again.
    } finally {
      this.db.pragma(`busy_timeout = ${timeout}`);
    }
  }

  purgeIdempotencyKeys(before: Date): number {
    if (this.journal?.fault) throw journalLostError(this.journal.fault);
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

  // RowAccess. The write lock is held from BEGIN IMMEDIATE, so reads need no locks of their own,
  // and a key needs no claim: no other transaction can decide it meanwhile.

  claimKeys(claims: KeyClaim[]): StoredKey[] {
    return this.keys(claims.map((c) => c.key));
  }

  keys(keys: string[]): StoredKey[] {
    return keys.flatMap((key) => this.stmt.getKey.get(key) ?? []);
  }

  holds(ids: string[]): StoredHold[] {
    return ids.flatMap((id) => this.reads.getStoredHold(id) ?? []);
  }

  lockActiveHolds(): void {
    // BEGIN IMMEDIATE already holds the database's one write lock.
  }

  dueHolds(now: string, limit: number): StoredHold[] {
    return this.stmt.dueHolds.all(now, limit).map(toStoredHold);
  }

  buyers(pairs: Array<{ eventId: string; buyer: string }>): BuyerTickets[] {
    return pairs.flatMap(({ eventId, buyer }) => this.stmt.getBuyer.get(eventId, buyer) ?? []);
  }

  bookings(ids: string[]): StoredBooking[] {
    return ids.flatMap((id) => this.reads.getBooking(id) ?? []);
  }

  events(ids: string[]): Event[] {
    return ids.flatMap((id) => this.reads.getEvent(id) ?? []);
  }

  tickets(ids: string[]): TicketRef[] {
    return ids.flatMap((id) => {
      const row = this.stmt.getTicketRef.get(id);
      return row ? [{ id: row.id, eventId: row.event_id, bookingId: row.booking_id, cancelled: row.cancelled === 1 }] : [];
    });
  }

  doors(ids: string[]): StoredDoor[] {
    return ids.flatMap((id) => {
      const row = this.stmt.getDoor.get(id);
      return row ? [toStoredDoor(row)] : [];
    });
  }

  admissions(ticketIds: string[]): Admission[] {
    return ticketIds.flatMap((id) => {
      const row = this.stmt.getAdmission.get(id);
      return row ? [toAdmission(row)] : [];
    });
  }

  queueLines(eventIds: string[], now: string): QueueLineRead[] {
    return this.queue.lines(eventIds, now);
  }

  queueEntries(query: QueueEntryQuery): StoredQueueEntry[] {
    return this.queue.entries(query);
  }

  /** Each write conditional; one that changes no row throws, and the whole batch rolls back. */
  apply(effects: Effects): void {
    for (const event of effects.newEvents) this.stmt.insertEvent.run({ ...event, offline: event.offlineCheckIn ? 1 : 0, salesOpenInt: event.salesOpen ? 1 : 0 });
    for (const [eventId, move] of effects.stock) {
      const fields = effects.eventUpdates.get(eventId);
      const changes = fields
        ? this.stmt.updateEvent.run({ eventId, checkedIn: 0, ...move, ...fields, salesOpenInt: fields.salesOpen ? 1 : 0 }).changes
        : this.stmt.moveStock.run({ eventId, checkedIn: 0, ...move }).changes;
      expectOne(changes, `stock of event ${eventId} changed under the write lock`);
    }
    for (const [eventId, settings] of effects.eventSettings) expectOne(this.stmt.setOffline.run(settings.offlineCheckIn ? 1 : 0, eventId).changes, `event ${eventId} is gone`);
    for (const door of effects.newDoors) this.stmt.insertDoor.run(door);
    for (const r of effects.revokedDoors) expectOne(this.stmt.revokeDoor.run(r.at, r.id).changes, `door ${r.id} changed under the write lock`);
    for (const booking of effects.newBookings) {
      const { id, eventId, tickets, createdAt, secretHash, buyer, contact } = booking;
      const seq = this.stmt.insertBooking.run(id, eventId, tickets.length, createdAt, secretHash ?? null, buyer ?? null, contact?.name ?? null, contact?.email ?? null).lastInsertRowid;
      for (const ticket of booking.tickets) this.stmt.insertTicket.run(ticket.id, seq, ticket.eventId);
    }
    for (const move of effects.buyers.values()) if (this.stmt.moveBuyer.run(move).changes === 0) this.stmt.newBuyer.run(move);
    for (const { contact, ...hold } of effects.newHolds) this.stmt.insertHold.run({ buyer: null, ...hold, buyerName: contact?.name ?? null, buyerEmail: contact?.email ?? null });
    for (const ending of effects.endedHolds) {
      expectOne(this.stmt.endHold.run(ending.status, ending.bookingId ?? null, ending.id).changes, `hold ${ending.id} changed under the write lock`);
    }
    for (const c of effects.cancelledTickets) {
      for (const ticketId of c.ticketIds) expectOne(this.stmt.cancelTicket.run(c.at, ticketId).changes, `ticket ${ticketId} changed under the write lock`);
    }
    // After the batch's own cancellations and hold endings: what is left goes with the event.
    for (const c of effects.cancelledEvents) {
      this.stmt.cancelEventTickets.run(c.at, c.eventId);
      this.stmt.releaseEventHolds.run(c.eventId);
    }
    for (const a of effects.admissions) expectOne(this.stmt.admit.run({ ...a, offline: a.offline ? 1 : 0 }).changes, `ticket ${a.ticketId} is already admitted`);
    for (const scan of effects.scans) this.stmt.insertScan.run({ ...scan, offline: scan.offline ? 1 : 0 });
    for (const key of effects.rememberKeys) this.stmt.putKey.run(key);
    this.queue.apply(effects);
    // `forgetKeys` has nothing to undo here: keys are never claimed ahead of their answer.
  }
}

function expectOne(changes: number, message: string): void {
  if (changes !== 1) throw new Error(message);
}
