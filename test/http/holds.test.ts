import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IdentitySource } from '../../src/core/identity.js';
import type { Booking, Event, Hold } from '../../src/core/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ADMIN_TOKEN, adminHeaders, startApp } from '../helpers/app.js';
import { createEventVia } from '../helpers/load.js';
import { tempDir } from '../helpers/tmp.js';

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: any };

/** Holds, cancellation and idempotency keys through the real HTTP stack, with a clock the test moves. */
describe('holds, cancellation and idempotency over HTTP', () => {
  const clock = { t: Date.UTC(2027, 0, 1, 12) };
  const identity: IdentitySource = { newId: () => crypto.randomUUID(), now: () => new Date(clock.t) };
  let server: Awaited<ReturnType<typeof startApp>>;
  let pool: Pool;

  beforeAll(async () => {
    server = await startApp({ store: new MemoryStore(identity), service: { identity, sweepIntervalMs: 0 } });
    pool = new Pool(server.url, { connections: 8 });
  });
  afterAll(async () => {
    await pool.close();
    await server.close();
  });

  async function call(method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await pool.request({ method: method as 'GET', path, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  async function createEvent(body: object = {}): Promise<Event> {
    const res = await call('POST', '/events', {
      headers: { authorization: adminHeaders.authorization },
      body: { name: 'Matinee', date: '2027-03-01T15:00:00Z', totalTickets: 10, ...body },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  }

  it('hold → 201 with Location and a fixed expiry; availability and heldTickets move at once', async () => {
    const event = await createEvent({ holdSeconds: 300 });
    expect(event).toMatchObject({ heldTickets: 0, holdSeconds: 300 });
    const res = await call('POST', `/events/${event.id}/holds`, { body: { tickets: 4 } });
    expect(res.status).toBe(201);
    const hold = res.body as Hold;
    expect(res.headers.location).toBe(`/holds/${hold.id}`);
    expect(hold).toEqual({
      id: expect.any(String),
      eventId: event.id,
      tickets: 4,
      status: 'active',
      createdAt: new Date(clock.t).toISOString(),
      expiresAt: new Date(clock.t + 300_000).toISOString(),
    });
    expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 6, heldTickets: 4 });
    expect((await call('GET', `/holds/${hold.id}`)).body).toEqual(hold);
  });

  it('confirm → 201 Booking with a secret; a repeated confirm → 200 with the same tickets', async () => {
    const event = await createEvent();
    const hold = (await call('POST', `/events/${event.id}/holds`, { body: { tickets: 2 } })).body as Hold;
    const first = await call('POST', `/holds/${hold.id}/confirm`);
    expect(first.status).toBe(201);
    const booking = first.body as Booking;
    expect(booking.tickets.map((t) => t.status)).toEqual(['valid', 'valid']);
    expect(booking.secret).toBeTruthy();
    expect(first.headers.location).toBe(`/bookings/${booking.id}`);
    const again = await call('POST', `/holds/${hold.id}/confirm`);
    expect(again.status).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.tickets).toEqual(booking.tickets);
    expect(again.body.secret).toBe(booking.secret);
    expect((await call('GET', `/holds/${hold.id}`)).body).toMatchObject({ status: 'confirmed', bookingId: booking.id });
    expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 8, heldTickets: 0 });
    const release = await call('DELETE', `/holds/${hold.id}`);
    expect(release.status).toBe(409);
    expect(release.body.error).toBe('hold_confirmed');
  });

  it('a hold past its time: GET says expired, confirm is 410 hold_expired, the stock is back', async () => {
    const event = await createEvent({ holdSeconds: 60 });
    const hold = (await call('POST', `/events/${event.id}/holds`, { body: { tickets: 5 } })).body as Hold;
    clock.t += 60_000;
    expect((await call('GET', `/holds/${hold.id}`)).body.status).toBe('expired');
    const late = await call('POST', `/holds/${hold.id}/confirm`);
    expect(late.status).toBe(410);
    expect(late.body).toEqual({ error: 'hold_expired', message: `Hold ${hold.id} expired at ${hold.expiresAt}; its tickets went back on sale. Hold again to buy.` });
    expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 10, heldTickets: 0 });
  });

  it('release → 200 released, again → 200; confirming a released hold is 410 hold_released', async () => {
    const event = await createEvent();
    const hold = (await call('POST', `/events/${event.id}/holds`, { body: { tickets: 3 } })).body as Hold;
    for (let i = 0; i < 2; i++) {
      const res = await call('DELETE', `/holds/${hold.id}`);
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('released');
    }
    expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 10, heldTickets: 0 });
    const confirm = await call('POST', `/holds/${hold.id}/confirm`);
    expect([confirm.status, confirm.body.error]).toEqual([410, 'hold_released']);
  });

  it('bad input on hold routes is a 4xx in the error shape and changes nothing', async () => {
    const event = await createEvent({ maxTicketsPerBooking: 4, maxHeldPerBuyer: 10 });
    const cases: Array<[string, string, unknown, number, string]> = [
      ['POST', `/events/${event.id}/holds`, { tickets: 0 }, 400, 'invalid_request'],
      ['POST', `/events/${event.id}/holds`, { tickets: 5 }, 400, 'invalid_request'],
      ['POST', `/events/${event.id}/holds`, { tickets: '2' }, 400, 'invalid_request'],
      ['POST', `/events/${event.id}/holds`, { tickets: 2, extra: 1 }, 400, 'invalid_request'],
      ['POST', `/events/${event.id}/holds`, { tickets: 11 }, 400, 'invalid_request'],
      ['POST', `/events/${crypto.randomUUID()}/holds`, { tickets: 1 }, 404, 'event_not_found'],
      ['POST', '/events/nope/holds', { tickets: 1 }, 400, 'invalid_request'],
      ['GET', '/holds/nope', undefined, 400, 'invalid_request'],
      ['GET', `/holds/${crypto.randomUUID()}`, undefined, 404, 'not_found'],
      ['POST', `/holds/${crypto.randomUUID()}/confirm`, undefined, 404, 'not_found'],
      ['DELETE', `/holds/${crypto.randomUUID()}`, undefined, 404, 'not_found'],
    ];
    for (const [method, path, body, status, code] of cases) {
      const res = await call(method, path, { body });
      expect([res.status, res.body?.error], `${method} ${path} ${JSON.stringify(body)}`).toEqual([status, code]);
      expect(typeof res.body.message).toBe('string');
    }
    await call('POST', `/events/${event.id}/holds`, { body: { tickets: 4 } });
    await call('POST', `/events/${event.id}/holds`, { body: { tickets: 4 } });
    const tooMany = await call('POST', `/events/${event.id}/holds`, { body: { tickets: 3 } });
    expect([tooMany.status, tooMany.body.error]).toEqual([409, 'not_enough_tickets']);
    expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 2, heldTickets: 8 });
  });

  describe('cancellation', () => {
    it('the buyer cancels part, then all, with the secret; the tickets say cancelled; twice is 409', async () => {
      const event = await createEvent();
      const booking = (await call('POST', `/events/${event.id}/bookings`, { body: { tickets: 3 } })).body as Booking;
      const auth = { authorization: `Bearer ${booking.secret}` };
      const [t1, t2] = booking.tickets;
      const partial = await call('DELETE', `/bookings/${booking.id}`, { headers: auth, body: { tickets: [t1!.id] } });
      expect(partial.status).toBe(200);
      expect(partial.body.tickets.map((t: { status: string }) => t.status)).toEqual(['cancelled', 'valid', 'valid']);
      expect(partial.body).not.toHaveProperty('secret');
      expect((await call('GET', `/tickets/${t1!.id}`)).body).toEqual({ ...t1, code: undefined, status: 'cancelled' });
      expect((await call('GET', `/tickets/${t2!.id}`)).body.status).toBe('valid');
      expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(8);
      const rest = await call('DELETE', `/bookings/${booking.id}`, { headers: auth });
      expect(rest.body.tickets.every((t: { status: string }) => t.status === 'cancelled')).toBe(true);
      const twice = await call('DELETE', `/bookings/${booking.id}`, { headers: auth });
      expect([twice.status, twice.body.error]).toEqual([409, 'already_cancelled']);
      expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(10);
      expect((await call('GET', `/bookings/${booking.id}`)).body.tickets.every((t: { status: string }) => t.status === 'cancelled')).toBe(true);
    });

    it('no credentials → 401, a wrong secret or another booking’s secret → 403; nothing changes', async () => {
      const event = await createEvent();
      const mine = (await call('POST', `/events/${event.id}/bookings`, { body: { tickets: 2 } })).body as Booking;
      const theirs = (await call('POST', `/events/${event.id}/bookings`, { body: { tickets: 1 } })).body as Booking;
      const none = await call('DELETE', `/bookings/${mine.id}`);
      expect([none.status, none.body.error]).toEqual([401, 'unauthorized']);
      for (const secret of ['wrong', theirs.secret!, `${mine.secret}x`]) {
        const res = await call('DELETE', `/bookings/${mine.id}`, { headers: { authorization: `Bearer ${secret}` } });
        expect([res.status, res.body.error]).toEqual([403, 'forbidden']);
      }
      // A secret in the query string is not a credential.
      const query = await call('DELETE', `/bookings/${mine.id}?secret=${mine.secret}`);
      expect(query.status).toBe(401);
      expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(7);
    });

    it('the admin cancels any booking, including ones made through the original protocol', async () => {
      const event = await createEvent();
      const ids = (await call('POST', `/reserve?eventId=${event.id}&tickets=2`)).body as string[];
      const ticket = (await call('GET', `/tickets/${ids[0]}`)).body;
      const res = await call('DELETE', `/bookings/${ticket.bookingId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(res.status).toBe(200);
      expect((await call('GET', `/tickets/${ids[1]}`)).body.status).toBe('cancelled');
      expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(10);
    });

    it('bad cancellation input is 400 in the error shape', async () => {
      const event = await createEvent();
      const booking = (await call('POST', `/events/${event.id}/bookings`, { body: { tickets: 1 } })).body as Booking;
      const auth = { authorization: `Bearer ${booking.secret}` };
      for (const body of [{ tickets: [] }, { tickets: ['x'] }, { tickets: 'all' }, { other: 1 }, { tickets: [crypto.randomUUID()] }]) {
        const res = await call('DELETE', `/bookings/${booking.id}`, { headers: auth, body });
        expect([res.status, res.body.error], JSON.stringify(body)).toEqual([400, 'invalid_request']);
      }
      const unknown = await call('DELETE', `/bookings/${crypto.randomUUID()}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect([unknown.status, unknown.body.error]).toEqual([404, 'not_found']);
      expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(9);
    });
  });

  describe('Idempotency-Key', () => {
    it('a repeat answers the original 201 and body, marked Idempotent-Replayed; nothing more is booked', async () => {
      const event = await createEvent();
      const headers = { 'idempotency-key': `order-${crypto.randomUUID()}` };
      const first = await call('POST', `/events/${event.id}/bookings`, { headers, body: { tickets: 2 } });
      expect(first.status).toBe(201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const again = await call('POST', `/events/${event.id}/bookings`, { headers, body: { tickets: 2 } });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      // The same key through the original protocol is the same booking.
      const legacy = await call('POST', `/reserve?eventId=${event.id}&tickets=2`, { headers });
      expect(legacy.body).toEqual(first.body.tickets.map((t: { id: string }) => t.id));
      expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(8);
    });

    it('the same key with a different request is 422 and books nothing', async () => {
      const event = await createEvent();
      const headers = { 'idempotency-key': `order-${crypto.randomUUID()}` };
      await call('POST', `/events/${event.id}/bookings`, { headers, body: { tickets: 2 } });
      for (const [path, body] of [
        [`/events/${event.id}/bookings`, { tickets: 3 }],
        [`/events/${event.id}/holds`, { tickets: 2 }],
      ] as const) {
        const res = await call('POST', path, { headers, body });
        expect([res.status, res.body.error]).toEqual([422, 'idempotency_key_reused']);
      }
      expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 8, heldTickets: 0 });
    });

    it('holds are idempotent too', async () => {
      const event = await createEvent();
      const headers = { 'idempotency-key': crypto.randomUUID() };
      const a = await call('POST', `/events/${event.id}/holds`, { headers, body: { tickets: 3 } });
      const b = await call('POST', `/events/${event.id}/holds`, { headers, body: { tickets: 3 } });
      expect(b.body).toEqual(a.body);
      expect((await call('GET', `/events/${event.id}`)).body).toMatchObject({ availableTickets: 7, heldTickets: 3 });
    });

    it('a malformed key is 400 and books nothing', async () => {
      const event = await createEvent();
      const res = await call('POST', `/events/${event.id}/bookings`, { headers: { 'idempotency-key': 'x'.repeat(201) }, body: { tickets: 1 } });
      expect([res.status, res.body.error]).toEqual([400, 'invalid_request']);
      expect((await call('GET', `/events/${event.id}`)).body.availableTickets).toBe(10);
    });
  });
});

describe('idempotent retries racing over real sockets (SQLite)', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>>;
  let pool: Pool;
  beforeAll(async () => {
    server = await startApp({ store: await SqliteStore.open(`${tmp.dir}/keys.db`), config: { maxInFlight: 10_000, maxInFlightPerClient: 10_000 } });
    pool = new Pool(server.url, { connections: 64 });
  });
  afterAll(async () => {
    await pool.close();
    await server.close();
    tmp.cleanup();
  });

  it('20 keys × 16 concurrent copies each: exactly one booking per key, every copy the same tickets', async () => {
    const event = { id: await createEventVia(server.url, 1000) };
    const keys = Array.from({ length: 20 }, () => crypto.randomUUID());
    const answers = await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: 16 }, async () => {
          const res = await pool.request({
            method: 'POST',
            path: `/events/${event.id}/bookings`,
            headers: { 'content-type': 'application/json', 'idempotency-key': key },
            body: JSON.stringify({ tickets: 3 }),
          });
          return { key, status: res.statusCode, replayed: res.headers['idempotent-replayed'] === 'true', booking: (await res.body.json()) as Booking };
        }),
      ),
    );
    for (const key of keys) {
      const copies = answers.filter((a) => a.key === key);
      expect(copies.every((c) => c.status === 201)).toBe(true);
      expect(new Set(copies.map((c) => c.booking.id)).size).toBe(1);
      expect(copies.filter((c) => !c.replayed)).toHaveLength(1);
    }
    const read = await pool.request({ method: 'GET', path: `/events/${event.id}` });
    expect(((await read.body.json()) as Event).availableTickets).toBe(1000 - 20 * 3);
    expect(await server.store.countTickets(event.id)).toBe(60);
  });

  it('64 sockets racing holds and bookings for 100 tickets: never more than 100 out, available + held + sold == total', async () => {
    const event = { id: await createEventVia(server.url, 100) };
    const answers = await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const res = await pool.request({
          method: 'POST',
          path: `/events/${event.id}/${i % 2 ? 'holds' : 'bookings'}`,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ tickets: 1 + (i % 3) }),
        });
        return { status: res.statusCode, body: (await res.body.json()) as { tickets: number | unknown[] } };
      }),
    );
    expect(answers.every((a) => a.status === 201 || a.status === 409)).toBe(true);
    const held = answers.filter((a) => a.status === 201 && typeof a.body.tickets === 'number').reduce((n, a) => n + (a.body.tickets as number), 0);
    const sold = answers.filter((a) => a.status === 201 && Array.isArray(a.body.tickets)).reduce((n, a) => n + (a.body.tickets as unknown[]).length, 0);
    expect(held + sold).toBe(100);
    const stored = (await server.store.getEvent(event.id))!;
    expect(stored).toMatchObject({ availableTickets: 0, heldTickets: held });
    expect(await server.store.countTickets(event.id)).toBe(sold);
  });
});
