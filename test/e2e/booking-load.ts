/**
 * Shared pieces of the end-to-end tests: a booking load over many keep-alive connections that can
 * fire a trigger (SIGKILL, SIGTERM) from inside the load, and the after-restart invariant check.
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Pool } from 'undici';
import { expect } from 'vitest';
import { TEST_ADMIN_TOKEN } from '../helpers/server-process.js';

export const adminHeaders = (token = TEST_ADMIN_TOKEN) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
});

export interface EventJson {
  id: string;
  name: string;
  date: string;
  totalTickets: number;
  availableTickets: number;
  maxTicketsPerBooking: number;
}

interface TicketJson {
  id: string;
  eventId: string;
  bookingId: string;
}

interface BookingJson {
  id: string;
  eventId: string;
  tickets: TicketJson[];
  createdAt: string;
}

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

export async function createEvent(url: string, totalTickets: number, token = TEST_ADMIN_TOKEN): Promise<EventJson> {
  const res = await call(url, 'POST', '/events', {
    headers: adminHeaders(token),
    body: { name: `e2e ${totalTickets}`, date: '2027-06-01T19:30:00Z', totalTickets, maxTicketsPerBooking: 10 },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as EventJson;
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
  /** Only the REST API tells the booking id. */
  bookingId?: string;
  ticketIds: string[];
}

export interface LoadReport {
  attempts: Attempt[];
  acknowledged: Acknowledged[];
  /** Requests on the wire (sent, not answered) at the moment the trigger fired. */
  inFlightAtTrigger: number | undefined;
  triggered: boolean;
}

export interface LoadOptions {
  url: string;
  eventId: string;
  connections: number;
  seed: number;
  /** Checked after every answer; the first time it returns true, `trigger` runs (once). */
  shouldTrigger(stats: { ackedTickets: number; inFlight: number; elapsedMs: number }): boolean;
  trigger(): void;
  /** The load ends when this settles (typically: the server process exited). */
  until: Promise<unknown>;
  /** Safety net: stop anyway after this long (the test's assertions then fail). */
  maxDurationMs: number;
}

/**
 * `connections` workers, each with its own keep-alive connection of one undici Pool, book 1–4
 * tickets in a loop, alternating `POST /reserve?eventId=..&tickets=n` and
 * `POST /events/:id/bookings {"tickets":n}`. A worker stops after a connection error once the
 * trigger has fired, or when `until` settles.
 */
export async function runBookingLoad(options: LoadOptions): Promise<LoadReport> {
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
  let ackedTickets = 0;
  let inFlight = 0;
  let triggered = false;
  let inFlightAtTrigger: number | undefined;
  let stopped = false;
  const started = Date.now();
  const stop = () => {
    stopped = true;
  };
  options.until.then(stop, stop);
  const safety = setTimeout(() => (stopped = true), options.maxDurationMs);

  const worker = async (index: number) => {
    let turn = index;
    while (!stopped) {
      const tickets = 1 + Math.floor(random() * 4);
      const api: Attempt['api'] = turn++ % 2 === 0 ? 'reserve' : 'bookings';
      const attempt: Attempt = { api, tickets, afterTrigger: triggered };
      attempts.push(attempt);
      inFlight++;
      try {
        const res = await pool.request(
          api === 'reserve'
            ? { method: 'POST', path: `/reserve?eventId=${options.eventId}&tickets=${tickets}` }
            : {
                method: 'POST',
                path: `/events/${options.eventId}/bookings`,
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
        acknowledged.push(ack);
        ackedTickets += ack.ticketIds.length;
      }
      if (!triggered && options.shouldTrigger({ ackedTickets, inFlight, elapsedMs: Date.now() - started })) {
        triggered = true;
        inFlightAtTrigger = inFlight;
        options.trigger();
      }
      // Before the trigger an error is a failure the test reports; after it, the server is going away.
      if (attempt.error !== undefined) break;
    }
  };

  try {
    await Promise.all(Array.from({ length: options.connections }, (_, i) => worker(i)));
  } finally {
    clearTimeout(safety);
    await pool.destroy();
  }
  return { attempts, acknowledged, inFlightAtTrigger, triggered };
}

/** What a 2xx answer acknowledged, checked against the API's shapes. */
function acknowledgement(attempt: Attempt): Acknowledged {
  if (attempt.api === 'reserve') {
    expect(attempt.status).toBe(200);
    const ids = attempt.body as string[];
    expect(Array.isArray(ids)).toBe(true);
    expect(ids).toHaveLength(attempt.tickets);
    for (const id of ids) expect(typeof id).toBe('string');
    return { api: 'reserve', ticketIds: ids };
  }
  expect(attempt.status).toBe(201);
  const booking = attempt.body as BookingJson;
  expect(booking.tickets).toHaveLength(attempt.tickets);
  return { api: 'bookings', bookingId: booking.id, ticketIds: booking.tickets.map((t) => t.id) };
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

interface DbFacts {
  available: number;
  total: number;
  storedTickets: number;
  distinctTicketIds: number;
  ticketsInBookings: number;
  /** Bookings whose `tickets` column disagrees with their ticket rows (half-applied). */
  inconsistentBookings: Array<{ seq: number; tickets: number; rows: number }>;
  /** Ticket rows whose event differs from their booking's. */
  misfiledTickets: number;
  ticketIds: Set<string>;
}

/** Reads the SQLite file directly, read-only (the server may hold it open in WAL mode). */
export function readDb(dataDir: string, eventId: string): DbFacts {
  const db = new Database(join(dataDir, 'boxoffice.db'), { readonly: true, fileMustExist: true });
  try {
    const event = db.prepare('SELECT total_tickets AS total, available_tickets AS available FROM events WHERE id = ?').get(eventId) as
      | { total: number; available: number }
      | undefined;
    if (!event) throw new Error(`event ${eventId} is not in the database`);
    const count = (sql: string) => (db.prepare(sql).pluck().get(eventId) as number | null) ?? 0;
    const ids = db.prepare('SELECT id FROM tickets WHERE event_id = ?').pluck().all(eventId) as string[];
    return {
      available: event.available,
      total: event.total,
      storedTickets: count('SELECT count(*) FROM tickets WHERE event_id = ?'),
      distinctTicketIds: count('SELECT count(DISTINCT id) FROM tickets WHERE event_id = ?'),
      ticketsInBookings: count('SELECT coalesce(sum(tickets), 0) FROM bookings WHERE event_id = ?'),
      inconsistentBookings: db
        .prepare(
          `SELECT b.seq AS seq, b.tickets AS tickets, count(t.id) AS rows
             FROM bookings b LEFT JOIN tickets t ON t.booking_seq = b.seq
            WHERE b.event_id = ?
            GROUP BY b.seq HAVING count(t.id) != b.tickets`,
        )
        .all(eventId) as DbFacts['inconsistentBookings'],
      misfiledTickets: count(
        'SELECT count(*) FROM tickets t JOIN bookings b ON b.seq = t.booking_seq WHERE b.event_id = ? AND t.event_id != b.event_id',
      ),
      ticketIds: new Set(ids),
    };
  } finally {
    db.close();
  }
}

/**
 * After a restart: the invariant holds in the API and in the file, no booking is half-applied, no
 * ticket id is stored or acknowledged twice, and every acknowledged ticket (and REST booking) is
 * served back by the restarted server.
 */
export async function checkAfterRestart(server: { url: string; dataDir: string }, event: EventJson, acknowledged: readonly Acknowledged[]) {
  const api = await call(server.url, 'GET', `/events/${event.id}`);
  expect(api.status).toBe(200);
  const available = (api.body as EventJson).availableTickets;

  const db = readDb(server.dataDir, event.id);
  expect(db.total).toBe(event.totalTickets);
  expect(db.available).toBe(available);
  expect(available + db.storedTickets).toBe(event.totalTickets);
  expect(db.distinctTicketIds).toBe(db.storedTickets);
  expect(db.ticketsInBookings).toBe(db.storedTickets);
  expect(db.inconsistentBookings).toEqual([]);
  expect(db.misfiledTickets).toBe(0);

  const ackedIds = acknowledged.flatMap((a) => a.ticketIds);
  expect(new Set(ackedIds).size, 'a ticket id was acknowledged twice').toBe(ackedIds.length);
  const missing = ackedIds.filter((id) => !db.ticketIds.has(id));
  expect(missing, 'acknowledged tickets missing from the database').toEqual([]);
  expect(db.storedTickets).toBeGreaterThanOrEqual(ackedIds.length);

  // The restarted server serves every acknowledged ticket and booking back.
  const pool = new Pool(server.url, { connections: 8 });
  try {
    const lookups = acknowledged.flatMap((ack) => [
      ...ack.ticketIds.map((id) => ({ path: `/tickets/${id}`, ack })),
      ...(ack.bookingId ? [{ path: `/bookings/${ack.bookingId}`, ack }] : []),
    ]);
    const failures: string[] = [];
    for (let i = 0; i < lookups.length; i += 256) {
      await Promise.all(
        lookups.slice(i, i + 256).map(async ({ path, ack }) => {
          const res = await pool.request({ method: 'GET', path });
          const body = (await res.body.json()) as TicketJson & BookingJson;
          if (res.statusCode !== 200) return void failures.push(`${path} → ${res.statusCode} ${JSON.stringify(body)}`);
          if (body.eventId !== event.id) failures.push(`${path} has eventId ${body.eventId}`);
          if (path.startsWith('/tickets/') && ack.bookingId && body.bookingId !== ack.bookingId) {
            failures.push(`${path} belongs to booking ${body.bookingId}, acknowledged as ${ack.bookingId}`);
          }
          if (path.startsWith('/bookings/')) {
            const stored = body.tickets.map((t) => t.id).sort();
            if (JSON.stringify(stored) !== JSON.stringify([...ack.ticketIds].sort())) failures.push(`${path} holds other tickets`);
          }
        }),
      );
    }
    expect(failures).toEqual([]);
  } finally {
    await pool.close();
  }
  return { available, stored: db.storedTickets, acknowledgedTickets: ackedIds.length };
}
