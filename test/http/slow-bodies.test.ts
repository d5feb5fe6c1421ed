import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { metricsHeaders, startApp } from '../helpers/app.js';
import { createEventVia } from '../helpers/load.js';
import { bookingBytes, header, rawRequest, type RawExchange } from '../helpers/raw-http.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 15, item 7: slow bodies are not a cheap way to fill the server. A request takes its
 * admission slot once its body has arrived; while a body trickles in it holds one of its address's
 * few upload places, and the request deadline ends it with a 408.
 */
describe('slow bodies cannot fill the server', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>>;
  let eventId: string;
  beforeAll(async () => {
    server = await startApp({
      store: new SqliteStore(`${tmp.dir}/slow-bodies.db`),
      // Small numbers the test can reach: 3 attacking addresses × 10 bodies would hold all 16 slots before.
      config: { maxInFlight: 16, maxInFlightPerClient: 16, maxUploadsPerClient: 4, headersTimeoutMs: 2000, requestTimeoutMs: 2000 },
    });
    eventId = await createEventVia(server.url, 1000);
  });
  afterAll(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('3 addresses × 10 bodies at a byte every 400 ms: each address keeps 4 uploads, the rest get 429 at once, the 4 get 408', async () => {
    const attack: RawExchange[] = [];
    for (const from of ['127.0.0.21', '127.0.0.22', '127.0.0.23']) {
      for (let i = 0; i < 10; i++) attack.push(rawRequest(server.port, bookingBytes(eventId, false), from));
    }
    const body = '{"tickets":1}';
    let sent = 0;
    const trickle = setInterval(() => {
      for (const a of attack) if (!a.socket.destroyed && a.socket.writable) a.socket.write(body[sent % body.length]!);
      sent++;
    }, 400);
    const started = Date.now();
    try {
      const statuses = await Promise.all(attack.map((a) => a.answer.then((r) => r.status, () => 0)));
      // 6 of each address's 10 were refused at once; the other 4 ran into the 2 s request deadline.
      expect(statuses.filter((s) => s === 429)).toHaveLength(18);
      expect(statuses.filter((s) => s === 408)).toHaveLength(12);
      const answers = await Promise.all(attack.map((a) => a.answer));
      for (const a of answers) expect(JSON.parse(a.body)).toMatchObject({ error: a.status === 429 ? 'too_many_requests' : 'request_timeout' });
      for (const a of answers.filter((a) => a.status === 429)) expect(header(a.head, 'retry-after')).toBe('1');
    } finally {
      clearInterval(trickle);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: metricsHeaders })).text();
    expect(metrics).toMatch(/boxoffice_http_refused_total\{reason="upload_limit"\} 18/);
    expect(server.inFlight()).toBe(0);
  });

  it('while the slow bodies hold their uploads, a buyer on another address is served every time', async () => {
    const attack: RawExchange[] = [];
    for (const from of ['127.0.0.24', '127.0.0.25', '127.0.0.26']) {
      for (let i = 0; i < 10; i++) attack.push(rawRequest(server.port, bookingBytes(eventId, false), from));
    }
    await new Promise((r) => setTimeout(r, 200));
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const buyer = rawRequest(server.port, bookingBytes(eventId), '127.0.0.3');
      statuses.push((await buyer.answer).status);
      buyer.socket.destroy();
    }
    expect(statuses).toEqual(Array(10).fill(201));
    for (const a of attack) a.socket.destroy();
  });

  it('a slow body that does arrive in time is booked, and its upload place is given back', async () => {
    const from = '127.0.0.27';
    const first = rawRequest(server.port, bookingBytes(eventId, false), from);
    await new Promise((r) => setTimeout(r, 300));
    first.socket.write('{"tickets":1}');
    expect((await first.answer).status).toBe(201);
    first.socket.destroy();
    // All four places are free again: four more slow uploads from the same address are accepted.
    const next = Array.from({ length: 4 }, () => rawRequest(server.port, bookingBytes(eventId, false), from));
    await new Promise((r) => setTimeout(r, 300));
    for (const n of next) n.socket.write('{"tickets":1}');
    expect(await Promise.all(next.map((n) => n.answer.then((a) => a.status)))).toEqual([201, 201, 201, 201]);
    for (const n of next) n.socket.destroy();
  });
});
