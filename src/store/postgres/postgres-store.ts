import type { QueueLine, StoredQueueEntry } from '../../core/queue-effects.js';
import type { QueueCounts } from '../../core/store.js';
import { readEntry, readLine, readRooms, readSharedKey, readSummary } from './postgres-queue.js';
import type pg from 'pg';
import type { Command, Outcome, WriteBatch } from '../../core/commands.js';
import type { StoredBooking, StoredDoor } from '../../core/effects.js';
import { publicDoor } from '../../core/decisions/index.js';
import { systemIdentity, type IdSource } from '../../core/identity.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { Store } from '../../core/store.js';
import type { AdminBooking, AttendeeRow, DoorSummary, Event, Hold, ScanRecord, Ticket } from '../../core/types.js';
import { runWriteAsync } from '../../core/write-plan.js';
import { publicHold } from '../../core/presenting.js';
import { pendingMigrations } from '../migration.js';
import { DOOR_COLUMNS, likePattern, toAdminBooking, toAttendee, toEvent, toScanRecord, toStoredDoor, type AdminBookingRow, type AttendeeSqlRow, type DoorRow, type EventRow, type ScanRow } from '../rows.js';
import { ChangeFeed } from './change-feed.js';
import { DatabaseClock, type DatabaseClockOptions } from './database-clock.js';
import { createPool, inTransaction } from './connection.js';
import { postgresMigrations } from './migrations.js';
import { Escrow, eventTotalsSelect, ShareShortage, type BatchEscrow } from './escrow.js';
import { readBookings, readHolds } from './postgres-reads.js';
import { PostgresRows } from './postgres-rows.js';

/** Commands a batch may decide from this node's shares alone (see BatchEscrow). */
// Everything else (event edits, check-in, and the waiting room's join/advance/pause) runs in event
// mode. Queue commands in share mode were tried: a batch on an event this node had no share of read
// no sellable stock, and admitted buyers were then refused "0 left" (test/e2e/waiting-room.test.ts,
// three nodes). Left for issue 12/13: a queue batch folds the shares, so every node tops up again.
const SHARE_COMMANDS = new Set<Command['type']>(['book', 'hold', 'confirm', 'release', 'expire']);
/** Tries of one batch: each short one is followed by a top-up; the last is decided on what it has. */
const MAX_TRIES = 5;
/** Other nodes hear of this node's commits at most this late (their caches' lag, beside the round trip). */
const ANNOUNCE_EVERY_MS = 50;

export interface PostgresStoreOptions {
  url: string;
  /** Schema holding the tables (default `public`); lets tests and tenants share one database. */
  schema?: string;
  /** Connections in this node's pool (default 10). */
  poolSize?: number;
  /** Upper bound for waiting on a connection and for any statement, in ms (default 5000). */
  timeoutMs?: number;
  /** Where new ids come from (tests). Each batch carries `now`, read by the service from `clock`. */
  identity?: IdSource;
  /** Tuning of the database clock (tests replace the local clock). */
  clock?: Omit<DatabaseClockOptions, 'logger'>;
  /** Escrow lease tuning (tests): lease length in seconds, renewal and sweep period in ms. */
  escrow?: { leaseSeconds?: number; renewEveryMs?: number };
  logger?: Logger;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;

/**
 * Shared storage for several server nodes. Each node's write lane sends one transaction per batch,
 * running the shared write plan (see PostgresRows for its locks and its one-statement apply). A hot
 * event's row lock is therefore taken once per batch, not per booking. The commit also notifies the
 * other nodes, whose caches then re-read.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private readonly ids: IdSource;
  private readonly feed: ChangeFeed;
  readonly clock: DatabaseClock;
  readonly escrow: Escrow;
  /** Identifies this process in notifications, so it can ignore its own. */
  private readonly notice: { channel: string; nodeId: string };
  private closed = false;
  private announcing = false;

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.migrate();
      await store.clock.start();
      await store.escrow.start();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  private constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) throw new Error(`schema must be a lowercase identifier of at most 40 characters, got "${schema}"`);
    this.schema = schema;
    this.logger = options.logger ?? silentLogger;
    this.ids = options.identity ?? systemIdentity;
    const timeoutMs = options.timeoutMs ?? 5000;
    this.pool = createPool({ url: options.url, schema, poolSize: options.poolSize ?? 10, timeoutMs, logger: this.logger });
    this.escrow = new Escrow(this.pool, this.logger, options.escrow);
    this.notice = { channel: `boxoffice_${schema}`, nodeId: this.escrow.nodeId };
    this.feed = new ChangeFeed({ url: options.url, ...this.notice, timeoutMs, logger: this.logger });
    this.clock = new DatabaseClock(this.pool, { logger: this.logger, ...options.clock });
  }

  /**
   * One transaction for the batch. A batch that only books, holds and ends holds sells from this
   * node's shares; when they cannot cover it, it is rolled back, a top-up moves stock to them in a
   * short transaction of its own, and the batch runs again (at most MAX_TRIES; the last decides on
   * what the shares hold, as do events with no stock left anywhere).
   */
  async write(batch: WriteBatch): Promise<Outcome[]> {
    const mode = batch.commands.every((c) => SHARE_COMMANDS.has(c.type)) ? 'share' : 'event';
    const demand = new Map<string, number>();
    for (const c of batch.commands) if (c.type === 'book' || c.type === 'hold') demand.set(c.eventId, (demand.get(c.eventId) ?? 0) + (Number.isInteger(c.tickets) && c.tickets > 0 ? c.tickets : 0));
    if (mode === 'event') this.escrow.forgetSoldOut();
    const settled = new Set(this.escrow.believedSoldOut());
    for (let tries = 1; ; tries++) {
      const escrow: BatchEscrow = { mode, nodeId: this.escrow.nodeId, demand, settled: tries === MAX_TRIES ? 'all' : settled };
      try {
        let changed = false;
        const outcomes = await inTransaction(this.pool, this.logger, async (client) => {
          const rows = new PostgresRows(client, escrow);
          const decided = await runWriteAsync(batch, rows, this.ids);
          changed = rows.changed;
          return decided;
        });
        if (changed) this.announce();
        return outcomes;
      } catch (err) {
        if (!(err instanceof ShareShortage)) throw err;
        for (const id of await this.escrow.topUp(err.needs)) settled.add(id);
      }
    }
  }

  /**
   * Tells the other nodes that this one committed, so their caches re-read: once per few ms at
   * most, and outside the write transactions. A NOTIFY inside a transaction takes a database-wide
   * lock from just before its COMMIT until the commit's WAL is flushed, so the nodes' commits
   * would run one after another again, each paying its own flush (measured: 1, 2, 4 nodes sold
   * 1,553, 715, 416 bookings/s with it). A node that dies between a COMMIT and its notice leaves the
   * others' caches stale until the next notice of anyone (reads of one booking or hold are not cached).
   */
  private announce(): void {
    if (this.announcing || this.closed) return;
    this.announcing = true;
    setTimeout(() => {
      this.announcing = false;
      this.pool.query('SELECT pg_notify($1, $2)', [this.notice.channel, this.notice.nodeId]).catch((err: Error) => this.logger.warn({ err: err.message }, 'could not notify the other nodes of a commit'));
    }, ANNOUNCE_EVERY_MS);
  }

  async getEvent(id: string): Promise<Event | undefined> {
    const { rows } = await this.pool.query<EventRow>({ name: 'get-event', text: `${eventTotalsSelect()} WHERE e.id = $1`, values: [id] });
    return rows[0] && toEvent(rows[0]);
  }

  async listEvents(): Promise<Event[]> {
    const { rows } = await this.pool.query<EventRow>({ name: 'list-events', text: `${eventTotalsSelect()} ORDER BY e.date, e.name, e.id` });
    return rows.map(toEvent);
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const { rows } = await this.pool.query<{ id: string; event_id: string; booking_id: string; cancelled: boolean }>({
      name: 'get-ticket',
      text: 'SELECT id, event_id, booking_id, cancelled_at IS NOT NULL AS cancelled FROM tickets WHERE id = $1',
      values: [id],
    });
    const row = rows[0];
    return row && { id: row.id, eventId: row.event_id, bookingId: row.booking_id, status: row.cancelled ? 'cancelled' : 'valid' };
  }

  async getBooking(id: string): Promise<StoredBooking | undefined> {
    return (await readBookings(this.pool, [id]))[0];
  }

  async countTickets(eventId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets WHERE event_id = $1 AND cancelled_at IS NULL', [eventId]);
    return rows[0]?.n ?? 0;
  }

  getQueueEntry(id: string): Promise<StoredQueueEntry | undefined> {
    return readEntry(this.pool, id);
  }

  queueLine(eventId: string): Promise<QueueLine | undefined> {
    return readLine(this.pool, eventId);
  }

  queueSummary(eventId: string, now: string): Promise<QueueCounts | undefined> {
    return readSummary(this.pool, eventId, now);
  }

  waitingRoomEvents(now: string): Promise<string[]> {
    return readRooms(this.pool, now);
  }

  sharedKey(name: string): Promise<string> {
    return readSharedKey(this.pool, name);
  }

  async getHold(id: string): Promise<Hold | undefined> {
    const hold = (await readHolds(this.pool, [id], false))[0];
    return hold && publicHold(hold);
  }

  async nextHoldExpiry(): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ next: Date | null }>({
      name: 'next-hold-expiry',
      text: "SELECT min(expires_at) AS next FROM holds WHERE status = 'active'",
    });
    return rows[0]?.next?.toISOString();
  }

  async getDoor(id: string): Promise<StoredDoor | undefined> {
    const { rows } = await this.pool.query<DoorRow>({ name: 'get-door', text: `SELECT ${DOOR_COLUMNS} FROM doors WHERE id = $1`, values: [id] });
    return rows[0] && toStoredDoor(rows[0]);
  }

  async listDoors(eventId: string): Promise<DoorSummary[]> {
    const { rows } = await this.pool.query<DoorRow & { admitted: number }>({
      name: 'list-doors',
      text: `SELECT ${DOOR_COLUMNS}, (SELECT count(*)::int FROM checkins c WHERE c.door_id = d.id) AS admitted FROM doors d WHERE event_id = $1 ORDER BY created_at, id`,
      values: [eventId],
    });
    return rows.map((row) => ({ ...publicDoor(toStoredDoor(row)), admitted: row.admitted }));
  }

  async doorList(eventId: string): Promise<{ cancelled: string[]; checkedIn: string[] }> {
    const [cancelled, checkedIn] = await Promise.all([
      this.pool.query<{ id: string }>({ name: 'cancelled-of', text: 'SELECT id FROM tickets WHERE event_id = $1 AND cancelled_at IS NOT NULL ORDER BY id', values: [eventId] }),
      this.pool.query<{ id: string }>({ name: 'checked-in-of', text: 'SELECT ticket_id AS id FROM checkins WHERE event_id = $1 ORDER BY ticket_id', values: [eventId] }),
    ]);
    return { cancelled: cancelled.rows.map((r) => r.id), checkedIn: checkedIn.rows.map((r) => r.id) };
  }

  async scans(eventId: string, limit: number): Promise<{ recent: ScanRecord[]; conflicts: ScanRecord[] }> {
    const columns = 's.ticket_id, s.door_id, d.name AS door_name, s.at, s.outcome, s.offline FROM scans s JOIN doors d ON d.id = s.door_id';
    const [recent, conflicts] = await Promise.all([
      this.pool.query<ScanRow>({ name: 'recent-scans', text: `SELECT ${columns} WHERE s.event_id = $1 ORDER BY s.seq DESC LIMIT $2`, values: [eventId, limit] }),
      this.pool.query<ScanRow>({
        name: 'conflict-scans',
        text: `SELECT ${columns} WHERE s.ticket_id IN (SELECT ticket_id FROM scans WHERE event_id = $1 AND outcome = 'conflict')
               AND s.outcome IN ('admitted', 'conflict') ORDER BY s.seq`,
        values: [eventId],
      }),
    ]);
    return { recent: recent.rows.map(toScanRecord), conflicts: conflicts.rows.map(toScanRecord) };
  }

  async attendees(eventId: string): Promise<AttendeeRow[]> {
    const { rows } = await this.pool.query<AttendeeSqlRow>({
      name: 'attendees',
      text: `SELECT t.id AS ticket_id, b.id AS booking_id, b.created_at AS booked_at, t.cancelled_at IS NOT NULL AS cancelled, c.at AS checked_in_at, d.name AS door_name,
                    b.buyer_name, b.buyer_email
             FROM bookings b JOIN tickets t ON t.booking_id = b.id LEFT JOIN checkins c ON c.ticket_id = t.id LEFT JOIN doors d ON d.id = c.door_id
             WHERE b.event_id = $1 ORDER BY b.created_at, b.id, t.id`,
      values: [eventId],
    });
    return rows.map(toAttendee);
  }

  async eventBookings(eventId: string, query: { search?: string; offset: number; limit: number }): Promise<{ total: number; bookings: AdminBooking[] }> {
    const pattern = query.search === undefined ? null : likePattern(query.search);
    const prefix = pattern === null ? null : `${pattern.slice(1, -1)}%`;
    const filter = `b.event_id = $1 AND ($2::text IS NULL OR lower(coalesce(b.buyer_name, '')) LIKE $2 OR lower(coalesce(b.buyer_email, '')) LIKE $2 OR b.id::text LIKE $3)`;
    const [count, page] = await Promise.all([
      this.pool.query<{ total: number }>({ name: 'event-bookings-count', text: `SELECT count(*)::int AS total FROM bookings b WHERE ${filter}`, values: [eventId, pattern, prefix] }),
      this.pool.query<AdminBookingRow>({
        name: 'event-bookings',
        text: `SELECT b.id, b.event_id, b.created_at, b.buyer_name, b.buyer_email,
                      array_agg(t.id::text ORDER BY t.id::text) AS ticket_ids,
                      array_agg(t.cancelled_at IS NOT NULL ORDER BY t.id::text) AS cancelled,
                      count(c.ticket_id)::int AS checked_in
               FROM bookings b JOIN tickets t ON t.booking_id = b.id LEFT JOIN checkins c ON c.ticket_id = t.id
               WHERE ${filter} GROUP BY b.id ORDER BY b.created_at DESC, b.id DESC LIMIT $4 OFFSET $5`,
        values: [eventId, pattern, prefix, query.limit, query.offset],
      }),
    ]);
    return { total: count.rows[0]!.total, bookings: page.rows.map(toAdminBooking) };
  }

  async purgeIdempotencyKeys(before: Date): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM idempotency_keys WHERE created_at < $1 AND result IS NOT NULL', [before]);
    return rowCount ?? 0;
  }

  async stockShares(): Promise<{ node: string; shares: Array<{ eventId: string; available: number }> }> {
    return { node: this.escrow.nodeId, shares: await this.escrow.shares() };
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  watchExternalChanges(listener: () => void): () => void {
    return this.feed.watch(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.stop();
    this.feed.close();
    // A clean stop gives this node's stock back at once (a killed one's comes back when its lease runs out).
    await this.escrow.stop().catch((err: Error) => this.logger.warn({ err: err.message }, "could not give this node's shares back; they return when its lease runs out"));
    await this.pool.end();
  }

  private async migrate(): Promise<void> {
    await inTransaction(this.pool, this.logger, async (client) => {
      // Nodes starting together queue here; the first applies the migrations, the rest find them done.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`boxoffice:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.schema}.boxoffice_migrations (
           version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const { rows } = await client.query<{ v: number }>(`SELECT coalesce(max(version), 0)::int AS v FROM ${this.schema}.boxoffice_migrations`);
      for (const m of pendingMigrations(postgresMigrations, rows[0]?.v ?? 0)) {
        await client.query(m.sql);
        await client.query(`INSERT INTO ${this.schema}.boxoffice_migrations (version, description) VALUES ($1, $2)`, [m.version, m.description]);
      }
    });
  }
}
