import pg from 'pg';
import { decideBatch, type IdentitySource } from '../../core/decide-batch.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import type { BookingOutcome, BookingRequest, Store } from '../../core/store.js';
import type { Booking, Event, Ticket } from '../../core/types.js';
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
const EVENT_COLUMNS = 'id, name, date, total_tickets, available_tickets, max_tickets_per_booking';

interface EventRow {
  id: string;
  name: string;
  date: Date;
  total_tickets: number;
  available_tickets: number;
  max_tickets_per_booking: number;
}

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
      `WITH created AS (INSERT INTO events (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6))
       SELECT pg_notify($7, $8)`,
      [event.id, event.name, event.date, event.totalTickets, event.availableTickets, event.maxTicketsPerBooking, this.channel, this.nodeId],
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
      const { rows } = await client.query<{ id: string; available_tickets: number }>({
        name: 'lock-events',
        text: 'SELECT id, available_tickets FROM events WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE',
        values: [eventIds],
      });
      const decision = decideBatch(requests, new Map(rows.map((r) => [r.id, r.available_tickets])), this.options.identity);
      if (decision.bookings.length > 0) await this.write(client, decision.taken, decision.bookings);
      return decision.outcomes;
    });
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const { rows } = await this.pool.query<{ id: string; event_id: string; booking_id: string }>({
      name: 'get-ticket',
      text: 'SELECT id, event_id, booking_id FROM tickets WHERE id = $1',
      values: [id],
    });
    const row = rows[0];
    return row && { id: row.id, eventId: row.event_id, bookingId: row.booking_id };
  }

  async getBooking(id: string): Promise<Booking | undefined> {
    const { rows } = await this.pool.query<{ id: string; event_id: string; created_at: Date; ticket_ids: string[] }>({
      name: 'get-booking',
      text: `SELECT b.id, b.event_id, b.created_at, array_agg(t.id::text ORDER BY t.id::text) AS ticket_ids
             FROM bookings b JOIN tickets t ON t.booking_id = b.id WHERE b.id = $1 GROUP BY b.id`,
      values: [id],
    });
    const row = rows[0];
    if (!row) return undefined;
    return {
      id: row.id,
      eventId: row.event_id,
      createdAt: row.created_at.toISOString(),
      tickets: row.ticket_ids.map((ticketId) => ({ id: ticketId, eventId: row.event_id, bookingId: row.id })),
    };
  }

  async countTickets(eventId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM tickets WHERE event_id = $1', [eventId]);
    return rows[0]?.n ?? 0;
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
   * One statement: the conditional decrement for every event of the batch, the booking rows, the
   * ticket rows and the notification. If any decrement finds fewer tickets than decided, the count
   * disagrees and the caller's transaction rolls back whole.
   */
  private async write(client: pg.PoolClient, taken: Map<string, number>, bookings: Booking[]): Promise<void> {
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
    const { rows } = await client.query<{ updated: number }>({
      name: 'write-batch',
      text: `WITH taken AS (
               UPDATE events e SET available_tickets = e.available_tickets - d.n
               FROM unnest($1::uuid[], $2::int[]) AS d(id, n)
               WHERE e.id = d.id AND e.available_tickets >= d.n
               RETURNING e.id),
             new_bookings AS (
               INSERT INTO bookings (id, event_id, tickets, created_at)
               SELECT * FROM unnest($3::uuid[], $4::uuid[], $5::int[], $6::timestamptz[])),
             new_tickets AS (
               INSERT INTO tickets (id, booking_id, event_id)
               SELECT * FROM unnest($7::uuid[], $8::uuid[], $9::uuid[]))
             SELECT (SELECT count(*)::int FROM taken) AS updated, pg_notify($10, $11)`,
      values: [
        [...taken.keys()],
        [...taken.values()],
        bookings.map((b) => b.id),
        bookings.map((b) => b.eventId),
        bookings.map((b) => b.tickets.length),
        bookings.map((b) => b.createdAt),
        ticketIds,
        ticketBookings,
        ticketEvents,
        this.channel,
        this.nodeId,
      ],
    });
    if (rows[0]?.updated !== taken.size) throw new Error('conditional decrement refused: availability changed under the row lock');
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

function toEvent(row: EventRow): Event {
  return {
    id: row.id,
    name: row.name,
    date: row.date.toISOString(),
    totalTickets: row.total_tickets,
    availableTickets: row.available_tickets,
    maxTicketsPerBooking: row.max_tickets_per_booking,
  };
}
