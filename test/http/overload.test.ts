import { connect, type Socket } from 'node:net';
import { Pool, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WriteBatch } from '../../src/core/commands.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { adminHeaders, metricsHeaders, startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';

interface RawClient {
  socket: Socket;
  /** Resolves with the status and headers of the first response on this socket. */
  response: Promise<{ status: number; head: string; body: string }>;
}

/** Opens a socket and sends a booking; with `withBody: false` only its headers, holding the body back. */
function booking(port: number, eventId: string, withBody = true): RawClient {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const body = '{"tickets":1}';
  socket.write(
    `POST /events/${eventId}/bookings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${withBody ? body : ''}`,
  );
  const response = new Promise<{ status: number; head: string; body: string }>((resolve, reject) => {
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = data.slice(0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (data.length - end - 4 < length) return;
      resolve({ status: Number(head.split(' ')[1]), head, body: data.slice(end + 4, end + 4 + length) });
    });
    socket.on('error', reject);
  });
  return { socket, response };
}

/** A SQLite store whose bookings wait until the test opens the gate: requests stay in service. */
class GatedStore extends SqliteStore {
  private opened = Promise.resolve();
  open = (): void => {};
  closeGate(): void {
    this.opened = new Promise((resolve) => (this.open = resolve));
  }
  override async write(batch: WriteBatch) {
    // Only bookings wait at the gate; creating the event does not.
    if (batch.commands.some((c) => c.type === 'book')) await this.opened;
    return super.write(batch);
  }
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('overload: bounded in-flight work', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>>;
  let store: GatedStore;
  let eventId: string;

  beforeAll(async () => {
    store = new GatedStore(`${tmp.dir}/overload.db`);
    server = await startApp({ store, config: { maxInFlight: 4, maxUploadsPerClient: 8 } });
    const res = await request(`${server.url}/events`, {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify({ name: 'Spike', date: '2027-01-01T20:00:00Z', totalTickets: 1000 }),
    });
    eventId = ((await res.body.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('with --max-inflight 4, 200 requests in slow service: 4 are served, 196 get 429 + Retry-After at once, /healthz stays up', async () => {
    store.closeGate();
    const clients: RawClient[] = [];
    for (let i = 0; i < 200; i++) clients.push(booking(server.port, eventId));
    const early = await Promise.race([
      Promise.all(clients.slice(4).map((c) => c.response)),
      settle(20_000).then(() => 'timeout' as const),
    ]);
    // The refusals came while the first four still held their slots (their bookings wait at the gate).
    expect(early).not.toBe('timeout');
    const refused = (early as Array<{ status: number; head: string; body: string }>);
    const statuses = await Promise.all(clients.map((c) => Promise.race([c.response.then((r) => r.status), settle(50).then(() => 0)])));
    expect(statuses.filter((s) => s === 429)).toHaveLength(196);
    expect(statuses.filter((s) => s === 0)).toHaveLength(4);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(r.head).toMatch(/\r\nretry-after: 1\r\n/i);
      expect(JSON.parse(r.body)).toEqual({ error: 'too_many_requests', message: expect.any(String) });
    }

    // Saturated, yet health and metrics answer.
    const health = await request(`${server.url}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    const metrics = await request(`${server.url}/metrics`, { headers: metricsHeaders });
    expect(await metrics.body.text()).toMatch(/boxoffice_http_refused_total\{reason="too_many_requests"\} 196/);

    // The four admitted requests finish normally once the store answers.
    const admitted = clients.filter((_, i) => statuses[i] === 0);
    store.open();
    const done = await Promise.all(admitted.map((c) => c.response));
    expect(done.map((d) => d.status)).toEqual([201, 201, 201, 201]);
    for (const c of clients) c.socket.destroy();

    // Slots are released: the server takes new work again.
    await settle(50);
    const after = await request(`${server.url}/reserve?eventId=${eventId}&tickets=1`, { method: 'POST' });
    expect(after.statusCode).toBe(200);
    await after.body.dump();
    expect((await server.store.getEvent(eventId))?.availableTickets).toBe(1000 - 5);
  });

  it('a burst of 200 bookings from 200 connections gets only 2xx, 409 or 429, never a 5xx', async () => {
    const pool = new Pool(server.url, { connections: 200 });
    const results = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const res = await pool.request({ method: 'POST', path: `/reserve?eventId=${eventId}&tickets=1` });
        const body = (await res.body.json()) as unknown;
        return { status: res.statusCode, retryAfter: res.headers['retry-after'], body };
      }),
    );
    await pool.close();
    for (const r of results) {
      expect([200, 429]).toContain(r.status);
      if (r.status === 429) expect(r.retryAfter).toBe('1');
    }
    const ok = results.filter((r) => r.status === 200).length;
    expect(await server.store.countTickets(eventId)).toBe(5 + ok);
    expect((await server.store.getEvent(eventId))?.availableTickets).toBe(1000 - 5 - ok);
  });
});
