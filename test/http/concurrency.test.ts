import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { adminHeaders, metricsHeaders, startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';

const CONNECTIONS = 64;

describe('concurrent bookings over real sockets (SQLite, group commit)', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>>;
  let pool: Pool;

  beforeAll(async () => {
    server = await startApp({ store: new SqliteStore(`${tmp.dir}/concurrency.db`), config: { maxInFlight: 10_000 } });
    pool = new Pool(server.url, { connections: CONNECTIONS, pipelining: 1 });
  });
  afterAll(async () => {
    await pool.close();
    await server.close();
    tmp.cleanup();
  });

  async function createEvent(totalTickets: number): Promise<string> {
    const res = await pool.request({
      method: 'POST',
      path: '/events',
      headers: adminHeaders,
      body: JSON.stringify({ name: 'Hot show', date: '2027-01-01T20:00:00Z', totalTickets, maxTicketsPerBooking: 10 }),
    });
    expect(res.statusCode).toBe(201);
    return ((await res.body.json()) as { id: string }).id;
  }

  async function fire(requests: Array<{ path: string; body?: string }>) {
    return Promise.all(
      requests.map(async (r) => {
        const res = await pool.request({
          method: 'POST',
          path: r.path,
          headers: r.body ? { 'content-type': 'application/json' } : {},
          body: r.body,
        });
        return { status: res.statusCode, body: (await res.body.json()) as unknown };
      }),
    );
  }

  async function batchesCommitted(): Promise<number> {
    const text = await (await pool.request({ method: 'GET', path: '/metrics', headers: metricsHeaders })).body.text();
    return Number(/^boxoffice_commit_batch_size_count (\d+)$/m.exec(text)?.[1] ?? NaN);
  }

  it('500 racing for 100 tickets: exactly 100 succeed, 400 get 409, no id twice, none left', async () => {
    const eventId = await createEvent(100);
    const batchesBefore = await batchesCommitted();
    const results = await fire(Array.from({ length: 500 }, () => ({ path: `/reserve?eventId=${eventId}&tickets=1` })));
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 409);
    expect(ok).toHaveLength(100);
    expect(refused).toHaveLength(400);
    for (const r of refused) expect((r.body as { error: string }).error).toBe('not_enough_tickets');
    const ids = ok.flatMap((r) => r.body as string[]);
    expect(new Set(ids).size).toBe(100);
    const event = (await (await pool.request({ method: 'GET', path: `/events/${eventId}` })).body.json()) as { availableTickets: number };
    expect(event.availableTickets).toBe(0);
    expect(await server.store.countTickets(eventId)).toBe(100);
    for (const id of ids) expect((await server.store.getTicket(id))?.eventId).toBe(eventId);
    // Group commit really grouped: far fewer transactions than requests.
    const batches = (await batchesCommitted()) - batchesBefore;
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(500);
  });

  it('mixed sizes 1–5 through both APIs keep sold + available == total', async () => {
    const total = 300;
    const eventId = await createEvent(total);
    const sizes = Array.from({ length: 400 }, (_, i) => 1 + ((i * 7) % 5));
    const results = await fire(
      sizes.map((n, i) =>
        i % 2 === 0
          ? { path: `/reserve?eventId=${eventId}&tickets=${n}` }
          : { path: `/events/${eventId}/bookings`, body: JSON.stringify({ tickets: n }) },
      ),
    );
    let sold = 0;
    const ids: string[] = [];
    results.forEach((r, i) => {
      if (r.status === 200) ids.push(...(r.body as string[]));
      else if (r.status === 201) ids.push(...(r.body as { tickets: Array<{ id: string }> }).tickets.map((t) => t.id));
      else {
        expect(r.status).toBe(409);
        return;
      }
      sold += sizes[i]!;
    });
    expect(ids).toHaveLength(sold);
    expect(new Set(ids).size).toBe(sold);
    const event = (await (await pool.request({ method: 'GET', path: `/events/${eventId}` })).body.json()) as { availableTickets: number };
    expect(event.availableTickets + sold).toBe(total);
    expect(await server.store.countTickets(eventId)).toBe(sold);
    // Demand (1,200 tickets) far exceeds supply, so the event must end (nearly) sold out: fewer than 5 left.
    expect(event.availableTickets).toBeLessThan(5);
    // The cached list agrees with storage.
    const listed = (await (await pool.request({ method: 'GET', path: '/events' })).body.json()) as Array<{ id: string; availableTickets: number }>;
    expect(listed.find((e) => e.id === eventId)?.availableTickets).toBe(event.availableTickets);
  });

  it('bookings on many events at once never cross events', async () => {
    const events = await Promise.all(Array.from({ length: 8 }, () => createEvent(20)));
    const results = await fire(
      Array.from({ length: 320 }, (_, i) => ({ path: `/reserve?eventId=${events[i % 8]}&tickets=1` })),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(160);
    for (const eventId of events) {
      expect(await server.store.countTickets(eventId)).toBe(20);
      expect((await server.store.getEvent(eventId))?.availableTickets).toBe(0);
    }
  });
});
