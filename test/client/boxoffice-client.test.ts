/**
 * The typed HTTP client against a real in-process server (every endpoint, the server's own error
 * codes and messages), against no server (one plain sentence), and against scripted servers for
 * 429 retries, timeouts and the live stream's reconnects.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, BoxofficeClient, parseRetryAfter, readEventStream, type EventStreamMessage, type RetryNotice, type StreamStatus } from '../../src/client/index.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';
import { freePort } from '../helpers/server-process.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected a rejection');
}

/** A scripted HTTP server on 127.0.0.1: `handler` answers every request. */
async function scripted(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const scriptedServers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  for (const s of scriptedServers.splice(0)) await s.close();
});

describe('BoxofficeClient against the real API', () => {
  let app: Awaited<ReturnType<typeof startApp>>;
  let client: BoxofficeClient;
  beforeAll(async () => {
    app = await startApp();
    client = new BoxofficeClient({ baseUrl: `${app.url}/`, adminToken: ADMIN_TOKEN });
  });
  afterAll(() => app.close());

  it('health, create, list, get', async () => {
    expect(await client.health()).toEqual({ status: 'ok' });
    const event = await client.createEvent({ name: ' Opening ', date: '2027-05-01T19:30:00+02:00', totalTickets: 5, maxTicketsPerBooking: 4 });
    expect(event).toMatchObject({ id: expect.stringMatching(UUID), name: 'Opening', date: '2027-05-01T17:30:00.000Z', availableTickets: 5 });
    expect(await client.getEvent(event.id)).toEqual(event);
    expect((await client.listEvents()).map((e) => e.id)).toContain(event.id);
  });

  it('books, reads the booking and a ticket back, and reserves through the original protocol', async () => {
    const event = await client.createEvent({ name: 'Gig', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const booking = await client.book(event.id, 3);
    expect(booking.tickets).toHaveLength(3);
    expect(booking.tickets.map((t) => t.status)).toEqual(['valid', 'valid', 'valid']);
    // The secret is in the answer that made the booking, and never readable again.
    // So are the tickets' signed codes (issue 14).
    const { secret, ...answered } = booking;
    expect(secret).toEqual(expect.any(String));
    expect(booking.tickets.every((t) => t.code?.startsWith('BO1.'))).toBe(true);
    const stored = { ...answered, tickets: answered.tickets.map(({ code: _code, ...t }) => t) };
    expect(await client.getBooking(booking.id)).toEqual({ ...stored, eventStatus: 'scheduled' });
    expect(await client.getTicket(booking.tickets[0]!.id)).toEqual(stored.tickets[0]);
    const ids = await client.reserve(event.id, 2);
    expect(ids).toHaveLength(2);
    expect((await client.getEvent(event.id)).availableTickets).toBe(5);
  });

  it('holds: hold, read, confirm (twice: the same booking), release; the event counts follow', async () => {
    const event = await client.createEvent({ name: 'Holdable', date: '2027-06-01T20:00:00Z', totalTickets: 10, holdSeconds: 60 });
    expect(event).toMatchObject({ heldTickets: 0, holdSeconds: 60 });
    const hold = await client.holdTickets(event.id, 3);
    expect(hold).toMatchObject({ eventId: event.id, tickets: 3, status: 'active' });
    expect(Date.parse(hold.expiresAt) - Date.parse(hold.createdAt)).toBe(60_000);
    expect(await client.getEvent(event.id)).toMatchObject({ availableTickets: 7, heldTickets: 3 });
    expect(await client.getHold(hold.id)).toEqual(hold);
    const booking = await client.confirmHold(hold.id);
    expect(booking.tickets).toHaveLength(3);
    expect(booking.secret).toEqual(expect.any(String));
    expect((await client.confirmHold(hold.id)).id).toBe(booking.id);
    expect(await client.getHold(hold.id)).toMatchObject({ status: 'confirmed', bookingId: booking.id });
    expect(await client.getEvent(event.id)).toMatchObject({ availableTickets: 7, heldTickets: 0 });
    expect(await rejection(client.releaseHold(hold.id))).toMatchObject({ status: 409, code: 'hold_confirmed' });

    const other = await client.holdTickets(event.id, 2);
    expect((await client.releaseHold(other.id)).status).toBe('released');
    expect((await client.releaseHold(other.id)).status).toBe('released');
    expect(await client.getEvent(event.id)).toMatchObject({ availableTickets: 7, heldTickets: 0 });
    expect(await rejection(client.confirmHold(other.id))).toMatchObject({ status: 410, code: 'hold_released' });
  });

  it('cancels with the secret (part, then the rest) or the admin token; refuses a wrong or missing secret', async () => {
    const event = await client.createEvent({ name: 'Cancellable', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const buyer = new BoxofficeClient({ baseUrl: app.url });
    const booking = await buyer.book(event.id, 3);
    const [t1, t2, t3] = booking.tickets.map((t) => t.id);
    expect(await rejection(buyer.cancelBooking(booking.id))).toMatchObject({ status: 401, code: 'unauthorized' });
    expect(await rejection(buyer.cancelBooking(booking.id, { secret: 'not-the-secret' }))).toMatchObject({ status: 403, code: 'forbidden' });
    const part = await buyer.cancelBooking(booking.id, { secret: booking.secret!, tickets: [t1!] });
    expect(part.tickets.map((t) => [t.id, t.status])).toEqual([
      [t1, 'cancelled'],
      [t2, 'valid'],
      [t3, 'valid'],
    ]);
    expect((await buyer.getTicket(t1!)).status).toBe('cancelled');
    expect((await client.getEvent(event.id)).availableTickets).toBe(8);
    expect(await rejection(buyer.cancelBooking(booking.id, { secret: booking.secret!, tickets: [t1!] }))).toMatchObject({ status: 409, code: 'already_cancelled' });
    const rest = await client.cancelBooking(booking.id);
    expect(rest.tickets.every((t) => t.status === 'cancelled')).toBe(true);
    expect((await client.getEvent(event.id)).availableTickets).toBe(10);
  });

  it('reports the server code, status and message', async () => {
    const event = await client.createEvent({ name: 'Small', date: '2027-06-01T20:00:00Z', totalTickets: 3 });
    const tooMany = await rejection(client.book(event.id, 5));
    expect(tooMany).toMatchObject({ status: 409, code: 'not_enough_tickets', message: 'Not enough tickets available: requested 5, 3 left' });
    const missing = await rejection(client.getEvent('3f2b8c4e-6a1d-4e5f-9b7a-2c8d1e0f4a6b'));
    expect(missing).toMatchObject({ status: 404, code: 'event_not_found' });
    const noToken = await rejection(new BoxofficeClient({ baseUrl: app.url }).createEvent({ name: 'x', date: '2027-01-01T00:00:00Z', totalTickets: 1 }));
    expect(noToken).toMatchObject({ status: 401, code: 'unauthorized' });
    const invalid = await rejection(client.createEvent({ name: '', date: '2027-01-01T00:00:00Z', totalTickets: 1 }));
    expect(invalid).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(invalid.message).toMatch(/^name must be text/);
  });

  it('checks the admin token without creating anything', async () => {
    const before = (await client.listEvents()).length;
    expect(await client.checkAdminToken()).toBe(true);
    expect(await client.checkAdminToken({ token: 'wrong-token-0123456789' })).toBe(false);
    expect(await new BoxofficeClient({ baseUrl: app.url }).checkAdminToken()).toBe(false);
    expect((await client.listEvents()).length).toBe(before);
  });

  it('follows the live stream: a snapshot, then the availability after a booking', async () => {
    const event = await client.createEvent({ name: 'Live', date: '2027-06-01T20:00:00Z', totalTickets: 10 });
    const messages: EventStreamMessage[] = [];
    const statuses: StreamStatus['state'][] = [];
    const sub = client.subscribe({ onMessage: (m) => messages.push(m), onStatus: (s) => statuses.push(s.state) });
    try {
      await expect.poll(() => messages.some((m) => m.type === 'snapshot')).toBe(true);
      await client.book(event.id, 4);
      await expect
        .poll(() => messages.some((m) => m.type === 'changes' && m.availability.some((a) => a.id === event.id && a.availableTickets === 6)))
        .toBe(true);
      expect(statuses.slice(0, 2)).toEqual(['connecting', 'open']);
    } finally {
      sub.close();
    }
    await expect.poll(() => statuses.at(-1)).toBe('closed');
  });
});

describe('BoxofficeClient without a server', () => {
  it('says plainly that it cannot reach the address', async () => {
    const port = await freePort();
    const client = new BoxofficeClient({ baseUrl: `http://127.0.0.1:${port}` });
    const err = await rejection(client.listEvents());
    expect(err).toMatchObject({ status: 0, code: 'unreachable', unreachable: true });
    expect(err.message).toBe(`Cannot reach boxoffice at http://127.0.0.1:${port}: connection refused`);
  });

  it('waitForServer polls /healthz until its deadline, then throws the last failure', async () => {
    const port = await freePort();
    const attempts: number[] = [];
    const client = new BoxofficeClient({ baseUrl: `http://127.0.0.1:${port}` });
    const err = await rejection(client.waitForServer({ timeoutMs: 300, intervalMs: 50, onAttempt: (n) => attempts.push(n) }));
    expect(err.message).toMatch(/connection refused/);
    expect(attempts.length).toBeGreaterThan(1);
  });

  it('waitForServer succeeds once the server comes up', async () => {
    const port = await freePort();
    const client = new BoxofficeClient({ baseUrl: `http://127.0.0.1:${port}` });
    let attempts = 0;
    let server: Server | undefined;
    await client.waitForServer({
      timeoutMs: 10_000,
      intervalMs: 20,
      onAttempt: (n) => {
        attempts = n;
        if (n === 3) {
          server = createServer((_req, res) => res.end('{"status":"ok"}'));
          server.listen(port, '127.0.0.1');
        }
      },
    });
    expect(attempts).toBeGreaterThanOrEqual(3);
    await new Promise((r) => server!.close(r));
  });

  it('rejects a malformed base URL at once', () => {
    expect(() => new BoxofficeClient({ baseUrl: 'localhost:8080' })).toThrow(/not an http\(s\) URL|not a URL/);
  });
});

describe('429: retried with backoff honouring Retry-After, up to a limit', () => {
  function busyServer(busyTimes: number, retryAfter: string | undefined) {
    let calls = 0;
    return scripted((req, res) => {
      calls++;
      req.resume();
      if (calls <= busyTimes) {
        res.writeHead(429, { 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) });
        res.end(JSON.stringify({ error: 'too_many_requests', message: 'The server is busy; retry after the time in Retry-After.' }));
      } else {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'b', eventId: 'e', tickets: [], createdAt: '2027-01-01T00:00:00.000Z' }));
      }
    }).then((s) => {
      scriptedServers.push(s);
      return { ...s, calls: () => calls };
    });
  }

  function recordingClient(url: string, extra: Partial<ConstructorParameters<typeof BoxofficeClient>[0]> = {}) {
    const waits: number[] = [];
    const notices: RetryNotice[] = [];
    const client = new BoxofficeClient({
      baseUrl: url,
      sleep: async (ms) => {
        waits.push(ms);
      },
      onRetry: (n) => notices.push(n),
      ...extra,
    });
    return { client, waits, notices };
  }

  it('waits what Retry-After says, tells the caller each time, then succeeds', async () => {
    const server = await busyServer(2, '1');
    const { client, waits, notices } = recordingClient(server.url);
    const booking = await client.book('e', 2);
    expect(booking.id).toBe('b');
    expect(server.calls()).toBe(3);
    expect(waits).toEqual([1000, 1000]);
    const reason = 'The server is busy; retry after the time in Retry-After.';
    expect(notices).toEqual([
      { attempt: 1, maxRetries: 4, delayMs: 1000, request: 'POST /events/e/bookings', cause: 'busy', reason },
      { attempt: 2, maxRetries: 4, delayMs: 1000, request: 'POST /events/e/bookings', cause: 'busy', reason },
    ]);
  });

  it('backs off exponentially without Retry-After, and a per-call listener overrides the client one', async () => {
    const server = await busyServer(3, undefined);
    const { client, waits, notices } = recordingClient(server.url, { baseRetryDelayMs: 100 });
    const mine: number[] = [];
    await client.book('e', 1, { onRetry: (n) => mine.push(n.delayMs) });
    expect(waits).toEqual([100, 200, 400]);
    expect(mine).toEqual([100, 200, 400]);
    expect(notices).toEqual([]);
  });

  it('gives up after the limit and reports it', async () => {
    const server = await busyServer(100, '1');
    const { client, waits } = recordingClient(server.url, { maxRetries: 3 });
    const err = await rejection(client.book('e', 1));
    expect(err).toMatchObject({ status: 429, code: 'too_many_requests', retryAfter: 1 });
    expect(err.message).toBe('The server is busy; gave up after 3 retries.');
    expect(waits).toEqual([1000, 1000, 2000]);
    expect(server.calls()).toBe(4);
  });

  it('does not wait longer than its limit: a long Retry-After is reported at once', async () => {
    const server = await busyServer(100, '120');
    const { client, waits } = recordingClient(server.url);
    const err = await rejection(client.listEvents());
    expect(err.message).toBe('The server is busy and asks to wait 120 s; try again later.');
    expect(waits).toEqual([]);
  });

  it('parses Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(new Date(Date.now() + 5_000).toUTCString())).toBeGreaterThanOrEqual(4);
  });
});

describe('other failures', () => {
  it('a server that never answers: code timeout, a plain sentence', async () => {
    const server = await scripted(() => {
      // never answers
    });
    scriptedServers.push(server);
    const err = await rejection(new BoxofficeClient({ baseUrl: server.url, timeoutMs: 200 }).listEvents());
    expect(err).toMatchObject({ status: 0, code: 'timeout' });
    expect(err.message).toBe(`No answer from boxoffice at ${server.url} within 0.2 s.`);
  });

  it('a non-JSON error page: the status in a sentence', async () => {
    const server = await scripted((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>Bad gateway</h1>');
    });
    scriptedServers.push(server);
    const err = await rejection(new BoxofficeClient({ baseUrl: server.url }).listEvents());
    expect(err).toMatchObject({ status: 502, code: 'http_error' });
    expect(err.message).toBe(`boxoffice at ${server.url} answered HTTP 502 Bad Gateway.`);
  });
});

describe('the live stream: parsing and reconnecting', () => {
  async function* chunks(...parts: string[]) {
    for (const p of parts) yield new TextEncoder().encode(p);
  }

  it('parses data lines across chunk boundaries, CRLF, multi-line data, comments and other fields', async () => {
    const out: string[] = [];
    for await (const d of readEventStream(chunks('retry: 1000\n\n: ping\n\nda', 'ta: {"a":1}\n', '\nevent: x\r', '\ndata: line1\r\ndata:line2\r\n\r\n', 'data: tail\n'))) {
      out.push(d);
    }
    // The last event never got its blank line, so it is not dispatched.
    expect(out).toEqual(['{"a":1}', 'line1\nline2']);
  });

  it('reconnects with growing backoff, resets it after a good connection, and hears each snapshot', async () => {
    let connections = 0;
    const server = await scripted((req, res) => {
      connections++;
      req.resume();
      if (connections === 1 || connections === 4) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(`data: ${JSON.stringify({ type: 'snapshot', events: [] })}\n\n`);
      } else {
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'shutting_down', message: 'The server is shutting down; retry on another node or shortly.' }));
      }
    });
    scriptedServers.push(server);
    const waits: number[] = [];
    const statuses: StreamStatus[] = [];
    let snapshots = 0;
    const client = new BoxofficeClient({
      baseUrl: server.url,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const sub = client.subscribe(
      { onMessage: (m) => (snapshots += m.type === 'snapshot' ? 1 : 0), onStatus: (s) => statuses.push(s) },
      { minDelayMs: 100, maxDelayMs: 300 },
    );
    await expect.poll(() => connections).toBeGreaterThanOrEqual(6);
    sub.close();
    expect(snapshots).toBeGreaterThanOrEqual(2);
    // 1: ok, ends → 100; 2, 3: 503 → 200, 300 (capped); 4: ok → reset, ends → 100; 5: 503 → 200 …
    expect(waits.slice(0, 5)).toEqual([100, 200, 300, 100, 200]);
    const reasons = statuses.filter((s): s is Extract<StreamStatus, { state: 'reconnecting' }> => s.state === 'reconnecting').map((s) => s.reason);
    expect(reasons[0]).toBe('the stream was closed');
    expect(reasons[1]).toBe('HTTP 503: The server is shutting down; retry on another node or shortly.');
  });

  it('reconnects when the server falls silent (no heartbeat)', async () => {
    let connections = 0;
    const server = await scripted((req, res) => {
      connections++;
      req.resume();
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ type: 'snapshot', events: [] })}\n\n`);
      // …and then nothing, not even a heartbeat.
    });
    scriptedServers.push(server);
    const statuses: StreamStatus[] = [];
    const sub = new BoxofficeClient({ baseUrl: server.url }).subscribe(
      { onMessage: () => {}, onStatus: (s) => statuses.push(s) },
      { idleTimeoutMs: 150, minDelayMs: 10 },
    );
    await expect.poll(() => connections).toBeGreaterThanOrEqual(2);
    sub.close();
    expect(statuses.find((s) => s.state === 'reconnecting')).toMatchObject({ reason: 'nothing heard for 0 s' });
  });
});

/** What a stub `fetch` saw of one request. */
interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | Error;

/**
 * A client over a stub `fetch`: `script` answers each request in turn (the last answer repeats), an
 * Error is thrown as fetch throws it. Waits are recorded, not slept.
 */
function stubbed(script: Reply[], extra: Partial<ConstructorParameters<typeof BoxofficeClient>[0]> = {}) {
  const seen: Seen[] = [];
  const waits: number[] = [];
  const notices: RetryNotice[] = [];
  const fetchStub: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    seen.push({
      method: init?.method ?? 'GET',
      path: url.pathname + url.search,
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      body: typeof init?.body === 'string' ? init.body : undefined,
    });
    const reply = script[Math.min(seen.length - 1, script.length - 1)]!;
    if (reply instanceof Error) throw reply;
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json', ...reply.headers },
    });
  };
  const client = new BoxofficeClient({
    baseUrl: 'http://boxoffice.test',
    adminToken: 'admin-token',
    fetch: fetchStub,
    sleep: async (ms) => {
      waits.push(ms);
    },
    onRetry: (n) => notices.push(n),
    ...extra,
  });
  return { client, seen, waits, notices };
}

/** What undici throws when the connection dies before the answer. */
function networkError(code = 'ECONNRESET'): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(`read ${code}`), { code }) });
}

const BOOKING = {
  id: 'b1',
  eventId: 'e1',
  tickets: [{ id: 't1', eventId: 'e1', bookingId: 'b1', status: 'valid' }],
  createdAt: '2027-01-01T00:00:00.000Z',
  secret: 's3cret',
};
const HOLD = { id: 'h1', eventId: 'e1', tickets: 2, status: 'active', createdAt: '2027-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:10:00.000Z' };
const UNAVAILABLE = { status: 503, body: { error: 'shutting_down', message: 'The server is shutting down; retry on another node or shortly.' } };
const BUSY = { status: 429, body: { error: 'too_many_requests', message: 'The server is busy; retry after the time in Retry-After.' }, headers: { 'retry-after': '1' } };

describe('Idempotency-Key: bookings and holds are safe to retry', () => {
  it('every booking and hold call sends a key; one key per call, different between calls', async () => {
    const { client, seen } = stubbed([{ status: 201, body: BOOKING }]);
    await client.book('e1', 2);
    await client.book('e1', 2);
    await client.reserve('e1', 1);
    await client.holdTickets('e1', 2);
    const keys = seen.map((r) => r.headers['idempotency-key']);
    for (const key of keys) expect(key).toMatch(UUID);
    expect(new Set(keys).size).toBe(4);
  });

  it('the same key on every retry of one call: network error, 503, timeout, 429', async () => {
    const { client, seen, waits, notices } = stubbed(
      [networkError('ECONNRESET'), UNAVAILABLE, Object.assign(new DOMException('timed out', 'TimeoutError')), BUSY, { status: 201, body: BOOKING }],
      { baseRetryDelayMs: 100 },
    );
    const booking = await client.book('e1', 2);
    expect(booking).toEqual(BOOKING);
    expect(seen).toHaveLength(5);
    const key = seen[0]!.headers['idempotency-key'];
    expect(key).toMatch(UUID);
    for (const r of seen) {
      expect(r).toMatchObject({ method: 'POST', path: '/events/e1/bookings', body: '{"tickets":2}' });
      expect(r.headers['idempotency-key']).toBe(key);
    }
    expect(notices.map((n) => n.cause)).toEqual(['unreachable', 'unavailable', 'timeout', 'busy']);
    expect(notices[0]!.reason).toBe('Cannot reach boxoffice at http://boxoffice.test: connection reset');
    expect(notices[1]!.reason).toBe('The server is shutting down; retry on another node or shortly.');
    // Exponential backoff; the 429's Retry-After (1 s) wins over a shorter backoff.
    expect(waits).toEqual([100, 200, 400, 1000]);
  });

  it('holds too: a lost answer to POST /events/:id/holds is sent again with its key', async () => {
    const { client, seen } = stubbed([networkError('ECONNREFUSED'), { status: 201, body: HOLD }]);
    expect(await client.holdTickets('e1', 2)).toEqual(HOLD);
    expect(seen.map((r) => `${r.method} ${r.path} ${r.body}`)).toEqual(['POST /events/e1/holds {"tickets":2}', 'POST /events/e1/holds {"tickets":2}']);
    expect(seen[1]!.headers['idempotency-key']).toBe(seen[0]!.headers['idempotency-key']);
  });

  it('the caller may bring the key (kept on retries); a malformed one is refused before anything is sent', async () => {
    const { client, seen } = stubbed([networkError(), { status: 201, body: BOOKING }]);
    await client.book('e1', 1, { idempotencyKey: 'order-42-7f3a9c2e1b' });
    expect(seen.map((r) => r.headers['idempotency-key'])).toEqual(['order-42-7f3a9c2e1b', 'order-42-7f3a9c2e1b']);
    await expect(client.book('e1', 1, { idempotencyKey: 'has space 0123456789' })).rejects.toThrow(/16 to 200 characters/);
    await expect(client.book('e1', 1, { idempotencyKey: 'order-42' })).rejects.toThrow(/unguessable 16 to 200/);
    await expect(client.holdTickets('e1', 1, { idempotencyKey: 'x'.repeat(201) })).rejects.toThrow(/16 to 200/);
    await expect(client.reserve('e1', 1, { idempotencyKey: '' })).rejects.toThrow(/16 to 200/);
    expect(seen).toHaveLength(2);
  });

  it('gives up after maxRetries and reports the last failure as it came', async () => {
    const { client, seen, waits } = stubbed([networkError('ECONNREFUSED')], { maxRetries: 2, baseRetryDelayMs: 10 });
    const err = await rejection(client.book('e1', 1));
    expect(err).toMatchObject({ status: 0, code: 'unreachable', message: 'Cannot reach boxoffice at http://boxoffice.test: connection refused' });
    expect(seen).toHaveLength(3);
    expect(waits).toEqual([10, 20]);
    const unavailable = stubbed([UNAVAILABLE], { maxRetries: 1 });
    expect(await rejection(unavailable.client.book('e1', 1))).toMatchObject({ status: 503, code: 'shutting_down' });
    expect(unavailable.seen).toHaveLength(2);
  });

  it('a refusal is not retried, and a long Retry-After on a 503 is reported at once', async () => {
    const refused = stubbed([{ status: 409, body: { error: 'not_enough_tickets', message: 'Not enough tickets available: requested 5, 3 left' } }]);
    expect(await rejection(refused.client.book('e1', 5))).toMatchObject({ status: 409, code: 'not_enough_tickets' });
    expect(refused.seen).toHaveLength(1);
    const reused = stubbed([{ status: 422, body: { error: 'idempotency_key_reused', message: 'This Idempotency-Key was already used for a different request.' } }]);
    expect(await rejection(reused.client.book('e1', 5))).toMatchObject({ status: 422, code: 'idempotency_key_reused' });
    expect(reused.seen).toHaveLength(1);
    const later = stubbed([{ ...UNAVAILABLE, headers: { 'retry-after': '120' } }]);
    expect(await rejection(later.client.book('e1', 1))).toMatchObject({ status: 503, code: 'shutting_down' });
    expect(later.seen).toHaveLength(1);
  });

  it('an aborted call is not retried', async () => {
    const abort = new AbortController();
    const { client, seen } = stubbed([networkError()], {
      sleep: async () => {
        abort.abort();
        throw new Error('aborted while waiting');
      },
    });
    await expect(client.book('e1', 1, { signal: abort.signal })).rejects.toThrow();
    expect(seen).toHaveLength(1);
    const already = stubbed([networkError()]);
    const gone = new AbortController();
    gone.abort();
    expect(await rejection(already.client.book('e1', 1, { signal: gone.signal }))).toMatchObject({ code: 'aborted' });
    expect(already.seen).toHaveLength(1);
  });
});

describe('calls without a key keep the old rules: only a 429 is retried', () => {
  it('a non-idempotent POST without a key (create an event) is never sent twice after a network error or a 503', async () => {
    for (const failure of [networkError(), UNAVAILABLE, new DOMException('timed out', 'TimeoutError')]) {
      const { client, seen, notices } = stubbed([failure, { status: 201, body: { id: 'e1' } }]);
      await expect(client.createEvent({ name: 'x', date: '2027-01-01T00:00:00Z', totalTickets: 1 })).rejects.toBeInstanceOf(ApiError);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.headers['idempotency-key']).toBeUndefined();
      expect(notices).toEqual([]);
    }
  });

  it('nor is a cancellation (a second try would answer already_cancelled), but a 429 is', async () => {
    const lost = stubbed([networkError(), { status: 200, body: BOOKING }]);
    expect(await rejection(lost.client.cancelBooking('b1', { secret: 's' }))).toMatchObject({ code: 'unreachable' });
    expect(lost.seen).toHaveLength(1);
    const busy = stubbed([BUSY, { status: 200, body: BOOKING }]);
    await busy.client.cancelBooking('b1', { secret: 's' });
    expect(busy.seen).toHaveLength(2);
  });

  it('reads are not retried on a network error either (as before); a 429 still is', async () => {
    const { client, seen } = stubbed([networkError(), { status: 200, body: [] }]);
    expect(await rejection(client.listEvents())).toMatchObject({ code: 'unreachable' });
    expect(seen).toHaveLength(1);
    const busy = stubbed([BUSY, { status: 200, body: [] }]);
    expect(await busy.client.listEvents()).toEqual([]);
    expect(busy.seen).toHaveLength(2);
    expect(busy.seen.every((r) => r.headers['idempotency-key'] === undefined)).toBe(true);
  });

  it('confirming and releasing a hold are safe by design (a repeat answers the same), so they are retried', async () => {
    const confirm = stubbed([networkError(), UNAVAILABLE, { status: 200, body: BOOKING }]);
    expect(await confirm.client.confirmHold('h1')).toEqual(BOOKING);
    expect(confirm.seen.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /holds/h1/confirm', 'POST /holds/h1/confirm', 'POST /holds/h1/confirm']);
    const release = stubbed([networkError(), { status: 200, body: { ...HOLD, status: 'released' } }]);
    expect(await release.client.releaseHold('h1')).toMatchObject({ status: 'released' });
    expect(release.seen).toHaveLength(2);
  });
});

describe('the new routes: method, path, headers and body', () => {
  it('holdTickets, getHold, confirmHold, releaseHold', async () => {
    const { client, seen } = stubbed([
      { status: 201, body: HOLD, headers: { location: '/holds/h1' } },
      { status: 200, body: HOLD },
      { status: 201, body: BOOKING },
      { status: 200, body: { ...HOLD, status: 'released' } },
    ]);
    expect(await client.holdTickets('e/1', 2)).toEqual(HOLD);
    expect(await client.getHold('h1')).toEqual(HOLD);
    expect(await client.confirmHold('h1')).toEqual(BOOKING);
    expect(await client.releaseHold('h1')).toMatchObject({ status: 'released' });
    expect(seen.map(({ method, path, body }) => ({ method, path, body }))).toEqual([
      { method: 'POST', path: '/events/e%2F1/holds', body: '{"tickets":2}' },
      { method: 'GET', path: '/holds/h1', body: undefined },
      { method: 'POST', path: '/holds/h1/confirm', body: undefined },
      { method: 'DELETE', path: '/holds/h1', body: undefined },
    ]);
    expect(seen[0]!.headers['content-type']).toBe('application/json');
    expect(seen[0]!.headers['idempotency-key']).toMatch(UUID);
    // A hold id is the capability: no token is sent with it.
    for (const r of seen) expect(r.headers.authorization).toBeUndefined();
    for (const r of seen.slice(1)) {
      expect(r.headers['idempotency-key']).toBeUndefined();
      expect(r.headers['content-type']).toBeUndefined();
    }
  });

  it('cancelBooking: Bearer with the secret, else the admin token; the ticket list only when given', async () => {
    const cancelled = { ...BOOKING, secret: undefined, tickets: [{ ...BOOKING.tickets[0], status: 'cancelled' }] };
    const { client, seen } = stubbed([{ status: 200, body: cancelled }]);
    expect(await client.cancelBooking('b1', { secret: 's3cret' })).toEqual(JSON.parse(JSON.stringify(cancelled)));
    await client.cancelBooking('b1', { tickets: ['t1', 't2'] });
    expect(seen.map(({ method, path, body, headers }) => ({ method, path, body, auth: headers.authorization, type: headers['content-type'] }))).toEqual([
      { method: 'DELETE', path: '/bookings/b1', body: undefined, auth: 'Bearer s3cret', type: undefined },
      { method: 'DELETE', path: '/bookings/b1', body: '{"tickets":["t1","t2"]}', auth: 'Bearer admin-token', type: 'application/json' },
    ]);
    // No secret and no admin token: no Authorization at all (the server answers 401).
    const anonymous = new BoxofficeClient({ baseUrl: 'http://boxoffice.test', fetch: async () => new Response('{"error":"unauthorized","message":"no"}', { status: 401 }) });
    expect(await rejection(anonymous.cancelBooking('b1'))).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('createEvent passes holdSeconds through', async () => {
    const { client, seen } = stubbed([{ status: 201, body: { id: 'e1' } }]);
    await client.createEvent({ name: 'Gig', date: '2027-01-01T00:00:00Z', totalTickets: 5, holdSeconds: 120 });
    expect(JSON.parse(seen[0]!.body!)).toEqual({ name: 'Gig', date: '2027-01-01T00:00:00Z', totalTickets: 5, holdSeconds: 120 });
  });
});

describe('a keyed booking over a real socket that drops', () => {
  it('the connection is reset before the answer: sent again with the same key', async () => {
    const keys: Array<string | undefined> = [];
    const server = await scripted((req, res) => {
      req.resume();
      keys.push(req.headers['idempotency-key'] as string | undefined);
      if (keys.length === 1) return req.socket.destroy();
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify(BOOKING));
    });
    scriptedServers.push(server);
    const notices: RetryNotice[] = [];
    const client = new BoxofficeClient({ baseUrl: server.url, baseRetryDelayMs: 10, onRetry: (n) => notices.push(n) });
    expect(await client.book('e1', 1)).toEqual(BOOKING);
    expect(keys).toHaveLength(2);
    expect(keys[1]).toBe(keys[0]);
    expect(notices).toMatchObject([{ cause: 'unreachable', request: 'POST /events/e1/bookings', delayMs: 10 }]);
    // Without a key the same drop is reported, not repeated.
    keys.length = 0;
    await expect(client.createEvent({ name: 'x', date: '2027-01-01T00:00:00Z', totalTickets: 1 })).rejects.toMatchObject({ code: 'unreachable' });
    expect(keys).toEqual([undefined]);
  });
});
