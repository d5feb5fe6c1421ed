import type { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../src/core/types.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { adminHeaders, metricsHeaders, startApp } from '../helpers/app.js';
import { poolFrom } from '../helpers/load.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 15, item 5: one buyer cannot hoard an event's stock. Each buyer here is its own loopback
 * address (127.0.0.x), over real sockets, as distinct clients are to the server.
 */
function buyer(url: string, address: string): Pool {
  return poolFrom(url, address, 1);
}

async function send(client: Pool, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await client.request({
    method: method as 'POST',
    path,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, headers: res.headers, body: (await res.body.json()) as Record<string, unknown> };
}

describe('per-buyer limits over real sockets (SQLite)', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>>;
  const clients: Pool[] = [];
  const as = (address: string) => {
    const c = buyer(server.url, address);
    clients.push(c);
    return c;
  };
  const create = async (body: object): Promise<Event> =>
    (await send(as('127.0.0.1'), 'POST', '/events', { name: 'Hoard', date: '2027-09-01T20:00:00Z', ...body }, adminHeaders).then((r) => {
      expect(r.status).toBe(201);
      return r.body;
    })) as unknown as Event;

  beforeAll(async () => {
    server = await startApp({ store: await SqliteStore.open(`${tmp.dir}/hoard.db`) });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('five holds of 100 from one address hold 100, not the whole event; another address still holds', async () => {
    // The defaults: a buyer may hold one booking's worth (maxTicketsPerBooking, 100) at once.
    const event = await create({ totalTickets: 500 });
    expect(event.maxHeldPerBuyer).toBe(100);
    const mallory = as('127.0.0.2');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await send(mallory, 'POST', `/events/${event.id}/holds`, { tickets: 100 }));
    expect(answers.map((a) => a.status)).toEqual([201, 409, 409, 409, 409]);
    expect(answers[1]!.body).toEqual({
      error: 'buyer_limit_reached',
      message: 'One buyer may hold at most 100 tickets of this event at once; you hold 100 and asked for 100 more. Confirm or release a hold first.',
    });
    const alice = await send(as('127.0.0.3'), 'POST', `/events/${event.id}/holds`, { tickets: 100 });
    expect(alice.status).toBe(201);
    const now = await send(as('127.0.0.3'), 'GET', `/events/${event.id}`);
    expect(now.body).toMatchObject({ availableTickets: 300, heldTickets: 200 });
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: metricsHeaders })).text();
    expect(metrics).toMatch(/boxoffice_write_refusals_total\{reason="buyer_limit_reached"\} 4/);
  });

  it('60 racing holds from one address on 60 sockets: exactly the limit is held, and the books balance', async () => {
    const event = await create({ totalTickets: 1000, maxTicketsPerBooking: 10, maxHeldPerBuyer: 50, maxTicketsPerBuyer: 80 });
    const racers = Array.from({ length: 60 }, () => as('127.0.0.4'));
    const answers = await Promise.all(racers.map((c) => send(c, 'POST', `/events/${event.id}/holds`, { tickets: 5 })));
    const by = (s: number) => answers.filter((a) => a.status === s).length;
    expect([by(201), by(409)]).toEqual([10, 50]);
    // Bookings count toward the buyer's total with the holds: 50 held + 30 booked = 80, then no more.
    const bookings = await Promise.all(racers.slice(0, 8).map((c) => send(c, 'POST', `/events/${event.id}/bookings`, { tickets: 5 })));
    expect(bookings.filter((a) => a.status === 201)).toHaveLength(6);
    expect(bookings.filter((a) => a.body.error === 'buyer_limit_reached')).toHaveLength(2);
    const now = (await send(as('127.0.0.5'), 'GET', `/events/${event.id}`)).body;
    expect(now).toMatchObject({ availableTickets: 1000 - 50 - 30, heldTickets: 50 });
    expect(await server.store.countTickets(event.id)).toBe(30);
  });
});

describe('request rate per buyer on the routes that take stock', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  const clients: Pool[] = [];
  beforeAll(async () => {
    server = await startApp({ config: { buyerRatePerSecond: 5 } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  it('beyond the rate one address gets 429 with Retry-After in the API shape; its reads and other addresses are served', async () => {
    const admin = buyer(server.url, '127.0.0.1');
    const greedy = buyer(server.url, '127.0.0.6');
    const other = buyer(server.url, '127.0.0.7');
    clients.push(admin, greedy, other);
    const created = await admin.request({ method: 'POST', path: '/events', headers: adminHeaders, body: JSON.stringify({ name: 'Rate', date: '2027-09-01T20:00:00Z', totalTickets: 1000 }) });
    const event = (await created.body.json()) as Event;
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await send(greedy, 'POST', `/reserve?eventId=${event.id}&tickets=1`));
    const refused = answers.filter((a) => a.status === 429);
    // A fixed one-second window: at most 5 per window, so at most 10 of 12 can pass even across a window edge.
    expect(refused.length).toBeGreaterThanOrEqual(2);
    expect(refused[0]!.body).toMatchObject({ error: 'too_many_requests' });
    expect(String(refused[0]!.body.message)).toMatch(/more than 5 booking, hold, confirm, release or cancel requests a second/);
    expect(Number(refused[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await send(greedy, 'GET', `/events/${event.id}`)).status).toBe(200);
    expect((await send(other, 'POST', `/events/${event.id}/bookings`, { tickets: 1 })).status).toBe(201);
    // Nothing refused was booked.
    const booked = answers.filter((a) => a.status === 200).length + 1;
    expect((await send(other, 'GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 1000 - booked });
  });
});

describe('request rate per buyer on every route a buyer writes through (issue 16 item 3)', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  const clients: Pool[] = [];
  beforeAll(async () => {
    server = await startApp({ config: { buyerRatePerSecond: 5 } });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  });

  // Ids nobody has: each request is a 404 when it is served, so only the rate can make it a 429.
  const unknown = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  const routes: Array<[string, 'POST' | 'DELETE', (i: number) => string, Record<string, string>]> = [
    ['cancel', 'DELETE', (i) => `/bookings/${unknown(i)}`, { authorization: 'Bearer not-a-secret' }],
    ['release', 'DELETE', (i) => `/holds/${unknown(i)}`, {}],
    ['confirm', 'POST', (i) => `/holds/${unknown(i)}/confirm`, {}],
  ];
  routes.forEach(([name, method, path, headers], n) => {
    it(`${name}: beyond the rate one address gets 429; the admin token is not limited`, async () => {
      // Addresses of this test only, so no other test shares their window.
      const greedy = buyer(server.url, `127.0.1.${n + 1}`);
      const admin = buyer(server.url, `127.0.2.${n + 1}`);
      clients.push(greedy, admin);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await send(greedy, method, path(i), undefined, headers)).status);
      expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
      expect(statuses.filter((s) => s !== 429).every((s) => s === 404)).toBe(true);
      const asAdmin: number[] = [];
      for (let i = 0; i < 12; i++) asAdmin.push((await send(admin, method, path(i), undefined, { authorization: adminHeaders.authorization })).status);
      expect(asAdmin).not.toContain(429);
    });
  });
});
