import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { adminHeaders, startApp } from '../helpers/app.js';
import { poolFrom } from '../helpers/load.js';
import { tempDir } from '../helpers/tmp.js';

const ATTACKER = '127.0.0.2';
const BUYER = '127.0.0.3';

/** A slowloris connection: it sends a request's header one byte at a time and never finishes. */
function slowHeaders(port: number): { socket: Socket; closed: Promise<void> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress: ATTACKER });
  socket.on('error', () => {});
  const header = 'POST /reserve?eventId=x&tickets=1 HTTP/1.1\r\nHost: boxoffice\r\nX-Padding: ';
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(header[i % header.length]!);
    i++;
  }, 200);
  const closed = new Promise<void>((resolve) => socket.once('close', () => (clearInterval(timer), resolve())));
  return { socket, closed };
}

describe('slow clients (slowloris) cannot stop others from booking', () => {
  const tmp = tempDir();
  let server: Awaited<ReturnType<typeof startApp>>;
  let eventId: string;

  beforeAll(async () => {
    server = await startApp({
      store: new SqliteStore(`${tmp.dir}/slow.db`),
      // Small numbers so the test can reach them: 300 sockets in all, 100 per address, 5 s for headers.
      config: { maxConnections: 300, maxConnectionsPerClient: 100, headersTimeoutMs: 5000 },
    });
    const res = await fetch(`${server.url}/events`, {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify({ name: 'Under attack', date: '2027-01-01T20:00:00Z', totalTickets: 1000 }),
    });
    eventId = ((await res.json()) as { id: string }).id;
  });
  afterAll(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('300 dribbling connections from one address: it keeps at most 100, a buyer elsewhere books throughout, and the rest are cut off after the headers timeout', async () => {
    const attack = Array.from({ length: 300 }, () => slowHeaders(server.port));
    const started = Date.now();
    // Sockets over the per-address cap are closed at once, long before any timeout could.
    await expect.poll(() => attack.filter((a) => a.socket.destroyed).length, { timeout: 2500 }).toBeGreaterThanOrEqual(200);
    const alive = () => attack.filter((a) => !a.socket.destroyed).length;

    const buyer = poolFrom(server.url, BUYER, 4);
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await buyer.request({ method: 'POST', path: `/reserve?eventId=${eventId}&tickets=1` });
      await res.body.dump();
      statuses.push(res.statusCode);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    // The buyer was served while the attack still held its sockets.
    if (Date.now() - started < 4500) expect(alive()).toBeGreaterThan(50);

    // The server reclaims the survivors once their headers are overdue.
    await Promise.race([Promise.all(attack.map((a) => a.closed)), new Promise((r) => setTimeout(r, 15_000))]);
    expect(attack.filter((a) => !a.socket.destroyed && !a.socket.closed)).toHaveLength(0);
    await buyer.close();
    expect(await server.store.countTickets(eventId)).toBe(20);
  });
});
