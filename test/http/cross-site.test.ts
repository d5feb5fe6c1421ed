/**
 * No cross-site bookings (issue 15, item 3): a browser page on another origin cannot make a visitor's
 * browser change anything here, while clients that are not browsers (curl, the original Go client,
 * the TUIs over undici) keep working without any new header.
 */
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, adminHeaders, metricsHeaders, startApp } from '../helpers/app.js';

type App = Awaited<ReturnType<typeof startApp>>;
let app: App | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const ALLOWED = 'https://tickets.example';
const EVIL = 'http://evil.example';

async function setup(config: Parameters<typeof startApp>[0] = {}) {
  app = await startApp(config);
  const created = await app.app.inject({
    method: 'POST',
    url: '/events',
    headers: adminHeaders,
    payload: { name: 'Cross-site', date: '2027-01-01T00:00:00Z', totalTickets: 100, maxTicketsPerBooking: 10 },
  });
  expect(created.statusCode).toBe(201);
  return { app, eventId: created.json().id as string };
}

const available = async (eventId: string) => (await app!.service.getEvent(eventId)).availableTickets;

/** `POST /reserve` for one ticket over a real socket (undici adds no Origin or Sec-Fetch-* header of its own). */
async function reserve(eventId: string, headers: Record<string, string>, body?: string) {
  const res = await request(`${app!.url}/reserve?eventId=${eventId}&tickets=1`, { method: 'POST', headers, body });
  return { status: res.statusCode, body: (await res.body.json()) as unknown };
}

describe('state-changing requests from another site are refused', () => {
  it('POST /reserve: a cross-site, same-site or foreign-origin browser request is 403 cross_site_request and books nothing', async () => {
    const { eventId } = await setup();
    const otherPort = `http://127.0.0.1:${app!.port + 1}`;
    const refusals: Array<Record<string, string>> = [
      // Chromium's no-cors fetch and form POST from a page on another site.
      { origin: EVIL, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      { origin: EVIL, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'content-type': 'application/x-www-form-urlencoded' },
      // Another port of the same host is the same site but another origin.
      { origin: otherPort, 'sec-fetch-site': 'same-site' },
      // An older browser without Fetch Metadata: the Origin decides.
      { origin: EVIL },
      { origin: otherPort },
      { origin: 'null' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      // The page lies in Origin? It cannot; but a browser saying cross-site wins over a matching Origin.
      { origin: app!.url, 'sec-fetch-site': 'cross-site' },
      { origin: 'not an origin' },
      { origin: `ftp://127.0.0.1:${app!.port}` },
    ];
    for (const headers of refusals) {
      const res = await reserve(eventId, headers, headers['content-type'] ? '' : undefined);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(res.body).toEqual({ error: 'cross_site_request', message: expect.stringMatching(/another site.*--cors-origin/) });
    }
    expect(await available(eventId)).toBe(100);
    const metrics = await (await fetch(`${app!.url}/metrics`, { headers: metricsHeaders })).text();
    expect(metrics).toMatch(new RegExp(`boxoffice_http_refused_total\\{reason="cross_site"\\} ${refusals.length}\\b`));
  });

  it('the refusal names the origin in its message', async () => {
    const { eventId } = await setup();
    const res = await reserve(eventId, { origin: EVIL });
    expect(res.body).toEqual({
      error: 'cross_site_request',
      message: `A page from another site (${EVIL}) may not change anything here: book on this server's own pages, or start it with --cors-origin naming that page's origin.`,
    });
  });

  it('every REST write is refused from another site, the admin token notwithstanding, and nothing changes', async () => {
    const { eventId } = await setup();
    const json = { 'content-type': 'application/json' };
    const hold = (await app!.app.inject({ method: 'POST', url: `/events/${eventId}/holds`, headers: json, payload: '{"tickets":2}' })).json();
    const booking = (await app!.app.inject({ method: 'POST', url: `/events/${eventId}/bookings`, headers: json, payload: '{"tickets":3}' })).json();
    expect(await available(eventId)).toBe(95);
    const foreign = { origin: EVIL, 'sec-fetch-site': 'cross-site' };
    const attempts = [
      { method: 'POST', url: '/events', headers: { ...adminHeaders, ...foreign }, payload: '{"name":"X","date":"2027-01-01T00:00:00Z","totalTickets":5}' },
      { method: 'POST', url: `/events/${eventId}/bookings`, headers: { ...json, ...foreign }, payload: '{"tickets":1}' },
      { method: 'POST', url: `/events/${eventId}/holds`, headers: { ...json, ...foreign }, payload: '{"tickets":1}' },
      { method: 'POST', url: `/holds/${hold.id}/confirm`, headers: foreign },
      { method: 'DELETE', url: `/holds/${hold.id}`, headers: foreign },
      { method: 'DELETE', url: `/bookings/${booking.id}`, headers: { ...foreign, authorization: `Bearer ${ADMIN_TOKEN}` } },
      { method: 'DELETE', url: `/bookings/${booking.id}`, headers: { ...foreign, authorization: `Bearer ${booking.secret}` } },
    ] as const;
    for (const a of attempts) {
      const res = await app!.app.inject({ method: a.method, url: a.url, headers: a.headers, payload: 'payload' in a ? a.payload : undefined });
      expect(res.statusCode, `${a.method} ${a.url}`).toBe(403);
      expect(res.json().error).toBe('cross_site_request');
    }
    expect(await app!.store.listEvents()).toHaveLength(1);
    expect(await available(eventId)).toBe(95);
    expect((await app!.service.getHold(hold.id)).status).toBe('active');
    expect((await app!.service.getBooking(booking.id)).tickets.every((t) => t.status === 'valid')).toBe(true);
  });

  it('reads are never refused: GET, HEAD and CORS preflights from another site are answered as before', async () => {
    const { eventId } = await setup();
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await app!.app.inject({ method, url: `/events/${eventId}`, headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' } });
      expect(res.statusCode).toBe(200);
    }
    const preflight = await app!.app.inject({ method: 'OPTIONS', url: '/reserve', headers: { origin: EVIL, 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).not.toBe(403);
  });
});

describe('who may still write', () => {
  it('clients that are not browsers: no Origin and no Sec-Fetch-Site, as curl, the Go client and the TUIs send', async () => {
    const { eventId } = await setup();
    // curl -X POST (no body, no content type), and curl -d '' (an empty form body).
    expect((await reserve(eventId, {})).status).toBe(200);
    expect((await reserve(eventId, { 'content-type': 'application/x-www-form-urlencoded' }, '')).status).toBe(200);
    // Node's own fetch (undici), which BoxofficeClient and the TUIs use.
    const viaFetch = await fetch(`${app!.url}/events/${eventId}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tickets":2}' });
    expect(viaFetch.status).toBe(201);
    expect(await available(eventId)).toBe(96);
  });

  it('the server\'s own pages: Sec-Fetch-Site same-origin, or an Origin naming this host', async () => {
    const { eventId } = await setup();
    const own = app!.url;
    const allowed: Array<Record<string, string>> = [
      { origin: own, 'sec-fetch-site': 'same-origin' },
      // An older browser: no Fetch Metadata, the Origin is this server's.
      { origin: own },
      // Behind a TLS proxy that sends no X-Forwarded-Proto, the page is on https while we see http.
      { origin: own.replace('http:', 'https:') },
      // The browser vouches for same-origin even when the Origin does not match what we see (a proxy rewrote Host).
      { origin: 'https://tickets.internal', 'sec-fetch-site': 'same-origin' },
      // The user's own navigation (Sec-Fetch-Site: none) carries no page's intent but theirs.
      { 'sec-fetch-site': 'none' },
    ];
    for (const headers of allowed) {
      const res = await reserve(eventId, headers);
      expect(res.status, JSON.stringify(headers)).toBe(200);
    }
    expect(await available(eventId)).toBe(100 - allowed.length);
  });

  it('the origin named by --cors-origin, even cross-site; any other origin is still refused', async () => {
    const { eventId } = await setup({ config: { corsOrigin: ALLOWED } });
    expect((await reserve(eventId, { origin: ALLOWED, 'sec-fetch-site': 'cross-site' })).status).toBe(200);
    expect((await reserve(eventId, { origin: ALLOWED })).status).toBe(200);
    const booked = await request(`${app!.url}/events/${eventId}/bookings`, {
      method: 'POST',
      headers: { origin: ALLOWED, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      body: '{"tickets":1}',
    });
    expect(booked.statusCode).toBe(201);
    expect(booked.headers['access-control-allow-origin']).toBe(ALLOWED);
    await booked.body.dump();
    expect((await reserve(eventId, { origin: `${ALLOWED}:8443`, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await reserve(eventId, { origin: 'https://tickets.example.evil.example' })).status).toBe(403);
    expect((await reserve(eventId, { origin: EVIL, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect(await available(eventId)).toBe(97);
  });

  it('behind a trusted proxy the own origin is X-Forwarded-Host, and an http page cannot write to an https site', async () => {
    const { eventId } = await setup({ config: { trustProxy: true } });
    const proxied = { 'x-forwarded-host': 'tickets.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.7' };
    expect((await reserve(eventId, { ...proxied, origin: 'https://tickets.example' })).status).toBe(200);
    expect((await reserve(eventId, { ...proxied, origin: 'http://tickets.example' })).status).toBe(403);
    expect((await reserve(eventId, { ...proxied, origin: app!.url })).status).toBe(403);
    expect(await available(eventId)).toBe(99);
  });
});

describe('REST writes take JSON only', () => {
  it('a form, multipart or text body is 415 unsupported_media_type and changes nothing', async () => {
    const { eventId } = await setup();
    const json = { 'content-type': 'application/json' };
    const hold = (await app!.app.inject({ method: 'POST', url: `/events/${eventId}/holds`, headers: json, payload: '{"tickets":2}' })).json();
    const writes = [
      { method: 'POST', url: `/events/${eventId}/bookings`, body: '{"tickets":1}' },
      { method: 'POST', url: `/events/${eventId}/holds`, body: 'tickets=1' },
      { method: 'POST', url: `/holds/${hold.id}/confirm`, body: '' },
      { method: 'DELETE', url: `/holds/${hold.id}`, body: 'x' },
      { method: 'POST', url: '/events', body: '{"name":"X","date":"2027-01-01T00:00:00Z","totalTickets":5}', admin: true },
    ] as const;
    const types = ['application/x-www-form-urlencoded', 'text/plain', 'text/plain; charset=application/json', 'multipart/form-data; boundary=x'];
    for (const w of writes) {
      for (const type of types) {
        const headers = { 'content-type': type, ...('admin' in w ? { authorization: `Bearer ${ADMIN_TOKEN}` } : {}) };
        const res = await app!.app.inject({ method: w.method, url: w.url, headers, payload: w.body });
        expect(res.statusCode, `${w.method} ${w.url} ${type}`).toBe(415);
        expect(res.json()).toEqual({ error: 'unsupported_media_type', message: 'Send the body as application/json.' });
      }
    }
    expect(await available(eventId)).toBe(98);
    expect((await app!.service.getHold(hold.id)).status).toBe('active');
    expect(await app!.store.listEvents()).toHaveLength(1);
  });
});
