/**
 * The buyer's app against a real server in this process: connect, browse, book, live updates, the
 * server's refusals in its own words, retries on 429, and an unreachable server.
 */
import { vi } from 'vitest';

vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

import { createServer } from 'node:http';
import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import type { Event } from '../../src/client/types.js';
import { ClientApp } from '../../src/tui/client-app.js';
import { LogTail } from '../../src/tui/log-tail.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';
import { freePort } from '../helpers/server-process.js';
import { frame, KEYS, plain, press, renderUi } from './helpers.js';

afterEach(cleanup);

let server: Awaited<ReturnType<typeof startApp>>;
const admin = () => new BoxofficeClient({ baseUrl: server.url, adminToken: ADMIN_TOKEN });
beforeAll(async () => {
  server = await startApp();
});
afterAll(() => server.close());

function app(options: { client?: BoxofficeClient; connectTimeoutMs?: number; onExit?: (r: { code: number; message?: string }) => void } = {}) {
  const tail = new LogTail();
  const logger = pino({ level: 'info' }, tail);
  const client = options.client ?? new BoxofficeClient({ baseUrl: server.url });
  const r = renderUi(<ClientApp client={client} logger={logger} tail={tail} connectTimeoutMs={options.connectTimeoutMs} onExit={options.onExit} />);
  return { r, tail };
}

/** The list row of an event (not the filter line that may spell its name). */
const rowOf = (f: string, name: string) => f.split('\n').find((line) => /^[› ] /.test(line) && line.includes(name)) ?? '';
const statusLine = (f: string) => f.split('\n').at(-2) ?? '';

async function openEvents(r: ReturnType<typeof app>['r']) {
  await frame(r, '› Events');
  press(r, KEYS.enter);
  await frame(r, 'type to filter');
}

async function pick(r: ReturnType<typeof app>['r'], name: string) {
  press(r, ...name);
  await frame(r, `› ${name}`);
  press(r, KEYS.enter);
  await frame(r, 'How many tickets?');
}

describe('ClientApp', () => {
  it('connects with a progress bar, then shows the main menu', async () => {
    const { r } = app();
    const menu = await frame(r, 'Main menu');
    expect(menu).toMatch(/› Events/);
    expect(menu).toMatch(/ {2}Logs/);
    expect(menu).toMatch(/ {2}Quit/);
    expect(menu.split('\n')[0]).toMatch(/boxoffice · buyer.*● live$/);
    // The progress bar came first.
    expect(r.frames.map(plain).some((f) => /Connecting to http:\/\/127\.0\.0\.1:\d+…/.test(f) && f.includes('%'))).toBe(true);
  });

  it('books: pick the event, choose 2, Enter → green status, the list drops by 2, ticket ids in Logs', async () => {
    const event = await admin().createEvent({ name: 'Booking Test', date: '2027-04-01T19:00:00Z', totalTickets: 10 });
    const { r } = app();
    await openEvents(r);
    expect(rowOf(await frame(r, 'Booking Test'), 'Booking Test')).toMatch(/10 \/ 10$/);
    await pick(r, 'Booking Test');
    press(r, KEYS.up);
    await frame(r, /◀\s+2\s+▶/);
    press(r, KEYS.enter);
    const after = await frame(r, (f) => /8 \/ 10$/m.test(rowOf(f, 'Booking Test')) && f.includes('Booked'));
    expect(statusLine(after)).toBe('✔ Booked 2 tickets for Booking Test · ticket ids in Logs');
    const raw = await frame(r, 'Booked 2 tickets', { raw: true });
    expect(raw).toContain('\u001B[32m✔ Booked 2 tickets for Booking Test');
    expect((await admin().getEvent(event.id)).availableTickets).toBe(8);
    // Logs: the booking and both ticket ids.
    press(r, KEYS.escape);
    await frame(r, 'Main menu');
    press(r, KEYS.down, KEYS.enter);
    const logs = await frame(r, (f) => /Logs {2}\d+ records/.test(f) && (f.match(/ticket [0-9a-f-]{36}/g) ?? []).length === 2);
    const ids = [...logs.matchAll(/ticket ([0-9a-f-]{36})/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect((await admin().getTicket(id!)).eventId).toBe(event.id);
  });

  it('updates the list live when someone else books, and shows the server’s refusal in red', async () => {
    const event = await admin().createEvent({ name: 'Live Test', date: '2027-04-02T19:00:00Z', totalTickets: 6 });
    const { r } = app();
    await openEvents(r);
    await frame(r, 'Live Test');
    await admin().book(event.id, 4);
    await frame(r, (f) => /2 \/ 6$/.test(rowOf(f, 'Live Test')));
    await pick(r, 'Live Test');
    press(r, KEYS.end);
    await frame(r, /◀\s+2\s+▶/);
    // Someone takes the rest while we are choosing; the server has the last word.
    await admin().book(event.id, 2);
    await frame(r, 'Sold out right now');
    press(r, KEYS.enter);
    const refused = await frame(r, 'Not enough tickets');
    expect(statusLine(refused)).toBe('✘ Not enough tickets available: requested 1, 0 left');
    expect(rowOf(refused, 'Live Test')).toMatch(/SOLD OUT$/);
    expect(await frame(r, '\u001B[31m✘ Not enough tickets', { raw: true })).toBeTruthy();
  });

  it('yellow when nothing is chosen: Esc in the selector, Esc in the list, a sold-out pick', async () => {
    const soldOut = await admin().createEvent({ name: 'Gone Show', date: '2027-04-03T19:00:00Z', totalTickets: 1 });
    await admin().book(soldOut.id, 1);
    await admin().createEvent({ name: 'Open Show', date: '2027-04-04T19:00:00Z', totalTickets: 5 });
    const { r } = app();
    await openEvents(r);
    await pick(r, 'Open Show');
    press(r, KEYS.escape);
    expect(statusLine(await frame(r, 'No tickets selected'))).toBe('⚠ No tickets selected');
    press(r, KEYS.backspace.repeat(9), ...'Gone Show');
    await frame(r, '› Gone Show');
    press(r, KEYS.enter);
    await frame(r, '⚠ Gone Show is sold out');
    press(r, KEYS.escape);
    const menu = await frame(r, 'Main menu');
    expect(statusLine(menu)).toBe('⚠ No event selected');
  });

  it('cannot reach the server: says so plainly within the timeout, offers Retry and Quit', async () => {
    const port = await freePort();
    const exits: Array<{ code: number; message?: string }> = [];
    const { r } = app({ client: new BoxofficeClient({ baseUrl: `http://127.0.0.1:${port}` }), connectTimeoutMs: 600, onExit: (e) => exits.push(e) });
    const f = await frame(r, 'Cannot reach');
    expect(f).toContain(`Cannot reach boxoffice at http://127.0.0.1:${port}: connection refused`);
    expect(f).toMatch(/› Retry/);
    expect(f).toMatch(/ {2}Quit/);
    expect(f).not.toMatch(/\bat .*\.js:\d+/);
    // Retry, and this time the server is there.
    const late = createServer((req, res) => {
      if (req.url === '/healthz') res.end('{"status":"ok"}');
      else if (req.url === '/events') res.end('[]');
      else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"type":"snapshot","events":[]}\n\n');
      }
    });
    await new Promise<void>((resolve) => late.listen(port, '127.0.0.1', resolve));
    try {
      press(r, KEYS.enter);
      await frame(r, 'Main menu');
      press(r, 'q');
      await expect.poll(() => exits).toEqual([{ code: 0, message: undefined }]);
    } finally {
      late.closeAllConnections();
      await new Promise((resolve) => late.close(resolve));
    }
  });

  it('Quit from the unreachable screen exits with code 1 and the reason', async () => {
    const port = await freePort();
    const exits: Array<{ code: number; message?: string }> = [];
    const { r } = app({ client: new BoxofficeClient({ baseUrl: `http://127.0.0.1:${port}` }), connectTimeoutMs: 300, onExit: (e) => exits.push(e) });
    await frame(r, '› Retry');
    press(r, KEYS.down, KEYS.enter);
    await expect.poll(() => exits).toEqual([{ code: 1, message: `Cannot reach boxoffice at http://127.0.0.1:${port}: connection refused` }]);
  });

  it('shows "Server busy, retrying in 1 s…" while a 429 is retried', async () => {
    const event: Event = { id: '3f2b8c4e-6a1d-4e5f-9b7a-2c8d1e0f4a6b', name: 'Busy Show', date: '2027-05-01T19:00:00.000Z', totalTickets: 9, availableTickets: 9, maxTicketsPerBooking: 9 };
    let bookingCalls = 0;
    const busy = createServer((req, res) => {
      req.resume();
      if (req.url === '/healthz') return res.end('{"status":"ok"}');
      if (req.url === '/events') return res.end(JSON.stringify([event]));
      if (req.url === '/events/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return res.write(`data: ${JSON.stringify({ type: 'snapshot', events: [event] })}\n\n`);
      }
      bookingCalls++;
      if (bookingCalls === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        return res.end('{"error":"too_many_requests","message":"The server is busy; retry after the time in Retry-After."}');
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'b1', eventId: event.id, tickets: [{ id: 't1', eventId: event.id, bookingId: 'b1' }], createdAt: '2027-01-01T00:00:00.000Z' }));
    });
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const address = busy.address();
    let release!: () => void;
    const waited: number[] = [];
    const client = new BoxofficeClient({
      baseUrl: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      // The retry wait ends when the test says so.
      sleep: (ms) => {
        waited.push(ms);
        return ms === 1000 ? new Promise<void>((resolve) => (release = resolve)) : new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
    try {
      const { r } = app({ client });
      await openEvents(r);
      await pick(r, 'Busy Show');
      press(r, KEYS.enter);
      await frame(r, 'Server busy, retrying in 1 s… (1 of 4)');
      release();
      await frame(r, '✔ Booked 1 ticket for Busy Show');
      expect(bookingCalls).toBe(2);
      expect(waited).toContain(1000);
    } finally {
      busy.closeAllConnections();
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
