import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, metricsHeaders, startApp } from '../helpers/app.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('HTTP API', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  beforeAll(async () => {
    server = await startApp();
  });
  afterAll(() => server.close());

  const inject = (opts: InjectOptions) => server.app.inject(opts);
  const createEvent = async (body: object = {}) => {
    const res = await inject({
      method: 'POST',
      url: '/events',
      headers: adminHeaders,
      payload: { name: 'Concert', date: '2027-05-01T19:30:00+02:00', totalTickets: 10, ...body },
    });
    expect(res.statusCode).toBe(201);
    return res.json();
  };

  it('creates an event (admin) and reads it back', async () => {
    const res = await inject({
      method: 'POST',
      url: '/events',
      headers: adminHeaders,
      payload: { name: '  Opening night ', date: '2027-05-01T19:30:00+02:00', totalTickets: 250, maxTicketsPerBooking: 6 },
    });
    expect(res.statusCode).toBe(201);
    const event = res.json();
    expect(event).toEqual({
      id: expect.stringMatching(UUID),
      name: 'Opening night',
      date: '2027-05-01T17:30:00.000Z',
      totalTickets: 250,
      availableTickets: 250,
      heldTickets: 0,
      maxTicketsPerBooking: 6,
      holdSeconds: 600,
      maxHeldPerBuyer: 6,
      maxTicketsPerBuyer: 250,
      offlineCheckIn: false,
      checkedInTickets: 0,
      description: '',
      venue: '',
      // The server's default zone (no --time-zone here): this machine's.
      timeZone: new Intl.DateTimeFormat().resolvedOptions().timeZone,
      salesOpen: true,
      status: 'scheduled',
      buyerDetails: 'none',
      onSaleAt: null,
      waitingRoom: false,
      waitingRoomOpensAt: null,
      queueWindow: null,
    });
    expect(res.headers.location).toBe(`/events/${event.id}`);
    const read = await inject({ method: 'GET', url: `/events/${event.id}` });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual(event);
  });

  it('lists events as a JSON array ordered by date', async () => {
    const late = await createEvent({ name: 'Late', date: '2030-01-01T00:00:00Z' });
    const early = await createEvent({ name: 'Early', date: '2027-01-01T00:00:00Z' });
    const res = await inject({ method: 'GET', url: '/events' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const list = res.json() as Array<{ id: string }>;
    const ids = list.map((e) => e.id);
    expect(ids.indexOf(early.id)).toBeLessThan(ids.indexOf(late.id));
  });

  it('books through the REST API: 201 Booking with the tickets, availability drops', async () => {
    const event = await createEvent({ totalTickets: 5 });
    const res = await inject({ method: 'POST', url: `/events/${event.id}/bookings`, payload: { tickets: 3 } });
    expect(res.statusCode).toBe(201);
    const booking = res.json();
    expect(booking).toEqual({
      id: expect.stringMatching(UUID),
      eventId: event.id,
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      tickets: Array.from({ length: 3 }, () => ({ id: expect.stringMatching(UUID), eventId: event.id, bookingId: booking.id, status: 'valid', code: expect.stringMatching(/^BO1\.[A-Za-z0-9_-]{128}$/) })),
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
    expect(res.headers.location).toBe(`/bookings/${booking.id}`);
    expect((await inject({ method: 'GET', url: `/events/${event.id}` })).json().availableTickets).toBe(2);
    const listed = (await inject({ method: 'GET', url: '/events' })).json() as Array<{ id: string; availableTickets: number }>;
    expect(listed.find((e) => e.id === event.id)?.availableTickets).toBe(2);
    // The secret is shown once, in the answer that created the booking.
    // The codes are in the booking answer; a read by id shows the tickets without them.
    const { secret: _secret, ...answered } = booking;
    const readable = { ...answered, tickets: answered.tickets.map(({ code: _code, ...t }: { code: string }) => t) };
    expect((await inject({ method: 'GET', url: `/bookings/${booking.id}` })).json()).toEqual({ ...readable, eventStatus: 'scheduled' });
    const ticket = readable.tickets[0];
    const t = await inject({ method: 'GET', url: `/tickets/${ticket.id}` });
    expect(t.statusCode).toBe(200);
    expect(t.json()).toEqual(ticket);
  });

  it('books through the original protocol: 200 with an array of ticket ids', async () => {
    const event = await createEvent({ totalTickets: 3 });
    const res = await inject({ method: 'POST', url: `/reserve?eventId=${event.id}&tickets=2` });
    expect(res.statusCode).toBe(200);
    const ids = res.json() as string[];
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      expect(id).toMatch(UUID);
      expect((await inject({ method: 'GET', url: `/tickets/${id}` })).json().eventId).toBe(event.id);
    }
    const refused = await inject({ method: 'POST', url: `/reserve?eventId=${event.id}&tickets=2` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toEqual({ error: 'not_enough_tickets', message: 'Not enough tickets available: requested 2, 1 left' });
  });

  it('the original protocol ignores an empty body, whatever content type old clients label it with', async () => {
    const event = await createEvent({ totalTickets: 3 });
    for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'application/x-www-form-urlencoded' }, {}]) {
      const res = await inject({ method: 'POST', url: `/reserve?eventId=${event.id}&tickets=1`, headers, payload: '' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toHaveLength(1);
    }
  });

  it('answers unknown things with 404 and the error shape', async () => {
    const missing = crypto.randomUUID();
    expect((await inject({ method: 'GET', url: `/events/${missing}` })).json()).toEqual({
      error: 'event_not_found',
      message: `No event with id ${missing}.`,
    });
    const reserve = await inject({ method: 'POST', url: `/reserve?eventId=${missing}&tickets=1` });
    expect(reserve.statusCode).toBe(404);
    expect(reserve.json().error).toBe('event_not_found');
    const ticket = await inject({ method: 'GET', url: `/tickets/${missing}` });
    expect(ticket.statusCode).toBe(404);
    expect(ticket.json().error).toBe('not_found');
    const route = await inject({ method: 'GET', url: '/nowhere' });
    expect(route.statusCode).toBe(404);
    expect(route.json().error).toBe('not_found');
  });

  it('never books on GET /reserve (405 with Allow: POST)', async () => {
    const event = await createEvent({ totalTickets: 3 });
    const res = await inject({ method: 'GET', url: `/reserve?eventId=${event.id}&tickets=1` });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('POST');
    expect(res.json().error).toBe('method_not_allowed');
    expect((await inject({ method: 'GET', url: `/events/${event.id}` })).json().availableTickets).toBe(3);
  });

  it('serves /healthz and Prometheus /metrics with booking counters', async () => {
    expect((await inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const metrics = await inject({ method: 'GET', url: '/metrics', headers: metricsHeaders });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/boxoffice_bookings_total\{outcome="booked"\} \d+/);
    expect(metrics.body).toMatch(/boxoffice_tickets_sold_total \d+/);
    expect(metrics.body).toMatch(/boxoffice_commit_batch_size_bucket/);
    expect(metrics.body).toMatch(/boxoffice_http_requests_in_flight/);
    expect(metrics.body).toMatch(/boxoffice_http_request_duration_seconds_count\{method="POST",route="\/reserve",status="200"\} \d+/);
  });

  it('a stopping server answers 503 shutting_down, and /healthz says so', async () => {
    const other = await startApp();
    other.beginShutdown();
    const res = await other.app.inject({ method: 'GET', url: '/events' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toBe('shutting_down');
    expect((await other.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(503);
    await other.close();
  });
});
