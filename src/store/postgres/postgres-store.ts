import pg from 'pg';
import { decideBatch, IDEMPOTENCY_KEY_TTL_MS, type IdentitySource, type KeyToRemember, type StockChange } from '../../core/decide-batch.js';
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
import { silentLogger, type Logger } from '../../core/logger.js';
import type {
  BookingOutcome,
  BookingRequest,
  CancelOutcome,
  ConfirmOutcome,
  EventCounts,
  ExpiryResult,
  HoldOutcome,
  Store,
  StoredBooking,
  StoredKey,
} from '../../core/store.js';
import type { Booking, Event, Hold, Ticket } from '../../core/types.js';
import { EVENT_COLUMNS, HOLD_COLUMNS, toEvent, toHold, type EventRow, type HoldRow } from '../rows.js';
import { pendingMigrations } from '../migration.js';
import { postgresMigrations } from './migrations.js';

export interface PostgresStoreOptions {
  url: string;
  /** Schema holding the tables (default `public`); lets tests and tenants share one database. */
  schema?: string;
  /** Connections in this node's pool (default 10). */
  poolSize?: number;
  /** Upper bound for waiting on a connection and for any statement, in ms (default 5000). */
  timeoutMs?: number;
  identity?: IdentitySource;
  logger?: Logger;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,39}$/;
const COUNTS = 'id AS "eventId", available_tickets AS "availableTickets", held_tickets AS "heldTickets"';

/** A pooled client or the pool itself: reads run inside a transaction or on their own. */
type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** What a transaction writes in its one statement (see `write`). */
interface Writes {
  changes: ReadonlyMap<string, StockChange>;
  bookings: readonly Booking[];
  holds: readonly Hold[];
  keys: readonly KeyToRemember[];
}

const NOTHING_ELSE = { changes: new Map(), bookings: [], holds: [], keys: [] } satisfies Writes;

/**
 * Shared storage for several server nodes. Each node's group committer sends one transaction per
 * batch: it locks the batch's event rows in id order (so nodes never deadlock), decides the batch
 * with the same `decideBatch` as every adapter, then applies the conditional decrement and all inserts
 * in one statement, and commits. A hot event's row lock is therefore taken once per batch, not per
 * booking. The commit also notifies the other nodes, whose caches then re-read.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly schema: string;
  /** Identifies this process in notifications, so it can ignore its own. */
  private readonly nodeId = crypto.randomUUID();
  private readonly channel: string;
  private readonly pool: pg.Pool;
  private readonly logger: Logger;
  private closed = false;
  private readonly watchers = new Set<() => void>();
  private readonly identity: IdentitySource;

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  private constructor(private readonly options: PostgresStoreOptions) {
    const schema = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) throw new Error(`schema must be a lowercase identifier of at most 40 characters, got "${schema}"`);
    this.schema = schema;
    this.channel = `boxoffice_${schema}`;
    this.logger = options.logger ?? silentLogger;
    this.identity = options.identity ?? systemIdentity;
    const timeout = options.timeoutMs ?? 5000;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: timeout,
      idleTimeoutMillis: 30_000,
      statement_timeout: timeout,
      query_timeout: timeout + 1000,
      // PGAPPNAME lets an operator (or a test) tell this deployment's sessions apart in pg_stat_activity.
      application_name: process.env.PGAPPNAME ?? 'boxoffice',
      options: `-c search_path=${schema}`,
    });
    // An idle connection dropped by the server must not crash the process; the pool replaces it.
    this.pool.on('error', (err) => this.logger.warn({ err: err.message }, 'postgres connection lost'));
  }

  async createEvent(event: Event): Promise<void> {
    await this.pool.query(
      `WITH created AS (INSERT INTO events (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8))
       SELECT pg_notify($9, $10)`,
      [
        event.id,
        event.name,
        event.date,
        event.totalTickets,
        event.availableTickets,
        event.heldTickets,
        event.maxTicketsPerBooking,
        event.holdSeconds,
        this.channel,
        this.nodeId,
      ],
    );
  }

  async getEvent(id: string): Promise<Event | undefined> {
    const { rows } = await this.pool.query<EventRow>({ name: 'get-event', text: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = $1`, values: [id] });
    return rows[0] && toEvent(rows[0]);
  }

  async listEvents(): Promise<Event[]> {
    const { rows } = await this.pool.query<EventRow>({ name: 'list-events', text: `SELECT ${EVENT_COLUMNS} FROM events ORDER BY date, name, id` });
    return rows.map(toEvent);
  }

  async commitBookings(requests: readonly BookingRequest[]): Promise<BookingOutcome[]> {
    const eventIds = [...new Set(requests.map((r) => r.eventId))].sort();
    return this.transaction(async (client) => {
      // Keys first, then events, each in sorted order: every transaction takes its locks in the same
      // order, so nodes never deadlock.
      const previous = await this.claimKeys(client, requests);
      const { rows } = await client.query<{ id: string; availableTickets: number; heldTickets: number; holdSeconds: number }>({
        name: 'lock-events',
        text: `SELECT id, available_tickets AS "availableTickets", held_tickets AS "heldTickets", hold_seconds AS "holdSeconds"
               FROM events WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        values: [eventIds],
      });
      const decision = decideBatch(requests, new Map(rows.map((r) => [r.id, r])), previous, this.identity);
      if (decision.changes.size > 0 || decision.keys.length > 0) await this.write(client, decision);
      return decision.outcomes;
    });
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

  getBooking(id: string): Promise<StoredBooking | undefined> {
    return this.readBooking(this.pool, id);
  }

  async countTickets(eventId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets WHERE event_id = $1 AND cancelled_at IS NULL', [eventId]);
    return rows[0]?.n ?? 0;
  }

  getHold(id: string): Promise<Hold | undefined> {
    return this.readHold(this.pool, id, false);
  }

  async nextHoldExpiry(): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ next: Date | null }>({
      name: 'next-hold-expiry',
      text: "SELECT min(expires_at) AS next FROM holds WHERE status = 'active'",
    });
    return rows[0]?.next?.toISOString();
  }

  confirmHold(id: string, now: Date): Promise<ConfirmOutcome> {
    return this.transaction(async (client): Promise<ConfirmOutcome> => {
      const hold = await this.readHold(client, id, true);
      const decision = decideConfirm(hold, id, now, this.identity);
      switch (decision.action) {
        case 'refuse':
          return { ok: false, error: decision.error };
        case 'replay':
          return {
            ok: true,
            booking: replayConfirmation(publicBooking((await this.readBooking(client, decision.bookingId))!), await this.readKey(client, confirmationKey(id))),
            replayed: true,
          };
        case 'expire':
          return { ok: false, error: decision.error, counts: await this.endHold(client, hold!, 'expired') };
        case 'confirm': {
          const counts = await this.moveHeld(client, hold!, 0);
          await this.write(client, { ...NOTHING_ELSE, bookings: [decision.booking] });
          if (!(await this.setStatus(client, hold!, 'confirmed', decision.booking.id))) throw new Error(`hold ${id} changed under the row lock`);
          const remembered = rememberConfirmation(id, decision.booking);
          await client.query({
            name: 'remember-confirmation',
            text: `INSERT INTO idempotency_keys (key, fingerprint, result, created_at) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result, created_at = excluded.created_at`,
            values: [remembered.key, remembered.fingerprint, remembered.result, remembered.createdAt],
          });
          return { ok: true, booking: decision.booking, counts, replayed: false };
        }
      }
    });
  }

  releaseHold(id: string, now: Date): Promise<HoldOutcome> {
    return this.transaction(async (client): Promise<HoldOutcome> => {
      const hold = await this.readHold(client, id, true);
      const decision = decideRelease(hold, id, now);
      switch (decision.action) {
        case 'refuse':
          return { ok: false, error: decision.error };
        case 'replay':
          return { ok: true, hold: decision.hold };
        case 'expire':
          return { ok: false, error: decision.error, counts: await this.endHold(client, hold!, 'expired') };
        case 'release':
          return { ok: true, hold: decision.hold, counts: await this.endHold(client, hold!, 'released') };
      }
    });
  }

  expireHolds(now: Date): Promise<ExpiryResult> {
    return this.transaction(async (client) => {
      // SKIP LOCKED: a hold another node is expiring (or a buyer confirming) right now is theirs;
      // whatever they decide, the hold ends exactly once.
      const due = await client.query<{ id: string; event_id: string; tickets: number }>({
        name: 'lock-due-holds',
        text: `SELECT id, event_id, tickets FROM holds WHERE status = 'active' AND expires_at <= $1
               ORDER BY id LIMIT 5000 FOR UPDATE SKIP LOCKED`,
        values: [now],
      });
      if (due.rows.length === 0) return { expired: 0, counts: [] };
      const back = new Map<string, number>();
      for (const row of due.rows) back.set(row.event_id, (back.get(row.event_id) ?? 0) + row.tickets);
      const eventIds = [...back.keys()].sort();
      // Event rows are locked in id order, as a booking batch locks them: an UPDATE … FROM would take
      // them in whatever order its join produced and could deadlock against a batch.
      await client.query({ name: 'lock-events-in-order', text: 'SELECT 1 FROM events WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', values: [eventIds] });
      const { rows } = await client.query<EventCounts>({
        name: 'expire-holds',
        text: `WITH ended AS (UPDATE holds SET status = 'expired' WHERE id = ANY($1::uuid[]) AND status = 'active'),
               returned AS (
                 UPDATE events e SET held_tickets = e.held_tickets - d.n, available_tickets = e.available_tickets + d.n
                 FROM unnest($2::uuid[], $3::int[]) AS d(id, n)
                 WHERE e.id = d.id AND e.held_tickets >= d.n
                 RETURNING e.id AS "eventId", e.available_tickets AS "availableTickets", e.held_tickets AS "heldTickets"),
               notified AS (SELECT pg_notify($4, $5))
               SELECT r.* FROM returned r, notified ORDER BY r."eventId"`,
        values: [due.rows.map((r) => r.id), eventIds, eventIds.map((e) => back.get(e)!), this.channel, this.nodeId],
      });
      if (rows.length !== eventIds.length) throw new Error('held counts disagree with the expiring holds');
      return { expired: due.rows.length, counts: rows };
    });
  }

  cancelBooking(id: string, ticketIds: readonly string[] | undefined, now: Date): Promise<CancelOutcome> {
    return this.transaction(async (client): Promise<CancelOutcome> => {
      // The booking row lock serialises cancellations of one booking; it is taken before the event row.
      await client.query({ name: 'lock-booking', text: 'SELECT 1 FROM bookings WHERE id = $1 FOR UPDATE', values: [id] });
      const booking = await this.readBooking(client, id);
      const decision = decideCancel(booking, id, ticketIds);
      if (decision.action === 'refuse') return { ok: false, error: decision.error };
      const { rows } = await client.query<EventCounts & { cancelled: number }>({
        name: 'cancel-tickets',
        text: `WITH cancelled AS (
                 UPDATE tickets SET cancelled_at = $3 WHERE id = ANY($1::uuid[]) AND booking_id = $2 AND cancelled_at IS NULL RETURNING id),
               returned AS (
                 UPDATE events SET available_tickets = available_tickets + (SELECT count(*) FROM cancelled)
                 WHERE id = $4 RETURNING ${COUNTS})
               SELECT r.*, (SELECT count(*)::int FROM cancelled) AS cancelled, pg_notify($5, $6) FROM returned r`,
        values: [decision.ticketIds, id, now, booking!.eventId, this.channel, this.nodeId],
      });
      const row = rows[0];
      if (row?.cancelled !== decision.ticketIds.length) throw new Error(`tickets of booking ${id} changed under the row lock`);
      const counts = { eventId: row.eventId, availableTickets: row.availableTickets, heldTickets: row.heldTickets };
      return { ok: true, booking: publicBooking(withCancelled(booking!, decision.ticketIds)), counts, cancelled: row.cancelled };
    });
  }

  async purgeIdempotencyKeys(before: Date): Promise<number> {
    const { rowCount } = await this.pool.query('DELETE FROM idempotency_keys WHERE created_at < $1 AND result IS NOT NULL', [before]);
    return rowCount ?? 0;
  }

  /** LISTEN on a dedicated connection; reconnects with backoff, and reports a change after each reconnect (some may have been missed). */
  watchExternalChanges(listener: () => void): () => void {
    let client: pg.Client | undefined;
    let stopped = false;
    let delay = 250;
    const connect = async () => {
      if (stopped || this.closed) return;
      const c = new pg.Client({ connectionString: this.options.url, application_name: `${process.env.PGAPPNAME ?? 'boxoffice'}-listen`, connectionTimeoutMillis: this.options.timeoutMs ?? 5000 });
      client = c;
      const retry = (reason: string) => {
        c.removeAllListeners();
        c.on('error', () => {});
        void c.end().catch(() => {});
        if (stopped || this.closed) return;
        this.logger.warn({ reason, retryInMs: delay }, 'postgres change feed lost; reconnecting');
        setTimeout(() => void connect(), delay).unref();
        delay = Math.min(delay * 2, 5000);
      };
      c.on('error', (err) => retry(err.message));
      c.on('end', () => retry('connection ended'));
      c.on('notification', (msg) => {
        if (msg.payload !== this.nodeId) listener();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${this.channel}`);
        if (delay > 250) listener();
        delay = 250;
      } catch (err) {
        retry((err as Error).message);
      }
    };
    const stop = () => {
      stopped = true;
      this.watchers.delete(stop);
      if (client) {
        client.removeAllListeners();
        client.on('error', () => {});
        void client.end().catch(() => {});
      }
    };
    this.watchers.add(stop);
    void connect();
    return stop;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.watchers]) stop();
    await this.pool.end();
  }

  /**
   * One statement: the conditional decrement for every event of the batch, the booking, ticket and
   * hold rows, the idempotency keys and the notification. If any decrement finds fewer tickets than
   * decided, the count disagrees and the caller's transaction rolls back whole.
   */
  private async write(client: pg.PoolClient, writes: Writes): Promise<void> {
    const { changes, bookings, holds, keys } = writes;
    const ticketIds: string[] = [];
    const ticketBookings: string[] = [];
    const ticketEvents: string[] = [];
    for (const b of bookings) {
      for (const t of b.tickets) {
        ticketIds.push(t.id);
        ticketBookings.push(b.id);
        ticketEvents.push(b.eventId);
      }
    }
    const changed = [...changes.entries()];
    const { rows } = await client.query<{ updated: number }>({
      name: 'write-batch',
      text: `WITH taken AS (
               UPDATE events e SET available_tickets = e.available_tickets - d.n, held_tickets = e.held_tickets + d.h
               FROM unnest($1::uuid[], $2::int[], $3::int[]) AS d(id, n, h)
               WHERE e.id = d.id AND e.available_tickets >= d.n
               RETURNING e.id),
             new_bookings AS (
               INSERT INTO bookings (id, event_id, tickets, created_at, secret_hash)
               SELECT * FROM unnest($4::uuid[], $5::uuid[], $6::int[], $7::timestamptz[], $8::text[])),
             new_tickets AS (
               INSERT INTO tickets (id, booking_id, event_id)
               SELECT * FROM unnest($9::uuid[], $10::uuid[], $11::uuid[])),
             new_holds AS (
               INSERT INTO holds (id, event_id, tickets, status, created_at, expires_at)
               SELECT d.id, d.e, d.n, 'active', d.c, d.x FROM unnest($12::uuid[], $13::uuid[], $14::int[], $15::timestamptz[], $16::timestamptz[]) AS d(id, e, n, c, x)),
             remembered AS (
               UPDATE idempotency_keys k SET fingerprint = d.f, result = d.r, created_at = d.c
               FROM unnest($17::text[], $18::text[], $19::text[], $20::timestamptz[]) AS d(key, f, r, c)
               WHERE k.key = d.key)
             SELECT (SELECT count(*)::int FROM taken) AS updated, pg_notify($21, $22)`,
      values: [
        changed.map(([id]) => id),
        changed.map(([, c]) => c.taken),
        changed.map(([, c]) => c.held),
        bookings.map((b) => b.id),
        bookings.map((b) => b.eventId),
        bookings.map((b) => b.tickets.length),
        bookings.map((b) => b.createdAt),
        bookings.map((b) => (b.secret ? hashSecret(b.secret) : null)),
        ticketIds,
        ticketBookings,
        ticketEvents,
        holds.map((h) => h.id),
        holds.map((h) => h.eventId),
        holds.map((h) => h.tickets),
        holds.map((h) => h.createdAt),
        holds.map((h) => h.expiresAt),
        keys.map((k) => k.key),
        keys.map((k) => k.fingerprint),
        keys.map((k) => k.result),
        keys.map((k) => k.createdAt),
        this.channel,
        this.nodeId,
      ],
    });
    if (rows[0]?.updated !== changes.size) throw new Error('conditional decrement refused: availability changed under the row lock');
  }

  /**
   * Claims the batch's idempotency keys by inserting them (a key another transaction is deciding right
   * now makes this wait for its COMMIT, so a concurrent repeat on another node replays instead of
   * booking twice). Returns the keys that were already decided: their first answers.
   */
  private async claimKeys(client: pg.PoolClient, requests: readonly BookingRequest[]): Promise<Map<string, StoredKey>> {
    const fingerprints = new Map<string, string>();
    for (const r of requests) if (r.idempotency && !fingerprints.has(r.idempotency.key)) fingerprints.set(r.idempotency.key, r.idempotency.fingerprint);
    const previous = new Map<string, StoredKey>();
    if (fingerprints.size === 0) return previous;
    const keys = [...fingerprints.keys()].sort();
    const now = this.identity.now();
    // An expired key is claimed afresh, as if it had never been used.
    const claimed = await client.query<{ key: string }>({
      name: 'claim-keys',
      text: `INSERT INTO idempotency_keys (key, fingerprint, created_at) SELECT * FROM unnest($1::text[], $2::text[]) AS d(key, f), (SELECT $3::timestamptz) AS c
             ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, result = NULL
             WHERE idempotency_keys.created_at < $4
             RETURNING key`,
      values: [keys, keys.map((k) => fingerprints.get(k)), now, new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS)],
    });
    const mine = new Set(claimed.rows.map((r) => r.key));
    const decided = keys.filter((k) => !mine.has(k));
    if (decided.length === 0) return previous;
    const { rows } = await client.query<{ key: string; fingerprint: string; result: string; created_at: Date }>({
      name: 'read-keys',
      text: 'SELECT key, fingerprint, result, created_at FROM idempotency_keys WHERE key = ANY($1::text[])',
      values: [decided],
    });
    for (const row of rows) previous.set(row.key, { key: row.key, fingerprint: row.fingerprint, result: row.result, createdAt: row.created_at.toISOString() });
    return previous;
  }

  private async readKey(q: Queryable, key: string): Promise<StoredKey | undefined> {
    const { rows } = await q.query<{ key: string; fingerprint: string; result: string | null; created_at: Date }>({
      name: 'read-key',
      text: 'SELECT key, fingerprint, result, created_at FROM idempotency_keys WHERE key = $1',
      values: [key],
    });
    const row = rows[0];
    return row?.result ? { key: row.key, fingerprint: row.fingerprint, result: row.result, createdAt: row.created_at.toISOString() } : undefined;
  }

  private async readHold(q: Queryable, id: string, lock: boolean): Promise<Hold | undefined> {
    const { rows } = await q.query<HoldRow>({
      name: lock ? 'lock-hold' : 'get-hold',
      text: `SELECT ${HOLD_COLUMNS} FROM holds WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
      values: [id],
    });
    return rows[0] && toHold(rows[0]);
  }

  private async readBooking(q: Queryable, id: string): Promise<StoredBooking | undefined> {
    const { rows } = await q.query<{ id: string; event_id: string; created_at: Date; secret_hash: string | null; ticket_ids: string[]; cancelled: boolean[] }>({
      name: 'get-booking',
      text: `SELECT b.id, b.event_id, b.created_at, b.secret_hash,
                    array_agg(t.id::text ORDER BY t.id::text) AS ticket_ids,
                    array_agg(t.cancelled_at IS NOT NULL ORDER BY t.id::text) AS cancelled
             FROM bookings b JOIN tickets t ON t.booking_id = b.id WHERE b.id = $1 GROUP BY b.id`,
      values: [id],
    });
    const row = rows[0];
    if (!row) return undefined;
    const booking: StoredBooking = {
      id: row.id,
      eventId: row.event_id,
      createdAt: row.created_at.toISOString(),
      tickets: row.ticket_ids.map((ticketId, i) => ({
        id: ticketId,
        eventId: row.event_id,
        bookingId: row.id,
        status: row.cancelled[i] ? 'cancelled' : 'valid',
      })),
    };
    if (row.secret_hash) booking.secretHash = row.secret_hash;
    return booking;
  }

  /** Ends an active hold as released or expired and returns its tickets to stock. */
  private async endHold(client: pg.PoolClient, hold: Hold, status: 'released' | 'expired'): Promise<EventCounts | undefined> {
    if (!(await this.setStatus(client, hold, status))) return undefined;
    return this.moveHeld(client, hold, hold.tickets);
  }

  private async setStatus(client: pg.PoolClient, hold: Hold, status: 'confirmed' | 'released' | 'expired', bookingId: string | null = null): Promise<boolean> {
    const { rowCount } = await client.query({
      name: 'set-hold-status',
      text: "UPDATE holds SET status = $2, booking_id = $3 WHERE id = $1 AND status = 'active'",
      values: [hold.id, status, bookingId],
    });
    return rowCount === 1;
  }

  /** Takes a hold's tickets out of `held`, `back` of them into `available` (0 when they were sold). */
  private async moveHeld(client: pg.PoolClient, hold: Hold, back: number): Promise<EventCounts> {
    const { rows } = await client.query<EventCounts>({
      name: 'move-held',
      text: `WITH moved AS (
               UPDATE events SET held_tickets = held_tickets - $2, available_tickets = available_tickets + $3
               WHERE id = $1 AND held_tickets >= $2 RETURNING ${COUNTS})
             SELECT m.*, pg_notify($4, $5) FROM moved m`,
      values: [hold.eventId, hold.tickets, back, this.channel, this.nodeId],
    });
    if (!rows[0]) throw new Error(`held count of event ${hold.eventId} is short`);
    const { eventId, availableTickets, heldTickets } = rows[0];
    return { eventId, availableTickets, heldTickets };
  }

  private async migrate(): Promise<void> {
    await this.transaction(async (client) => {
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

  /** BEGIN … COMMIT on one pooled connection; any failure rolls back and throws. */
  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // While checked out, the pool does not listen for the connection's errors: a backend killed
    // mid-transaction would otherwise be an unhandled 'error' event and take the process down.
    // The query in progress rejects on its own, which is what reports the failure.
    const onError = (err: Error) => this.logger.warn({ err: err.message }, 'postgres connection lost during a transaction');
    client.on('error', onError);
    let failed = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      failed = true;
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.off('error', onError);
      // A connection that saw an error may be half-broken: drop it rather than reuse it.
      client.release(failed);
    }
  }
}
