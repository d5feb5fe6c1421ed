import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { metricsHeaders, startApp } from '../helpers/app.js';
import { createEventVia } from '../helpers/load.js';
import { bookingBytes, header, rawRequest, type RawAnswer } from '../helpers/raw-http.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Issue 15, item 2: a busy client gets an HTTP answer, never a reset. Buyers share addresses
 * (offices, NAT), so a socket beyond the per-address allowance is answered 429 with Retry-After and
 * Connection: close; before, it was destroyed unread, which clients take for a network fault.
 */
describe('a busy client gets an HTTP answer, never a reset', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function expectRefusal(answer: RawAnswer): void {
    expect(answer.status).toBe(429);
    expect(header(answer.head, 'retry-after')).toBe('1');
    expect(header(answer.head, 'connection')).toMatch(/close/i);
    expect(JSON.parse(answer.body)).toEqual({ error: 'too_many_requests', message: expect.any(String) });
  }

  it('1,000 concurrent bookings from one address (default 256 sockets per address): every one is 201 or 429, no reset', async () => {
    server = await startApp({ store: new SqliteStore(`${tmp.dir}/busy.db`), config: { maxConnectionsPerClient: 256 } });
    const eventId = await createEventVia(server.url, 100_000);
    const exchanges = Array.from({ length: 1000 }, () => rawRequest(server!.port, bookingBytes(eventId), '127.0.0.6'));
    const outcomes = await Promise.all(exchanges.map((e) => e.answer.then((a) => a, (err: Error) => err.message)));
    for (const e of exchanges) e.socket.destroy();

    const failures = outcomes.filter((o): o is string => typeof o === 'string');
    expect(failures).toEqual([]);
    const answers = outcomes as RawAnswer[];
    for (const a of answers) expect([201, 429]).toContain(a.status);
    for (const a of answers.filter((a) => a.status === 429)) expectRefusal(a);
    const booked = answers.filter((a) => a.status === 201).length;
    expect(booked).toBeGreaterThan(0);
    expect(await server.store.countTickets(eventId)).toBe(booked);
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: metricsHeaders })).text();
    expect(metrics).toMatch(/boxoffice_http_refused_total\{reason="connection_limit"\} [1-9]/);
  });

  it('beyond --max-connections for the whole server, a socket is answered 429 too', async () => {
    server = await startApp({ config: { maxConnections: 20 } });
    const idle = Array.from({ length: 20 }, () => rawRequest(server!.port, ''));
    await Promise.all(idle.map((e) => new Promise((r) => e.socket.once('connect', r))));
    await new Promise((r) => setTimeout(r, 100));
    const late = rawRequest(server.port, 'GET /events HTTP/1.1\r\nHost: boxoffice\r\n\r\n');
    expectRefusal(await late.answer);
    expect(await late.closed).toBeUndefined();
    for (const e of idle) e.socket.destroy();
  });

  it('a socket beyond the allowance that dribbles its headers is answered 429 and closed within about a second', async () => {
    server = await startApp({ config: { maxConnectionsPerClient: 2 } });
    const held = [rawRequest(server.port, '', '127.0.0.7'), rawRequest(server.port, '', '127.0.0.7')];
    await Promise.all(held.map((e) => new Promise((r) => e.socket.once('connect', r))));
    const slow = rawRequest(server.port, 'POST /reserve HTTP/1.1\r\nHost: boxoffice\r\nX-Slow: ', '127.0.0.7');
    const started = Date.now();
    expectRefusal(await slow.answer);
    await slow.closed;
    // Well before the 10 s headers timeout that would otherwise be its end.
    expect(Date.now() - started).toBeLessThan(5000);
    // Another address is not affected by 127.0.0.7's sockets.
    const other = rawRequest(server.port, 'GET /healthz HTTP/1.1\r\nHost: boxoffice\r\n\r\n', '127.0.0.8');
    expect((await other.answer).status).toBe(200);
    for (const e of [...held, other]) e.socket.destroy();
  });
});
