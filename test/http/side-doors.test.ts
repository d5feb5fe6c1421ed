/**
 * Side doors (issue 16, item 5): /metrics needs a credential, the benchmark's /noop exists only when
 * asked for, and a wrong method is a 405 that says which methods the path takes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminHeaders, startApp } from '../helpers/app.js';

const METRICS_TOKEN = 'prometheus-scrape-token-0123';
type App = Awaited<ReturnType<typeof startApp>>;

describe('/metrics needs the admin token or the metrics token', () => {
  let server: App;
  beforeAll(async () => {
    server = await startApp({ config: { metricsToken: METRICS_TOKEN } });
  });
  afterAll(() => server.close());

  it.each([
    ['no credential', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token-000000000' }],
    ['the token without Bearer', { authorization: ADMIN_TOKEN }],
    ['Basic auth', { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}` }],
  ])('refuses %s with 401 in the API shape and shows nothing', async (_what, headers: Record<string, string>) => {
    const reply = await server.app.inject({ method: 'GET', url: '/metrics', headers });
    expect(reply.statusCode).toBe(401);
    expect(reply.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(reply.json()).toEqual({ error: 'unauthorized', message: expect.stringMatching(/BOXOFFICE_METRICS_TOKEN/) });
    expect(reply.body).not.toMatch(/boxoffice_|process_/);
  });

  it.each([
    ['the admin token', ADMIN_TOKEN],
    ['the metrics token', METRICS_TOKEN],
  ])('serves Prometheus text to %s', async (_what, token) => {
    const reply = await server.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
    expect(reply.statusCode).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^text\/plain/);
    expect(reply.body).toMatch(/^# HELP boxoffice_/m);
  });

  it('the metrics token opens /metrics and nothing else', async () => {
    const create = await server.app.inject({
      method: 'POST',
      url: '/events',
      headers: { authorization: `Bearer ${METRICS_TOKEN}`, 'content-type': 'application/json' },
      payload: { name: 'Nope', date: '2027-06-01T19:30:00Z', totalTickets: 5 },
    });
    expect(create.statusCode).toBe(401);
    expect((await server.app.inject({ method: 'GET', url: '/events' })).json()).toEqual([]);
  });

  it('without a metrics token configured, only the admin token reads metrics', async () => {
    const plain = await startApp();
    try {
      const scrape = (token: string) => plain.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
      expect((await scrape(METRICS_TOKEN)).statusCode).toBe(401);
      expect((await scrape(ADMIN_TOKEN)).statusCode).toBe(200);
    } finally {
      await plain.close();
    }
  });
});

describe('POST /noop is the benchmark\'s, not production\'s', () => {
  it('is not served, nor listed in /openapi.json, unless benchRoutes is on', async () => {
    const production = await startApp({ config: { benchRoutes: false } });
    try {
      const reply = await production.app.inject({ method: 'POST', url: '/noop', headers: adminHeaders, payload: { tickets: 1 } });
      expect(reply.statusCode).toBe(404);
      expect(reply.json()).toMatchObject({ error: 'not_found' });
      const openapi = (await production.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, unknown> };
      expect(Object.keys(openapi.paths)).not.toContain('/noop');
      expect(Object.keys(openapi.paths)).toContain('/reserve');
    } finally {
      await production.close();
    }
  });

  it('is served with benchRoutes', async () => {
    const bench = await startApp({ config: { benchRoutes: true } });
    try {
      const reply = await bench.app.inject({ method: 'POST', url: '/noop', headers: { 'content-type': 'application/json' }, payload: { tickets: 1 } });
      expect(reply.statusCode).toBe(200);
      expect(reply.json()).toEqual({ ok: true });
    } finally {
      await bench.close();
    }
  });
});

describe('a wrong method is 405 with Allow', () => {
  let server: App;
  let eventId: string;
  beforeAll(async () => {
    server = await startApp();
    const created = await server.app.inject({ method: 'POST', url: '/events', headers: adminHeaders, payload: { name: 'Gig', date: '2027-06-01T19:30:00Z', totalTickets: 5 } });
    eventId = (created.json() as { id: string }).id;
  });
  afterAll(() => server.close());

  it.each([
    ['DELETE', '/events', 'GET, HEAD, POST'],
    ['PUT', '/events', 'GET, HEAD, POST'],
    ['GET', '/reserve', 'POST'],
    ['DELETE', '/reserve?eventId=x&tickets=1', 'POST'],
    ['PUT', '/healthz', 'GET, HEAD'],
    ['POST', '/metrics', 'GET, HEAD'],
    // PATCH /events/stream is routed to PATCH /events/:id (and refused there as a bad id): it is allowed.
    ['POST', '/events/stream', 'GET, HEAD, PATCH'],
    ['GET', '/events/:id/holds', 'POST'],
    ['PATCH', '/', 'GET, HEAD'],
  ])('%s %s → 405, Allow: %s', async (method, rawUrl, allow) => {
    const url = rawUrl.replace(':id', eventId);
    const reply = await server.app.inject({ method: method as 'GET', url });
    expect(reply.statusCode).toBe(405);
    expect(reply.headers.allow).toBe(allow);
    expect(reply.json()).toEqual({ error: 'method_not_allowed', message: `${method} is not allowed on ${url.split('?')[0]}; use ${allow}.` });
  });

  it('a path that does not exist under any method is still 404', async () => {
    for (const [method, url] of [['GET', '/nothing'], ['POST', '/events/x/y/z'], ['DELETE', '/admin/../../etc/passwd']] as const) {
      const reply = await server.app.inject({ method, url });
      expect(reply.statusCode, `${method} ${url}`).toBe(404);
      expect(reply.headers.allow).toBeUndefined();
    }
  });

  it('a wrong method changes nothing', async () => {
    await server.app.inject({ method: 'GET', url: `/reserve?eventId=${eventId}&tickets=2` });
    await server.app.inject({ method: 'PUT', url: `/events/${eventId}/holds`, headers: { 'content-type': 'application/json' }, payload: { tickets: 2 } });
    const event = (await server.app.inject({ method: 'GET', url: `/events/${eventId}` })).json() as { availableTickets: number };
    expect(event.availableTickets).toBe(5);
  });
});
