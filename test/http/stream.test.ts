/**
 * GET /events/stream over real sockets: the snapshot on connect, a message per committed change
 * (coalesced), a fresh snapshot when another process changed the data, 1,000 idle subscribers that
 * cost bookings nothing and never count against the in-flight limit, and a clean shutdown.
 */
import { request, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readEventStream } from '../../src/client/event-stream.js';
import type { Event, EventStreamMessage } from '../../src/client/types.js';
import { TicketService } from '../../src/core/ticket-service.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { adminHeaders, startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';

type App = Awaited<ReturnType<typeof startApp>>;
const apps: App[] = [];
const streams: Stream[] = [];

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const app of apps.splice(0)) await app.close();
});

async function start(options: Parameters<typeof startApp>[0] = {}): Promise<App> {
  const app = await startApp(options);
  apps.push(app);
  return app;
}

interface Stream {
  res: IncomingMessage;
  messages: EventStreamMessage[];
  /** Resolves with the first message (from index `from` on) that matches, or rejects after `timeoutMs`. */
  next(predicate: (m: EventStreamMessage) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<EventStreamMessage>;
  ended: Promise<void>;
  close(): void;
}

/** Opens the stream on its own connection and collects every message. */
function openStream(url: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/events/stream`, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      const messages: EventStreamMessage[] = [];
      const waiters = new Set<() => void>();
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      void (async () => {
        try {
          for await (const data of readEventStream(res)) {
            messages.push(JSON.parse(data) as EventStreamMessage);
            for (const w of waiters) w();
          }
        } catch {
          // destroyed by close()
        }
        endedResolve();
      })();
      const stream: Stream = {
        res,
        messages,
        ended,
        close: () => req.destroy(),
        next: (predicate, options = {}) =>
          new Promise((done, fail) => {
            const from = options.from ?? 0;
            const check = () => {
              const hit = messages.slice(from).find(predicate);
              if (hit) {
                waiters.delete(check);
                clearTimeout(timer);
                done(hit);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`no matching stream message within ${options.timeoutMs ?? 5_000} ms; got ${JSON.stringify(messages)}`));
            }, options.timeoutMs ?? 5_000);
            waiters.add(check);
            check();
          }),
      };
      streams.push(stream);
      resolve(stream);
    });
    req.once('error', reject);
    req.end();
  });
}

async function createEvent(app: App, body: Partial<Event> = {}): Promise<Event> {
  const res = await fetch(`${app.url}/events`, {
    method: 'POST',
    headers: adminHeaders,
    body: JSON.stringify({ name: 'Gig', date: '2027-05-01T19:30:00Z', totalTickets: 100, ...body }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Event;
}

async function book(app: App, eventId: string, tickets: number): Promise<number> {
  const res = await fetch(`${app.url}/events/${eventId}/bookings`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tickets }),
  });
  await res.arrayBuffer();
  return res.status;
}

const isSnapshot = (m: EventStreamMessage): m is Extract<EventStreamMessage, { type: 'snapshot' }> => m.type === 'snapshot';
const availabilityOf = (m: EventStreamMessage, id: string) =>
  m.type === 'changes' ? m.availability.find((a) => a.id === id)?.availableTickets : m.type === 'snapshot' ? m.events.find((e) => e.id === id)?.availableTickets : undefined;

describe('GET /events/stream', () => {
  it('answers text/event-stream and starts with a snapshot of the list', async () => {
    const app = await start();
    const a = await createEvent(app, { name: 'Later', date: '2028-01-01T00:00:00Z' });
    const b = await createEvent(app, { name: 'Sooner', date: '2027-01-01T00:00:00Z' });
    const stream = await openStream(app.url);
    expect(stream.res.statusCode).toBe(200);
    expect(stream.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.res.headers['cache-control']).toMatch(/no-cache/);
    const first = await stream.next(() => true);
    expect(first.type).toBe('snapshot');
    expect(isSnapshot(first) && first.events.map((e) => e.id)).toEqual([b.id, a.id]);
    // The same body as GET /events.
    const list = await (await fetch(`${app.url}/events`)).json();
    expect(isSnapshot(first) && first.events).toEqual(list);
  });

  it('a booking produces a message with the new availability within 1 s', async () => {
    const app = await start();
    const event = await createEvent(app, { totalTickets: 10 });
    const stream = await openStream(app.url);
    await stream.next(isSnapshot);
    const from = stream.messages.length;
    expect(await book(app, event.id, 3)).toBe(201);
    const booked = Date.now();
    const message = await stream.next((m) => availabilityOf(m, event.id) !== undefined, { from, timeoutMs: 5_000 });
    expect(Date.now() - booked).toBeLessThanOrEqual(1_000);
    expect(message).toEqual({ type: 'changes', created: [], availability: [{ id: event.id, availableTickets: 7, heldTickets: 0 }] });
  });

  it('an HTTP/1.0 reader gets the same messages unframed (its body ends with the connection), HTTP/1.1 as chunks', async () => {
    const app = await start();
    const event = await createEvent(app, { totalTickets: 10 });
    const { hostname, port } = new URL(app.url);
    const raw = (version: string) =>
      new Promise<{ socket: Socket; text: () => string }>((resolve) => {
        let text = '';
        const socket = connect(Number(port), hostname, () => {
          socket.write(`GET /events/stream HTTP/${version}\r\nHost: ${hostname}\r\n\r\n`);
          resolve({ socket, text: () => text });
        });
        socket.on('data', (chunk) => (text += chunk.toString()));
      });
    const [old, current] = await Promise.all([raw('1.0'), raw('1.1')]);
    await expect.poll(() => old.text().includes('"type":"snapshot"') && current.text().includes('"type":"snapshot"')).toBe(true);
    expect(await book(app, event.id, 3)).toBe(201);
    const message = `data: ${JSON.stringify({ type: 'changes', created: [], availability: [{ id: event.id, availableTickets: 7, heldTickets: 0 }] })}\n\n`;
    await expect.poll(() => old.text().includes(message) && current.text().includes(message), { timeout: 5_000 }).toBe(true);
    expect(old.text()).not.toMatch(/transfer-encoding/i);
    expect(old.text().split('\r\n\r\n')[1]).toMatch(/^retry: 1000\n\n/);
    expect(current.text()).toMatch(/transfer-encoding: chunked/i);
    expect(current.text()).toContain(`${Buffer.byteLength(message).toString(16)}\r\n${message}\r\n`);
    old.socket.destroy();
    current.socket.destroy();
  });

  it('announces a new event with all its fields', async () => {
    const app = await start();
    const stream = await openStream(app.url);
    await stream.next(isSnapshot);
    const event = await createEvent(app, { name: 'Fresh', totalTickets: 5 });
    const message = await stream.next((m) => m.type === 'changes' && m.created.length > 0);
    expect(message.type === 'changes' && message.created).toEqual([event]);
  });

  it('coalesces a burst of bookings into a few messages carrying the latest availability', async () => {
    const app = await start();
    const event = await createEvent(app, { totalTickets: 1_000 });
    const other = await createEvent(app, { totalTickets: 1_000 });
    const stream = await openStream(app.url);
    await stream.next(isSnapshot);
    const from = stream.messages.length;
    const statuses = await Promise.all(
      Array.from({ length: 60 }, (_, i) => book(app, i % 2 === 0 ? event.id : other.id, 2)),
    );
    expect(statuses.every((s) => s === 201)).toBe(true);
    await stream.next((m) => availabilityOf(m, event.id) === 940, { from });
    await stream.next((m) => availabilityOf(m, other.id) === 940, { from });
    const changes = stream.messages.slice(from);
    // 60 commits, far fewer messages; each message lists an event at most once.
    expect(changes.length).toBeLessThan(60);
    for (const m of changes) {
      expect(m.type).toBe('changes');
      if (m.type !== 'changes') continue;
      const ids = m.availability.map((a) => a.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    // Availability only ever goes down along the stream.
    const seen = changes.map((m) => availabilityOf(m, event.id)).filter((n): n is number => n !== undefined);
    expect([...seen].sort((x, y) => y - x)).toEqual(seen);
  });

  it('never replays a stale event to a later subscriber (changes made while nobody listened)', async () => {
    const app = await start();
    const first = await openStream(app.url);
    await first.next(isSnapshot);
    const event = await createEvent(app, { totalTickets: 1 });
    // The only subscriber leaves before the flush; the booking happens with nobody listening.
    const connections = () => new Promise<number>((r) => app.app.server.getConnections((_e, n) => r(n)));
    const before = await connections();
    first.close();
    await expect.poll(connections).toBe(before - 1);
    expect(await book(app, event.id, 1)).toBe(201);
    const second = await openStream(app.url);
    await second.next(isSnapshot);
    // Instead of waiting a while for a stale replay: a marker made now goes out after anything
    // still pending, so once it has arrived, whatever was going to be replayed has been.
    const marker = await createEvent(app, { name: 'Marker' });
    await second.next((m) => m.type === 'changes' && m.created.some((e) => e.id === marker.id));
    // Replaying everything the late subscriber got must end at 0 left.
    const seen = new Map<string, number>();
    for (const m of second.messages) {
      if (m.type === 'snapshot') for (const e of m.events) seen.set(e.id, e.availableTickets);
      else if (m.type === 'changes') {
        for (const e of m.created) seen.set(e.id, e.availableTickets);
        for (const a of m.availability) seen.set(a.id, a.availableTickets);
      }
    }
    expect(seen.get(event.id)).toBe(0);
  });

  it('sends a fresh snapshot when another process changed the data', async () => {
    const tmp = tempDir('boxoffice-stream-');
    try {
      const path = join(tmp.dir, 'boxoffice.db');
      const app = await start({ store: new SqliteStore(path) });
      const event = await createEvent(app, { totalTickets: 50 });
      const stream = await openStream(app.url);
      await stream.next(isSnapshot);
      const from = stream.messages.length;
      // A second process on the same file: the first only learns of it as an outside change.
      const neighbour = new TicketService(new SqliteStore(path));
      try {
        await neighbour.book(event.id, 5).then((p) => p.value);
      } finally {
        await neighbour.close();
      }
      const snapshot = await stream.next(isSnapshot, { from });
      expect(availabilityOf(snapshot, event.id)).toBe(45);
    } finally {
      for (const app of apps.splice(0)) await app.close();
      tmp.cleanup();
    }
  });

  it('1,000 idle subscribers: not counted as in-flight, every one hears the bookings, bookings still work', async () => {
    // A limit far below the number of subscribers: if they counted, every booking would be a 429.
    const app = await start({ config: { maxInFlight: 8 } });
    const event = await createEvent(app, { totalTickets: 500 });
    const subscribers: Stream[] = [];
    for (let i = 0; i < 1_000; i += 100) {
      subscribers.push(...(await Promise.all(Array.from({ length: 100 }, () => openStream(app.url)))));
    }
    await Promise.all(subscribers.map((s) => s.next(isSnapshot, { timeoutMs: 30_000 })));
    expect(app.inFlight()).toBe(0);

    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push(await book(app, event.id, 5));
    expect(statuses).toEqual(Array(20).fill(201));
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
    await Promise.all(subscribers.map((s) => s.next((m) => availabilityOf(m, event.id) === 400, { timeoutMs: 30_000 })));
    for (const s of subscribers) s.close();
  });

  it('ends every subscription when the server closes, and refuses new ones while shutting down', async () => {
    const app = await start();
    const stream = await openStream(app.url);
    await stream.next(isSnapshot);
    app.beginShutdown();
    const refused = await fetch(`${app.url}/events/stream`);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toBe('shutting_down');
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    await stream.ended;
  });
});

describe('GET /events/stream and check-in (issue 14)', () => {
  it('a ticket admitted at the door is streamed as the event checkedInTickets, beside sales', async () => {
    const app = await start();
    const event = await createEvent(app, { totalTickets: 5 });
    const res = await fetch(`${app.url}/events/${event.id}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickets: 2 }) });
    const booking = (await res.json()) as { tickets: Array<{ code: string }> };
    const door = (await (await fetch(`${app.url}/events/${event.id}/doors`, { method: 'POST', headers: adminHeaders, body: JSON.stringify({ name: 'Main door' }) })).json()) as { token: string };
    const stream = await openStream(app.url);
    const snapshot = await stream.next(isSnapshot);
    expect(isSnapshot(snapshot) && snapshot.events.find((e) => e.id === event.id)).toMatchObject({ checkedInTickets: 0 });
    const from = stream.messages.length;
    const scan = await fetch(`${app.url}/events/${event.id}/checkins`, {
      method: 'POST',
      headers: { authorization: `Bearer ${door.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ code: booking.tickets[0]!.code, nonce: 'stream-test-nonce-01' }),
    });
    expect(scan.status).toBe(200);
    const change = await stream.next((m) => m.type === 'changes' && m.availability.some((a) => a.id === event.id), { from });
    expect(change.type === 'changes' && change.availability.find((a) => a.id === event.id)).toEqual({ id: event.id, availableTickets: 3, heldTickets: 0, checkedInTickets: 1 });
    expect(((await (await fetch(`${app.url}/events/${event.id}`)).json()) as Event).checkedInTickets).toBe(1);
  });
});
