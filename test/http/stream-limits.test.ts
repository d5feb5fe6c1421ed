/**
 * Issue 15 item 6, "Live streams are bounded", over real sockets: stream quotas per address and in
 * all (429 too_many_streams), subscribers that stop reading are dropped with their unread bytes
 * bounded, the list is encoded once per change, and GET /events has ETag/304, paging and gzip.
 */
import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Event } from '../../src/client/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { adminHeaders, startApp } from '../helpers/app.js';

type App = Awaited<ReturnType<typeof startApp>>;
const apps: App[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  for (const app of apps.splice(0)) await app.close();
});

async function start(config: Parameters<typeof startApp>[0] = {}): Promise<App> {
  const app = await startApp(config);
  apps.push(app);
  return app;
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A GET whose body is read as raw bytes (no automatic decoding), from a chosen loopback address. */
function get(app: App, path: string, headers: Record<string, string> = {}, localAddress = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: app.port, path, headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** Opens the stream from `localAddress`: resolves with the status (and the body so far, for a refusal). */
function openStream(app: App, localAddress: string): Promise<{ status: number; headers: IncomingMessage['headers']; body: Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: app.port, path: '/events/stream', localAddress, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      const body = new Promise<string>((done) => res.on('end', () => done(text)).on('close', () => done(text)));
      resolve({ status: res.statusCode!, headers: res.headers, body });
    });
    req.once('error', reject);
    cleanups.push(() => req.destroy());
    req.end();
  });
}

async function createEvent(app: App, name = 'Gig'): Promise<Event> {
  const res = await fetch(`${app.url}/events`, {
    method: 'POST',
    headers: adminHeaders,
    body: JSON.stringify({ name, date: '2027-05-01T19:30:00Z', totalTickets: 100 }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Event;
}

async function metric(app: App, name: string): Promise<number> {
  const text = await app.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

function expectApiError(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  const body = JSON.parse(answer.body.toString('utf8')) as { error: string; message: string };
  expect(body.error).toBe(code);
  expect(typeof body.message).toBe('string');
}

describe('stream quotas', () => {
  it('per address: the extra subscriber gets 429 too_many_streams with Retry-After, another address is still served', async () => {
    const app = await start({ config: { maxStreamsPerClient: 2 } });
    expect((await openStream(app, '127.0.0.2')).status).toBe(200);
    expect((await openStream(app, '127.0.0.2')).status).toBe(200);
    const extra = await openStream(app, '127.0.0.2');
    expect(extra.status).toBe(429);
    expect(extra.headers['retry-after']).toBe('1');
    expect(JSON.parse(await extra.body)).toMatchObject({ error: 'too_many_streams' });
    expect((await openStream(app, '127.0.0.3')).status).toBe(200);
    // The refused address's other requests are unaffected.
    expect((await get(app, '/events', {}, '127.0.0.2')).status).toBe(200);
  });

  it('in all: beyond --max-streams every address gets 429 too_many_streams', async () => {
    const app = await start({ config: { maxStreams: 2 } });
    expect((await openStream(app, '127.0.0.4')).status).toBe(200);
    expect((await openStream(app, '127.0.0.5')).status).toBe(200);
    const extra = await openStream(app, '127.0.0.6');
    expect(extra.status).toBe(429);
    expect(JSON.parse(await extra.body)).toMatchObject({ error: 'too_many_streams' });
  });

  it('a closed subscription gives its place back', async () => {
    const app = await start({ config: { maxStreamsPerClient: 1 } });
    expect((await openStream(app, '127.0.0.7')).status).toBe(200);
    expect((await openStream(app, '127.0.0.7')).status).toBe(429);
    for (const c of cleanups.splice(0)) c();
    await expect.poll(() => metric(app, 'boxoffice_streams_open')).toBe(0);
    expect((await openStream(app, '127.0.0.7')).status).toBe(200);
  });
});

describe('HEAD /events/stream', () => {
  it('answers 200 with the stream headers and no body', async () => {
    const app = await start();
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: app.port, path: '/events/stream', method: 'HEAD', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.once('error', reject);
      req.end();
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(answer.body.length).toBe(0);
  });
});

/** A store whose "outside changes" (another node's commits) the test makes happen. */
class WatchedStore extends MemoryStore {
  outsideChange: () => void = () => {};
  watchExternalChanges(listener: () => void): () => void {
    this.outsideChange = listener;
    return () => {};
  }
}

/**
 * Subscribers that never read. Loopback absorbs a few MB per socket in kernel buffers before the
 * server's own queue grows, so the list here is ~7 MB (16,000 events), more than that.
 */
describe('subscribers that stop reading', () => {
  const CAP = 256 * 1024;
  let app: App;
  let store: WatchedStore;
  let listBytes = 0;
  beforeAll(async () => {
    store = new WatchedStore();
    app = await startApp({ store, config: { streamBufferBytes: CAP, streamIdleTimeoutMs: 2000 } });
    for (let i = 0; i < 16_000; i += 1000) {
      await Promise.all(
        Array.from({ length: 1000 }, (_, j) =>
          app.service.createEvent({ name: `Event ${i + j} `.padEnd(200, 'x'), date: '2027-01-01T20:00:00Z', totalTickets: 100 }),
        ),
      );
    }
    listBytes = Buffer.byteLength(await app.service.listEventsJson());
    expect(listBytes).toBeGreaterThan(6_000_000);
  }, 60_000);
  afterAll(async () => app.close());

  /** A raw socket that asks for the stream and never reads a byte; with the server's end of it. */
  async function neverReading(): Promise<{ server: Socket; maxUnread: () => number }> {
    // Listening before connecting: the server may see the connection before the client does.
    const accepted: Socket[] = [];
    const onConnection = (s: Socket): void => void accepted.push(s);
    app.app.server.on('connection', onConnection);
    const client = connect({ host: '127.0.0.1', port: app.port });
    cleanups.push(() => client.destroy());
    client.pause();
    await new Promise<void>((r) => client.once('connect', () => r()));
    await expect.poll(() => accepted.some((s) => s.remotePort === client.localPort)).toBe(true);
    app.app.server.off('connection', onConnection);
    const server = accepted.find((s) => s.remotePort === client.localPort)!;
    // The server's queue for this subscriber, sampled after every write the server makes to it.
    let max = 0;
    const write = server.write.bind(server) as (...args: unknown[]) => boolean;
    (server as unknown as { write: (...args: unknown[]) => boolean }).write = (...args) => {
      const ok = write(...args);
      max = Math.max(max, server.writableLength);
      return ok;
    };
    client.write('GET /events/stream HTTP/1.1\r\nHost: x\r\n\r\n');
    return { server, maxUnread: () => max };
  }

  const dropped = async (reason: string) => {
    const text = await app.metrics.registry.metrics();
    return Number(new RegExp(`boxoffice_streams_dropped_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it('is dropped instead of being sent a second snapshot it has no room for; it never holds more than one', async () => {
    const reader = await neverReading();
    const closed = new Promise<void>((r) => reader.server.once('close', () => r()));
    // Its snapshot has started; it is more than the kernel takes, so most of it stays unread, over the cap.
    await expect.poll(() => reader.server.bytesWritten, { timeout: 10_000 }).toBeGreaterThan(CAP);
    // Another node changed something: every subscriber is due a fresh snapshot.
    store.outsideChange();
    await closed;
    expect(await dropped('slow_reader')).toBe(1);
    // Framing aside, never more than the one snapshot (shared with every other subscriber) plus the cap.
    expect(reader.maxUnread()).toBeLessThanOrEqual(listBytes + CAP + 1024);
    await expect.poll(() => metric(app, 'boxoffice_streams_open')).toBe(0);
  }, 30_000);

  it('whose snapshot stays unread is dropped after the idle timeout', async () => {
    const reader = await neverReading();
    await expect.poll(() => reader.server.bytesWritten, { timeout: 10_000 }).toBeGreaterThan(CAP);
    // No change happens: only the idle clock can end it.
    await new Promise<void>((r) => reader.server.once('close', () => r()));
    expect(await dropped('idle')).toBe(1);
    expect(reader.maxUnread()).toBeLessThanOrEqual(listBytes + 1024);
  }, 30_000);
});

describe('GET /events', () => {
  it('carries an ETag; If-None-Match with it answers 304 until something changes', async () => {
    const app = await start();
    const event = await createEvent(app);
    const first = await get(app, '/events');
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await get(app, '/events', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const booked = await fetch(`${app.url}/events/${event.id}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tickets: 1 }),
    });
    expect(booked.status).toBe(201);
    const changed = await get(app, '/events', { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect((JSON.parse(changed.body.toString()) as Event[])[0]!.availableTickets).toBe(99);
  });

  it('pages with ?offset=&limit=, X-Total-Count and Link rel="next"', async () => {
    const app = await start();
    for (let i = 0; i < 5; i++) await createEvent(app, `Gig ${i}`);
    const all = JSON.parse((await get(app, '/events')).body.toString()) as Event[];
    const first = await get(app, '/events?offset=0&limit=2');
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body.toString())).toEqual(all.slice(0, 2));
    expect(first.headers['x-total-count']).toBe('5');
    expect(first.headers.link).toBe('</events?offset=2&limit=2>; rel="next"');
    const last = await get(app, '/events?offset=4&limit=2');
    expect(JSON.parse(last.body.toString())).toEqual(all.slice(4));
    expect(last.headers.link).toBeUndefined();
    expect(JSON.parse((await get(app, '/events?limit=3')).body.toString())).toEqual(all.slice(0, 3));
    expect(JSON.parse((await get(app, '/events?offset=9')).body.toString())).toEqual([]);
  });

  it.each(['offset=-1', 'offset=1.5', 'offset=abc', 'limit=0', 'limit=1001', 'limit=', 'offset=1&offset=2'])('answers 400 invalid_request to ?%s', async (query) => {
    const app = await start();
    expectApiError(await get(app, `/events?${query}`), 400, 'invalid_request');
  });

  it('without parameters still answers the whole list (the original protocol)', async () => {
    const app = await start();
    for (let i = 0; i < 3; i++) await createEvent(app, `Gig ${i}`);
    const answer = await get(app, '/events');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(answer.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(answer.body.toString())).toEqual(await app.service.listEvents());
  });

  it('is gzipped when the client accepts it, and decodes to the same JSON', async () => {
    const app = await start();
    for (let i = 0; i < 50; i++) await createEvent(app, `Gig ${i}`);
    const plain = await get(app, '/events');
    const zipped = await get(app, '/events', { 'accept-encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toMatch(/accept-encoding/i);
    expect(zipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    expect((await get(app, '/events', { 'accept-encoding': 'gzip;q=0' })).headers['content-encoding']).toBeUndefined();
  });

  it('the list is encoded once per change, however many subscribers and readers', async () => {
    const app = await start();
    const event = await createEvent(app);
    const before = await metric(app, 'boxoffice_stream_snapshot_encodes_total');
    const subscribers = await Promise.all(Array.from({ length: 5 }, () => openStream(app, '127.0.0.1')));
    for (const s of subscribers) expect(s.status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await get(app, '/events')).status).toBe(200);
    expect(await metric(app, 'boxoffice_stream_snapshot_encodes_total')).toBe(before + 1);
    const booked = await fetch(`${app.url}/events/${event.id}/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tickets: 1 }),
    });
    expect(booked.status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await get(app, '/events', { 'accept-encoding': 'gzip' })).status).toBe(200);
    await Promise.all(Array.from({ length: 5 }, () => openStream(app, '127.0.0.1')));
    expect(await metric(app, 'boxoffice_stream_snapshot_encodes_total')).toBe(before + 2);
  });
});
