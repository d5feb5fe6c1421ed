import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, metricsHeaders, startApp } from '../helpers/app.js';

/**
 * Issue 15, item 1: a pipelined request whose socket dies before its reply was written must give
 * its admission slot back. Before the fix the slot was freed only on the reply's 'close', which
 * never fires for a reply still queued behind an earlier one on a dead socket.
 */
function pipelineAndDie(port: number, eventId: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const get = `GET /events/${eventId} HTTP/1.1\r\nHost: x\r\n\r\n`;
    const noop = 'POST /noop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';
    socket.on('connect', () => {
      socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n${get}${noop}${get}${noop}`);
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('admission slots are freed exactly once', () => {
  let server: Awaited<ReturnType<typeof startApp>>;
  let eventId: string;
  beforeAll(async () => {
    server = await startApp({ config: { maxInFlight: 64, maxInFlightPerClient: 64 } });
    const res = await request(`${server.url}/events`, {
      method: 'POST',
      headers: adminHeaders,
      body: JSON.stringify({ name: 'Leak', date: '2027-01-01T20:00:00Z', totalTickets: 10 }),
    });
    eventId = ((await res.body.json()) as { id: string }).id;
  });
  afterAll(async () => server.close());

  it('pipelined requests on sockets that die: the in-flight count returns to 0 and buyers are served', async () => {
    for (let round = 0; round < 8; round++) {
      await Promise.all(Array.from({ length: 40 }, () => pipelineAndDie(server.port, eventId)));
    }
    await waitFor(() => server.inFlight() === 0);
    const metrics = await (await request(`${server.url}/metrics`, { headers: metricsHeaders })).body.text();
    expect(metrics).toMatch(/^boxoffice_http_requests_in_flight 0$/m);
    const ready = await request(`${server.url}/readyz`);
    expect(ready.statusCode).toBe(200);
    expect(await ready.body.json()).toMatchObject({ status: 'ready', inFlight: 0 });
    const booked = await request(`${server.url}/reserve?eventId=${eventId}&tickets=1`, { method: 'POST' });
    expect(booked.statusCode).toBe(200);
  });
});
