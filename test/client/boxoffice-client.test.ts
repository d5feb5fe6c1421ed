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
    expect(await client.getBooking(booking.id)).toEqual(booking);
    expect(await client.getTicket(booking.tickets[0]!.id)).toEqual(booking.tickets[0]);
    const ids = await client.reserve(event.id, 2);
    expect(ids).toHaveLength(2);
    expect((await client.getEvent(event.id)).availableTickets).toBe(5);
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
    expect(notices).toEqual([
      { attempt: 1, maxRetries: 4, delayMs: 1000, request: 'POST /events/e/bookings' },
      { attempt: 2, maxRetries: 4, delayMs: 1000, request: 'POST /events/e/bookings' },
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
