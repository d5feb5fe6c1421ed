/**
 * The invariant after every booking scenario, checked twice: through the API while the server runs,
 * and in the database itself (the SQLite file opened read-only after the server stopped, or
 * PostgreSQL through pg). For every event the scenario booked on:
 *   - tickets stored + available == total            (no oversell, no lost ticket)
 *   - tickets stored == Σ tickets of stored bookings  (no orphan ticket rows)
 *   - tickets stored == 2xx booking answers           (every confirmed booking is stored, nothing else is)
 *   - the API's availableTickets == the database's
 * Every request books one ticket, so 2xx answers count tickets. Every request sent is answered (see
 * load.ts), so the last check is exact; only if the load generator saw socket errors or timeouts
 * (a booking may have committed without its answer arriving) is stored allowed to exceed the 2xx count
 * by at most that many.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { api } from './server.js';

export interface EventFacts {
  id: string;
  total: number;
}

export type StoreRef = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; schema: string };

export interface VerifyInput {
  baseUrl: string;
  events: EventFacts[];
  /** 2xx booking answers per event, warm-up included. */
  booked2xxByEvent: Map<string, number>;
  /** Socket errors + timeouts seen by the load generator (answers that may have been lost). */
  lostAnswers: number;
  /** One booking answer body, read back through GET /bookings/:id and GET /tickets/:id. */
  sampleBookingBody?: string | undefined;
}

export interface DbEventRow {
  id: string;
  total: number;
  available: number;
  sold: number;
  bookedInBookings: number;
  bookings: number;
}

export interface VerifyReport {
  ok: boolean;
  problems: string[];
  checkedEvents: number;
  answered2xx: number;
  ticketsStored: number;
  available: number;
  total: number;
}

/** Part 1, while the server runs: what the API says. Returns availableTickets per event. */
export async function readThroughApi(input: VerifyInput, problems: string[], expectedAvailable?: Map<string, number>): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  const ids = input.events.map((e) => e.id);
  // Other processes' caches catch up within ~100 ms; give them a few tries before calling it a problem.
  for (let attempt = 0; attempt < 10; attempt++) {
    let mismatch = false;
    await forEachLimit(ids, 16, async (id) => {
      const res = await api(input.baseUrl, 'GET', `/events/${id}`);
      if (res.status !== 200) {
        if (attempt === 9) problems.push(`GET /events/${id} answered ${res.status}`);
        mismatch = true;
        return;
      }
      const event = res.json as { totalTickets: number; availableTickets: number };
      seen.set(id, event.availableTickets);
      if (expectedAvailable && expectedAvailable.get(id) !== event.availableTickets) mismatch = true;
    });
    if (!mismatch || !expectedAvailable) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (input.sampleBookingBody) await readBackSample(input.baseUrl, input.sampleBookingBody, problems);
  return seen;
}

async function readBackSample(baseUrl: string, body: string, problems: string[]): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    problems.push(`a 2xx booking answer was not JSON: ${body.slice(0, 120)}`);
    return;
  }
  // POST /events/:id/bookings answers a Booking; POST /reserve answers an array of ticket ids.
  let ticketIds: string[];
  if (Array.isArray(parsed)) {
    ticketIds = parsed as string[];
  } else {
    const booking = parsed as { id: string; tickets: Array<{ id: string }> };
    const res = await api(baseUrl, 'GET', `/bookings/${booking.id}`);
    const stored = res.json as { tickets?: Array<{ id: string }> } | undefined;
    if (res.status !== 200 || stored?.tickets?.length !== booking.tickets.length) {
      problems.push(`GET /bookings/${booking.id} answered ${res.status} ${res.text.slice(0, 120)}`);
    }
    ticketIds = booking.tickets.map((t) => t.id);
  }
  for (const ticketId of ticketIds) {
    const res = await api(baseUrl, 'GET', `/tickets/${ticketId}`);
    if (res.status !== 200) problems.push(`GET /tickets/${ticketId} of a confirmed booking answered ${res.status}`);
  }
}

/** Part 2: what the database holds, per event. */
export async function readDatabase(store: StoreRef, ids: string[]): Promise<Map<string, DbEventRow>> {
  const rows = new Map<string, DbEventRow>();
  const wanted = new Set(ids);
  if (store.kind === 'sqlite') {
    const db = new Database(store.file, { readonly: true, fileMustExist: true });
    try {
      // One read transaction, one snapshot: the server may still be committing what the generator
      // sent at its deadline, and three separate reads would each see a different database.
      const { events, sold, booked } = db.transaction(() => ({
        events: db.prepare('SELECT id, total_tickets AS total, available_tickets AS available FROM events').all() as Array<{ id: string; total: number; available: number }>,
        sold: new Map((db.prepare('SELECT event_id AS id, count(*) AS n FROM tickets GROUP BY event_id').all() as Array<{ id: string; n: number }>).map((r) => [r.id, r.n])),
        booked: db.prepare('SELECT event_id AS id, count(*) AS n, coalesce(sum(tickets), 0) AS t FROM bookings GROUP BY event_id').all() as Array<{ id: string; n: number; t: number }>,
      }))();
      const bookedBy = new Map(booked.map((r) => [r.id, r]));
      for (const e of events) {
        if (!wanted.has(e.id)) continue;
        rows.set(e.id, { id: e.id, total: e.total, available: e.available, sold: sold.get(e.id) ?? 0, bookings: bookedBy.get(e.id)?.n ?? 0, bookedInBookings: bookedBy.get(e.id)?.t ?? 0 });
      }
    } finally {
      db.close();
    }
    return rows;
  }
  const client = new pg.Client({ connectionString: store.url });
  await client.connect();
  try {
    const s = store.schema;
    const { rows: events } = await client.query<{ id: string; total: number; available: number; sold: number; bookings: number; booked: number }>(
      `SELECT e.id::text AS id, e.total_tickets AS total, e.available_tickets AS available,
              coalesce(t.n, 0)::int AS sold, coalesce(b.n, 0)::int AS bookings, coalesce(b.t, 0)::int AS booked
       FROM (SELECT id, total_tickets, available_tickets + coalesce((SELECT sum(available)::int FROM ${s}.event_shares sh WHERE sh.event_id = ev.id), 0) AS available_tickets
             FROM ${s}.events ev) e -- the pool plus every node's share (escrow, issue 12)
       LEFT JOIN (SELECT event_id, count(*) AS n FROM ${s}.tickets GROUP BY event_id) t ON t.event_id = e.id
       LEFT JOIN (SELECT event_id, count(*) AS n, sum(tickets) AS t FROM ${s}.bookings GROUP BY event_id) b ON b.event_id = e.id`,
    );
    for (const e of events) {
      if (!wanted.has(e.id)) continue;
      rows.set(e.id, { id: e.id, total: e.total, available: e.available, sold: e.sold, bookings: e.bookings, bookedInBookings: e.booked });
    }
  } finally {
    await client.end();
  }
  return rows;
}

/** Compares the answers counted, the API's view and the database's rows. */
export function judge(input: VerifyInput, apiAvailable: Map<string, number>, db: Map<string, DbEventRow>, problems: string[]): VerifyReport {
  let answered2xx = 0;
  let ticketsStored = 0;
  let available = 0;
  let total = 0;
  for (const event of input.events) {
    const row = db.get(event.id);
    const answered = input.booked2xxByEvent.get(event.id) ?? 0;
    answered2xx += answered;
    if (!row) {
      problems.push(`event ${event.id} is missing from the database`);
      continue;
    }
    ticketsStored += row.sold;
    available += row.available;
    total += row.total;
    const tag = `event ${event.id.slice(0, 8)}`;
    if (row.total !== event.total) problems.push(`${tag}: total ${row.total} in the database, created with ${event.total}`);
    if (row.sold + row.available !== row.total) problems.push(`${tag}: sold ${row.sold} + available ${row.available} != total ${row.total}`);
    if (row.sold !== row.bookedInBookings) problems.push(`${tag}: ${row.sold} ticket rows but bookings add up to ${row.bookedInBookings}`);
    if (input.lostAnswers === 0 ? row.sold !== answered : row.sold < answered || row.sold > answered + input.lostAnswers) {
      problems.push(`${tag}: ${answered} bookings answered 2xx but ${row.sold} tickets stored (lost answers: ${input.lostAnswers})`);
    }
    const seen = apiAvailable.get(event.id);
    if (seen !== row.available) problems.push(`${tag}: the API says ${seen} available, the database ${row.available}`);
  }
  return { ok: problems.length === 0, problems, checkedEvents: input.events.length, answered2xx, ticketsStored, available, total };
}

export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
}
