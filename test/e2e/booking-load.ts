/**
 * Shared pieces of the end-to-end tests and of `npm run soak`: a booking load over many keep-alive
 * connections that can fire a trigger (SIGKILL, SIGTERM) from inside the load, what the storage holds
 * (read straight from the SQLite file or from PostgreSQL), and the after-restart checks.
 *
 * Nothing here imports vitest, so the soak script runs it outside the test runner: checks return
 * violations (sentences), and `checkAfterRestart` throws an AssertionError for the tests.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import { TEST_ADMIN_TOKEN } from '../helpers/server-process.js';
import type { Booking, Event, Ticket } from '../../src/core/types.js';
import { eventTotalsSelect } from '../../src/store/postgres/escrow.js';

export const adminHeaders = (token = TEST_ADMIN_TOKEN) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
});

// The API's own shapes: a test that parses answers should break when the domain types change.
export type EventJson = Event;
type TicketJson = Ticket;
type BookingJson = Booking;

/** A small JSON request on a fresh pool: status and parsed body. */
export async function call(
  url: string,
  method: 'GET' | 'POST',
  path: string,
  options: { headers?: Record<string, string>; body?: unknown } = {},
): Promise<{ status: number; body: unknown; headers: Record<string, string | string[] | undefined> }> {
  const pool = new Pool(url, { connections: 1 });
  try {
    const res = await pool.request({
      method,
      path,
      headers: options.headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.body.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.statusCode, body, headers: res.headers };
  } finally {
    await pool.close();
  }
}

export function createEvent(url: string, totalTickets: number, token = TEST_ADMIN_TOKEN, name = `e2e ${totalTickets}`): Promise<EventJson> {
  return postEvent(url, { name, totalTickets, maxTicketsPerBooking: 10 }, token);
}

/** `POST /events` with the admin token (date 2027-06-01 unless given); fails the test on anything but 201. */
export async function postEvent<T = EventJson>(url: string, fields: Record<string, unknown>, token = TEST_ADMIN_TOKEN): Promise<T> {
  const res = await call(url, 'POST', '/events', { headers: adminHeaders(token), body: { date: '2027-06-01T19:30:00Z', ...fields } });
  assert.equal(res.status, 201, `create event: ${JSON.stringify(res.body)}`);
  return res.body as T;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run sends the same mix. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Attempt {
  api: 'reserve' | 'bookings';
  eventId: string;
  tickets: number;
  /** Sent after the trigger fired (e.g. after SIGTERM). */
  afterTrigger: boolean;
  status?: number;
  body?: unknown;
  /** Connection-level failure (refused, reset, closed mid-response). */
  error?: string;
  /** The failure happened before the trigger fired: the server failed on its own. */
  errorBeforeTrigger?: boolean;
}

export interface Acknowledged {
  api: 'reserve' | 'bookings';
  eventId: string;
  /** Only the REST API tells the booking id. */
  bookingId?: string;
  ticketIds: string[];
}

export interface LoadReport {
  attempts: Attempt[];
  acknowledged: Acknowledged[];
  /** 2xx answers whose body did not have the API's shape (a violation in itself). */
  malformed: string[];
  /** Requests on the wire (sent, not answered) at the moment the trigger fired. */
  inFlightAtTrigger: number | undefined;
  /** Milliseconds from the start of the load to the trigger. */
  triggeredAtMs: number | undefined;
  triggered: boolean;
}

export interface LoadOptions {
  url: string;
  /** The event to book, or use `eventIds`: each request then picks one of them (seeded). */
  eventId?: string;
  eventIds?: readonly string[];
  connections: number;
  seed: number;
  /** Tickets per request are 1..maxTickets (default 4). */
  maxTickets?: number;
  /** Checked after every answer; the first time it returns true, `trigger` runs (once). */
  shouldTrigger?(stats: { ackedTickets: number; inFlight: number; elapsedMs: number }): boolean;
  /** Fires the trigger this long after the load started, wherever the requests are: a random moment. */
  triggerAfterMs?: number;
  trigger(): void;
  /** The load ends when this settles (typically: the server process exited). */
  until: Promise<unknown>;
  /** Safety net: stop anyway after this long (the caller's checks then fail). */
  maxDurationMs: number;
}

/**
 * `connections` workers, each with its own keep-alive connection of one undici Pool, book 1–4
 * tickets in a loop, alternating `POST /reserve?eventId=..&tickets=n` and
 * `POST /events/:id/bookings {"tickets":n}`. A worker stops after a connection error, or when
 * `until` settles.
 */
export async function runBookingLoad(options: LoadOptions): Promise<LoadReport> {
  const eventIds = options.eventIds ?? (options.eventId ? [options.eventId] : []);
  if (eventIds.length === 0) throw new Error('runBookingLoad needs eventId or eventIds');
  const maxTickets = options.maxTickets ?? 4;
  const pool = new Pool(options.url, {
    connections: options.connections,
    pipelining: 1,
    // Fail fast once the server is gone instead of waiting for long timeouts.
    connectTimeout: 5_000,
    headersTimeout: 20_000,
    bodyTimeout: 20_000,
  });
  const random = prng(options.seed);
  const attempts: Attempt[] = [];
  const acknowledged: Acknowledged[] = [];
  const malformed: string[] = [];
  let ackedTickets = 0;
  let inFlight = 0;
  let triggered = false;
  let inFlightAtTrigger: number | undefined;
  let triggeredAtMs: number | undefined;
  let stopped = false;
  const started = Date.now();
  const stop = () => {
    stopped = true;
  };
  options.until.then(stop, stop);
  const safety = setTimeout(stop, options.maxDurationMs);
  const fire = () => {
    if (triggered) return;
    triggered = true;
    inFlightAtTrigger = inFlight;
    triggeredAtMs = Date.now() - started;
    options.trigger();
  };
  const timer = options.triggerAfterMs === undefined ? undefined : setTimeout(fire, options.triggerAfterMs);

  const worker = async (index: number) => {
    let turn = index;
    while (!stopped) {
      const tickets = 1 + Math.floor(random() * maxTickets);
      const eventId = eventIds[Math.floor(random() * eventIds.length)]!;
      const api: Attempt['api'] = turn++ % 2 === 0 ? 'reserve' : 'bookings';
      const attempt: Attempt = { api, eventId, tickets, afterTrigger: triggered };
      attempts.push(attempt);
      inFlight++;
      try {
        const res = await pool.request(
          api === 'reserve'
            ? { method: 'POST', path: `/reserve?eventId=${eventId}&tickets=${tickets}` }
            : {
                method: 'POST',
                path: `/events/${eventId}/bookings`,
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ tickets }),
              },
        );
        attempt.status = res.statusCode;
        const text = await res.body.text();
        try {
          attempt.body = JSON.parse(text) as unknown;
        } catch {
          attempt.body = text;
        }
      } catch (err) {
        // Includes a 2xx whose body was cut off by the kill: the client never learnt its ids.
        attempt.error = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`.trim();
        attempt.errorBeforeTrigger = !triggered;
      } finally {
        inFlight--;
      }
      if (attempt.error === undefined && attempt.status !== undefined && attempt.status >= 200 && attempt.status < 300) {
        const ack = acknowledgement(attempt);
        if (typeof ack === 'string') malformed.push(ack);
        else {
          acknowledged.push(ack);
          ackedTickets += ack.ticketIds.length;
        }
      }
      if (!triggered && options.shouldTrigger?.({ ackedTickets, inFlight, elapsedMs: Date.now() - started })) fire();
      // Before the trigger an error is a failure the caller reports; after it, the server is going away.
      if (attempt.error !== undefined) break;
    }
  };

  try {
    await Promise.all(Array.from({ length: options.connections }, (_, i) => worker(i)));
  } finally {
    clearTimeout(safety);
    clearTimeout(timer);
    await pool.destroy();
  }
  return { attempts, acknowledged, malformed, inFlightAtTrigger, triggeredAtMs, triggered };
}

/** What a 2xx answer acknowledged, or why its body does not have the API's shape. */
function acknowledgement(attempt: Attempt): Acknowledged | string {
  const what = `${attempt.api} of ${attempt.tickets} on ${attempt.eventId} → ${attempt.status} ${JSON.stringify(attempt.body).slice(0, 200)}`;
  if (attempt.api === 'reserve') {
    const ids = attempt.body;
    if (attempt.status !== 200 || !Array.isArray(ids) || ids.length !== attempt.tickets || !ids.every((id) => typeof id === 'string')) {
      return `malformed acknowledgement: ${what}`;
    }
    return { api: 'reserve', eventId: attempt.eventId, ticketIds: ids as string[] };
  }
  const booking = attempt.body as BookingJson | undefined;
  if (
    attempt.status !== 201 ||
    typeof booking?.id !== 'string' ||
    booking.eventId !== attempt.eventId ||
    !Array.isArray(booking.tickets) ||
    booking.tickets.length !== attempt.tickets ||
    !booking.tickets.every((t) => typeof t.id === 'string' && t.bookingId === booking.id && t.eventId === attempt.eventId)
  ) {
    return `malformed acknowledgement: ${what}`;
  }
  return { api: 'bookings', eventId: attempt.eventId, bookingId: booking.id, ticketIds: booking.tickets.map((t) => t.id) };
}

/** Statuses and errors in a compact form for assertion messages. */
export function summarize(report: LoadReport): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of report.attempts) {
    const key = a.error !== undefined ? `error${a.status ? ` after ${a.status}` : ''}: ${a.error.split(' ')[0]}` : String(a.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

// ---------------------------------------------------------------------------------------------
// What the storage holds, read behind the server's back.

export interface StoredEvent {
  total: number;
  available: number;
  /** Ticket rows of the event. */
  stored: number;
  /** Sum of the bookings' `tickets` column. */
  inBookings: number;
}

export interface StoredFacts {
  events: Map<string, StoredEvent>;
  /** Bookings whose `tickets` column disagrees with their ticket rows (half-applied). */
  inconsistentBookings: Array<{ booking: string; tickets: number; rows: number }>;
  /** Ticket rows whose event differs from their booking's, or whose booking is missing. */
  misfiledTickets: number;
  /** Ticket rows minus distinct ticket ids (0 unless an id is stored twice). */
  duplicateTicketIds: number;
  /** Every stored ticket id (lowercase) → its event id. */
  tickets: Map<string, string>;
}

/** Reads the storage's facts; the server may be running (it is idle while this is called). */
export type StorageProbe = () => Promise<StoredFacts>;

/** The SQLite file of a data dir, opened read-only (the server may hold it open in WAL mode). */
export function sqliteProbe(dataDir: string): StorageProbe {
  return async () => {
    const db = new Database(join(dataDir, 'boxoffice.db'), { readonly: true, fileMustExist: true });
    try {
      // One read transaction: every query sees the same snapshot.
      return db.transaction(() => {
        // One pass over each table (per-event subqueries would scan the tickets once per event).
        const stored = new Map(
          (db.prepare('SELECT event_id AS id, count(*) AS n FROM tickets GROUP BY event_id').all() as Array<{ id: string; n: number }>).map((r) => [r.id, r.n]),
        );
        const inBookings = new Map(
          (db.prepare('SELECT event_id AS id, sum(tickets) AS n FROM bookings GROUP BY event_id').all() as Array<{ id: string; n: number }>).map((r) => [r.id, r.n]),
        );
        const events = new Map<string, StoredEvent>();
        for (const e of db.prepare('SELECT id, total_tickets AS total, available_tickets AS available FROM events').all() as Array<{ id: string; total: number; available: number }>) {
          events.set(e.id, { total: e.total, available: e.available, stored: stored.get(e.id) ?? 0, inBookings: inBookings.get(e.id) ?? 0 });
        }
        // Tickets of events that do not exist would otherwise go unnoticed.
        for (const [id, n] of stored) if (!events.has(id)) events.set(id, { total: 0, available: 0, stored: n, inBookings: inBookings.get(id) ?? 0 });
        const inconsistentBookings = db
          .prepare(
            `SELECT b.id AS booking, b.tickets AS tickets, count(t.id) AS rows
               FROM bookings b LEFT JOIN tickets t ON t.booking_seq = b.seq
              GROUP BY b.seq HAVING count(t.id) != b.tickets`,
          )
          .all() as StoredFacts['inconsistentBookings'];
        const misfiledTickets = db
          .prepare('SELECT count(*) FROM tickets t LEFT JOIN bookings b ON b.seq = t.booking_seq WHERE b.seq IS NULL OR t.event_id != b.event_id')
          .pluck()
          .get() as number;
        const duplicateTicketIds = db.prepare('SELECT count(*) - count(DISTINCT lower(id)) FROM tickets').pluck().get() as number;
        const tickets = new Map<string, string>();
        for (const t of db.prepare('SELECT id, event_id AS eventId FROM tickets').all() as Array<{ id: string; eventId: string }>) {
          tickets.set(t.id.toLowerCase(), t.eventId);
        }
        return { events, inconsistentBookings, misfiledTickets, duplicateTicketIds, tickets };
      })();
    } finally {
      db.close();
    }
  };
}

/** The tables of a PostgreSQL schema, read in one REPEATABLE READ transaction. */
export function postgresProbe(url: string, schema: string): StorageProbe {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  return async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const s = schema;
      const stored = new Map(
        (await client.query<{ id: string; n: number }>(`SELECT event_id::text AS id, count(*)::int AS n FROM ${s}.tickets GROUP BY event_id`)).rows.map((r) => [r.id, r.n]),
      );
      const inBookings = new Map(
        (await client.query<{ id: string; n: number }>(`SELECT event_id::text AS id, sum(tickets)::int AS n FROM ${s}.bookings GROUP BY event_id`)).rows.map((r) => [r.id, r.n]),
      );
      const events = new Map<string, StoredEvent>();
      const rows = await client.query<{ id: string; total: number; available: number }>(
        `SELECT id::text AS id, total_tickets AS total, available_tickets AS available FROM (${eventTotalsSelect(s)}) e`,
      );
      for (const e of rows.rows) events.set(e.id, { total: e.total, available: e.available, stored: stored.get(e.id) ?? 0, inBookings: inBookings.get(e.id) ?? 0 });
      for (const [id, n] of stored) if (!events.has(id)) events.set(id, { total: 0, available: 0, stored: n, inBookings: inBookings.get(id) ?? 0 });
      const inconsistent = await client.query<{ booking: string; tickets: number; rows: number }>(
        `SELECT b.id::text AS booking, b.tickets, count(t.id)::int AS rows
           FROM ${s}.bookings b LEFT JOIN ${s}.tickets t ON t.booking_id = b.id
          GROUP BY b.id HAVING count(t.id) != b.tickets`,
      );
      const misfiled = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${s}.tickets t LEFT JOIN ${s}.bookings b ON b.id = t.booking_id
          WHERE b.id IS NULL OR t.event_id != b.event_id`,
      );
      const duplicates = await client.query<{ n: number }>(`SELECT (count(*) - count(DISTINCT id))::int AS n FROM ${s}.tickets`);
      const tickets = new Map<string, string>();
      const ticketRows = await client.query<{ id: string; event_id: string }>(`SELECT id::text AS id, event_id::text AS event_id FROM ${s}.tickets`);
      for (const t of ticketRows.rows) tickets.set(t.id.toLowerCase(), t.event_id);
      await client.query('COMMIT');
      return {
        events,
        inconsistentBookings: inconsistent.rows,
        misfiledTickets: misfiled.rows[0]?.n ?? 0,
        duplicateTicketIds: duplicates.rows[0]?.n ?? 0,
        tickets,
      };
    } finally {
      await client.end();
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The checks after a restart.

export interface Verification {
  /** Every broken promise, as a sentence; empty when all held. */
  violations: string[];
  /** Acknowledged ticket ids that are not stored, or that the server does not serve back. */
  lost: number;
  /** Tickets stored beyond what the events had to sell (stored + available − total, summed where > 0). */
  oversold: number;
  acknowledgedTickets: number;
  storedTickets: number;
  /** HTTP lookups made (tickets and bookings). */
  lookups: number;
  facts: StoredFacts;
}

export interface VerifyOptions {
  url: string;
  probe: StorageProbe;
  /** The events whose numbers must add up (all events of the storage are checked too). */
  events: ReadonlyArray<{ id: string; totalTickets: number }>;
  /** Everything any client was told, over all rounds so far. */
  acknowledged: readonly Acknowledged[];
  /**
   * Which acknowledgements to read back over HTTP (GET /tickets/:id, GET /bookings/:id); all by
   * default. The storage check always covers every one of them.
   */
  lookUp?: readonly Acknowledged[];
  /** Concurrent HTTP lookups (default 64). */
  lookupConcurrency?: number;
}

/**
 * After a restart (the server idle): every acknowledged ticket is stored and served back, every
 * acknowledged REST booking reads back whole, sold + available == total for every event in the API
 * and in the storage, no ticket id is stored or acknowledged twice, and no booking is half-applied.
 */
export async function verifyAfterRestart(options: VerifyOptions): Promise<Verification> {
  const violations: string[] = [];
  const note = (message: string, items?: readonly unknown[]) => {
    if (items && items.length === 0) return;
    const shown = items ? `: ${items.slice(0, 5).map((i) => (typeof i === 'string' ? i : JSON.stringify(i))).join('; ')}${items.length > 5 ? ` … (${items.length})` : ''}` : '';
    violations.push(`${message}${shown}`);
  };

  // What the API says, then what the storage holds (the server is idle, so they agree).
  const list = await call(options.url, 'GET', '/events');
  const apiEvents = new Map<string, EventJson>();
  if (list.status !== 200 || !Array.isArray(list.body)) note(`GET /events answered ${list.status}`);
  else for (const e of list.body as EventJson[]) apiEvents.set(e.id, e);
  const facts = await options.probe();

  let oversold = 0;
  let storedTickets = 0;
  for (const [id, e] of facts.events) {
    storedTickets += e.stored;
    if (e.stored + e.available !== e.total) note(`event ${id}: sold ${e.stored} + available ${e.available} != total ${e.total}`);
    if (e.stored + e.available > e.total) oversold += e.stored + e.available - e.total;
    if (e.available < 0) note(`event ${id}: available ${e.available} is negative`);
    if (e.inBookings !== e.stored) note(`event ${id}: bookings hold ${e.inBookings} tickets but ${e.stored} ticket rows are stored`);
    const api = apiEvents.get(id);
    if (!api) note(`event ${id} is stored but GET /events does not list it`);
    else if (api.availableTickets !== e.available || api.totalTickets !== e.total) {
      note(`event ${id}: the API says ${api.availableTickets}/${api.totalTickets}, the storage ${e.available}/${e.total}`);
    }
  }
  for (const event of options.events) {
    const stored = facts.events.get(event.id);
    if (!stored) note(`event ${event.id} is not stored`);
    else if (stored.total !== event.totalTickets) note(`event ${event.id}: total ${stored.total}, created with ${event.totalTickets}`);
  }
  note('half-applied bookings (ticket rows != tickets column)', facts.inconsistentBookings);
  if (facts.misfiledTickets !== 0) note(`${facts.misfiledTickets} ticket rows belong to no booking or to another event's booking`);
  if (facts.duplicateTicketIds !== 0) note(`${facts.duplicateTicketIds} ticket ids are stored twice`);

  // Every acknowledged ticket is stored, under the event it was booked for; none was handed out twice.
  const ackedIds = options.acknowledged.flatMap((a) => a.ticketIds.map((id) => id.toLowerCase()));
  const seen = new Set<string>();
  const twice = ackedIds.filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
  note('ticket ids acknowledged twice', twice);
  const lostIds = new Set<string>();
  const misplaced: string[] = [];
  for (const ack of options.acknowledged) {
    for (const raw of ack.ticketIds) {
      const id = raw.toLowerCase();
      const eventId = facts.tickets.get(id);
      if (eventId === undefined) lostIds.add(id);
      else if (eventId !== ack.eventId) misplaced.push(`${id} stored for ${eventId}, booked for ${ack.eventId}`);
    }
  }
  note('acknowledged tickets missing from the storage', [...lostIds]);
  note('acknowledged tickets stored under another event', misplaced);
  if (storedTickets < seen.size) note(`${storedTickets} tickets stored, fewer than the ${seen.size} acknowledged`);

  // The restarted server serves them back: tickets by id, REST bookings whole.
  const lookUp = options.lookUp ?? options.acknowledged;
  const lookups = lookUp.flatMap((ack) => [
    ...ack.ticketIds.map((id) => ({ path: `/tickets/${id}`, ack, id })),
    ...(ack.bookingId ? [{ path: `/bookings/${ack.bookingId}`, ack, id: undefined }] : []),
  ]);
  const failures: string[] = [];
  const pool = new Pool(options.url, { connections: 16, pipelining: 1 });
  try {
    let next = 0;
    const lookupWorker = async () => {
      while (next < lookups.length) {
        const { path, ack, id } = lookups[next++]!;
        let status = 0;
        let body: (TicketJson & BookingJson) | undefined;
        try {
          const res = await pool.request({ method: 'GET', path });
          status = res.statusCode;
          body = (await res.body.json()) as TicketJson & BookingJson;
        } catch (err) {
          failures.push(`${path} failed: ${(err as Error).message}`);
          if (id) lostIds.add(id.toLowerCase());
          continue;
        }
        if (status !== 200) {
          failures.push(`${path} → ${status} ${JSON.stringify(body)}`);
          if (id) lostIds.add(id.toLowerCase());
          continue;
        }
        if (body.eventId !== ack.eventId) failures.push(`${path} has eventId ${body.eventId}, booked for ${ack.eventId}`);
        if (id && ack.bookingId && body.bookingId !== ack.bookingId) {
          failures.push(`${path} belongs to booking ${body.bookingId}, acknowledged as ${ack.bookingId}`);
        }
        if (!id) {
          const stored = (body.tickets ?? []).map((t) => t.id.toLowerCase()).sort();
          const told = ack.ticketIds.map((t) => t.toLowerCase()).sort();
          if (JSON.stringify(stored) !== JSON.stringify(told)) failures.push(`${path} holds ${stored.length} tickets, not the ${told.length} acknowledged`);
        }
      }
    };
    await Promise.all(Array.from({ length: options.lookupConcurrency ?? 64 }, lookupWorker));
  } finally {
    await pool.close();
  }
  note('lookups after the restart failed', failures);

  return {
    violations,
    lost: lostIds.size,
    oversold,
    acknowledgedTickets: ackedIds.length,
    storedTickets,
    lookups: lookups.length,
    facts,
  };
}

/**
 * The single-event form the durability and CLI tests use: throws (AssertionError) on any violation,
 * and returns the event's numbers.
 */
export async function checkAfterRestart(server: { url: string; dataDir: string }, event: EventJson, acknowledged: readonly Acknowledged[]) {
  const result = await verifyAfterRestart({ url: server.url, probe: sqliteProbe(server.dataDir), events: [event], acknowledged });
  assert.deepEqual(result.violations, []);
  const stored = result.facts.events.get(event.id)!;
  return { available: stored.available, stored: stored.stored, acknowledgedTickets: result.acknowledgedTickets };
}
