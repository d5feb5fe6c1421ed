/**
 * The buyer's app against a real server in this process: connect, browse, book, live updates, the
 * server's refusals in its own words, retries on 429, and an unreachable server.
 */
import { EVENT_LIFECYCLE_DEFAULTS } from '../../src/core/types.js';
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

function app(options: { client?: BoxofficeClient; connectTimeoutMs?: number; onExit?: (r: { code: number; message?: string }) => void; now?: () => number } = {}) {
  const tail = new LogTail();
  const logger = pino({ level: 'info' }, tail);
  const client = options.client ?? new BoxofficeClient({ baseUrl: server.url });
  const r = renderUi(<ClientApp client={client} logger={logger} tail={tail} connectTimeoutMs={options.connectTimeoutMs} onExit={options.onExit} now={options.now} />);
  return { r, tail };
}

/** A mock server's answer to `POST /events/:id/holds`: hold h1, ten minutes. */
function heldReply(eventId: string): string {
  return JSON.stringify({ id: 'h1', eventId, tickets: 1, status: 'active', createdAt: '2027-01-01T00:00:00.000Z', expiresAt: '2027-01-01T00:10:00.000Z' });
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

  it('books: pick the event, choose 2, Enter → the receipt with the secret, then the list drops by 2, ticket ids in Logs', async () => {
    const event = await admin().createEvent({ name: 'Booking Test', date: '2027-04-01T19:00:00Z', totalTickets: 10 });
    const { r } = app();
    await openEvents(r);
    expect(rowOf(await frame(r, 'Booking Test'), 'Booking Test')).toMatch(/10 \/ 10$/);
    await pick(r, 'Booking Test');
    press(r, KEYS.up);
    await frame(r, /◀\s+2\s+▶/);
    press(r, KEYS.enter);
    // Enter holds, it does not buy: the hold with its countdown, and the stock set aside.
    const held = await frame(r, '2 tickets held for you');
    expect(held).toMatch(/expires in (10:00|9:[0-5]\d)/);
    expect(held).toContain('Buy 2 tickets');
    expect(statusLine(held)).toBe('ℹ Holding 2 tickets for Booking Test · Enter buys, Esc gives back');
    const during = await admin().getEvent(event.id);
    expect([during.availableTickets, during.heldTickets]).toEqual([8, 2]);
    press(r, KEYS.enter);
    // The receipt: booking id, its secret with the one line that says why it matters, the ticket ids.
    const receipt = await frame(r, 'Keep the secret');
    expect(receipt).toContain('✔ Booked 2 tickets for Booking Test');
    const bookingId = /Booking {2}([0-9a-f-]{36})/.exec(receipt)?.[1];
    const secret = /Secret {3}(\S+)/.exec(receipt)?.[1];
    expect(bookingId).toBeDefined();
    expect(secret).toBeDefined();
    expect(receipt).toContain('Keep the secret: it is needed to cancel, and it is not shown again.');
    const booking = await admin().getBooking(bookingId!);
    expect(booking.eventId).toBe(event.id);
    for (const t of booking.tickets) expect(receipt).toContain(t.id);
    expect(statusLine(receipt)).toBe('✔ Booked 2 tickets for Booking Test · ticket ids in Logs');
    expect(receipt.split('\n').length).toBeLessThanOrEqual(23);
    press(r, KEYS.enter);
    const after = await frame(r, (f) => /8 \/ 10$/m.test(rowOf(f, 'Booking Test')) && f.includes('Booked'));
    expect(statusLine(after)).toBe('✔ Booked 2 tickets for Booking Test · ticket ids in Logs');
    const raw = await frame(r, 'Booked 2 tickets', { raw: true });
    expect(raw).toContain('\u001B[32m✔ Booked 2 tickets for Booking Test');
    expect((await admin().getEvent(event.id)).availableTickets).toBe(8);
    // Logs: the booking and both ticket ids, but not the secret (whoever reads a log could cancel).
    press(r, KEYS.escape);
    await frame(r, 'Main menu');
    press(r, KEYS.down, KEYS.down, KEYS.enter);
    const logs = await frame(r, (f) => /Logs {2}\d+ records/.test(f) && (f.match(/ticket [0-9a-f-]{36}/g) ?? []).length === 2);
    const ids = [...logs.matchAll(/ticket ([0-9a-f-]{36})/g)].map((m) => m[1]);
    expect(ids).toHaveLength(2);
    expect(logs).not.toContain(secret);
    for (const id of ids) expect((await admin().getTicket(id!)).eventId).toBe(event.id);
  });

  it('cancels a booking from the menu: pre-filled with the last booking, a wrong secret refused in red', async () => {
    const event = await admin().createEvent({ name: 'Cancel Test', date: '2027-04-05T19:00:00Z', totalTickets: 10 });
    const { r } = app();
    await openEvents(r);
    await pick(r, 'Cancel Test');
    press(r, KEYS.up, KEYS.up);
    await frame(r, /◀\s+3\s+▶/);
    press(r, KEYS.enter);
    await frame(r, '3 tickets held for you');
    press(r, KEYS.enter);
    const receipt = await frame(r, 'Keep the secret');
    const bookingId = /Booking {2}([0-9a-f-]{36})/.exec(receipt)![1]!;
    const secret = /Secret {3}(\S+)/.exec(receipt)![1]!;
    press(r, KEYS.escape);
    await frame(r, (f) => /7 \/ 10$/.test(rowOf(f, 'Cancel Test')));
    press(r, KEYS.escape);
    await frame(r, 'Main menu');
    press(r, KEYS.down, KEYS.enter);
    // Both fields hold the booking just made; the focus is on the first field, not on the button.
    let form = await frame(r, '› Booking id');
    expect(form).toMatch(new RegExp(`Booking id\\s+${bookingId}`));
    expect(form).toContain(secret);
    expect(form).not.toContain('›  Cancel booking');
    // A wrong secret first: the server's refusal, in red, on the form.
    press(r, KEYS.down, KEYS.end, KEYS.backspace, secret.endsWith('x') ? 'y' : 'x', KEYS.tab);
    await frame(r, '›  Cancel booking');
    press(r, KEYS.enter);
    await frame(r, `⚠ Cancel booking ${bookingId}?`);
    press(r, 'y');
    form = await frame(r, (f) => f.includes('✘ That secret does not match') && f.includes('Cancel a booking'));
    expect(statusLine(form)).toMatch(/^✘ That secret does not match this booking/);
    expect((await admin().getEvent(event.id)).availableTickets).toBe(7);
    // The right one.
    press(r, KEYS.up, KEYS.end, KEYS.backspace, secret.at(-1)!, KEYS.tab);
    await frame(r, '›  Cancel booking');
    press(r, KEYS.enter);
    // Enter on the prompt's default ("No, keep it") changes nothing.
    await frame(r, `⚠ Cancel booking ${bookingId}?`);
    press(r, KEYS.enter);
    await frame(r, (f) => !f.includes('⚠ Cancel booking') && f.includes('›  Cancel booking'));
    expect((await admin().getEvent(event.id)).availableTickets).toBe(7);
    press(r, KEYS.enter);
    await frame(r, `⚠ Cancel booking ${bookingId}?`);
    press(r, KEYS.right, KEYS.enter);
    const done = await frame(r, (f) => f.includes('Main menu') && f.includes('Cancelled booking'));
    expect(statusLine(done)).toBe(`✔ Cancelled booking ${bookingId} · 3 tickets back on sale`);
    expect((await admin().getEvent(event.id)).availableTickets).toBe(10);
    expect((await admin().getBooking(bookingId)).tickets.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('Esc on the hold gives the tickets back: nothing bought, the stock returns', async () => {
    const event = await admin().createEvent({ name: 'Release Test', date: '2027-04-07T19:00:00Z', totalTickets: 10 });
    const { r } = app();
    await openEvents(r);
    await pick(r, 'Release Test');
    press(r, KEYS.up, KEYS.up);
    await frame(r, /◀\s+3\s+▶/);
    press(r, KEYS.enter);
    await frame(r, '3 tickets held for you');
    expect((await admin().getEvent(event.id)).heldTickets).toBe(3);
    press(r, KEYS.escape);
    const list = await frame(r, (f) => f.includes('type to filter') && f.includes('Gave back'));
    expect(statusLine(list)).toBe('⚠ Gave back 3 tickets for Release Test: nothing bought');
    const after = await admin().getEvent(event.id);
    expect([after.availableTickets, after.heldTickets]).toEqual([10, 0]);
  });

  it('counts the hold down; once it runs out Enter does not buy but starts over', async () => {
    const event = await admin().createEvent({ name: 'Countdown Test', date: '2027-04-08T19:00:00Z', totalTickets: 10, holdSeconds: 120 });
    let clock = Date.now();
    const { r } = app({ now: () => clock });
    await openEvents(r);
    await pick(r, 'Countdown Test');
    press(r, KEYS.enter);
    // The hold's own length (120 s), counted on this machine's clock.
    await frame(r, /expires in (2:00|1:5\d)/);
    clock += 61_000;
    await frame(r, /expires in 0:5\d/);
    clock += 60_000;
    const expired = await frame(r, 'has run out');
    expect(expired).toContain('⚠ Your hold of 1 ticket has run out: the tickets went back on sale.');
    expect(expired).not.toContain('Buy 1 ticket');
    press(r, KEYS.enter);
    const again = await frame(r, 'How many tickets?');
    expect(statusLine(again)).toBe('⚠ Your hold of 1 ticket ran out; choose again');
    // Nothing was bought: the hold is still the only thing on the server (it ends there on its own time).
    const now = await admin().getEvent(event.id);
    expect(now.totalTickets - now.availableTickets - now.heldTickets).toBe(0);
  });

  it('shows held tickets in the list and the selector, live', async () => {
    const event = await admin().createEvent({ name: 'Hold Test', date: '2027-04-06T19:00:00Z', totalTickets: 10 });
    const { r } = app();
    await openEvents(r);
    await frame(r, (f) => /10 \/ 10$/.test(rowOf(f, 'Hold Test')));
    const hold = await admin().holdTickets(event.id, 3);
    await frame(r, (f) => /7 \/ 10 · 3 held$/.test(rowOf(f, 'Hold Test')));
    await pick(r, 'Hold Test');
    expect(await frame(r, '7 of 10 left · 3 held')).toBeTruthy();
    await admin().releaseHold(hold.id);
    await frame(r, (f) => f.includes('10 of 10 left') && !f.includes('held'));
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
    // Picking again: the warning was about the last visit, so the selector does not repeat it.
    press(r, KEYS.enter);
    const again = await frame(r, 'How many tickets?');
    expect(statusLine(again)).toBe('');
    press(r, KEYS.escape);
    await frame(r, 'No tickets selected');
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

  it('shows "Server busy, retrying in 1 s…" while a 429 on the hold is retried', async () => {
    const event: Event = {
      id: '3f2b8c4e-6a1d-4e5f-9b7a-2c8d1e0f4a6b',
      name: 'Busy Show',
      date: '2027-05-01T19:00:00.000Z',
      totalTickets: 9,
      availableTickets: 9,
      heldTickets: 0,
      maxTicketsPerBooking: 9,
      holdSeconds: 600,
      maxHeldPerBuyer: 9,
      maxTicketsPerBuyer: 100,
      offlineCheckIn: false,
      checkedInTickets: 0,
      ...EVENT_LIFECYCLE_DEFAULTS,
    };
    let bookingCalls = 0;
    const busy = createServer((req, res) => {
      req.resume();
      if (req.url === '/healthz') return res.end('{"status":"ok"}');
      if (req.url === '/events') return res.end(JSON.stringify([event]));
      if (req.url === '/events/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return res.write(`data: ${JSON.stringify({ type: 'snapshot', events: [event] })}\n\n`);
      }
      if (req.url === '/holds/h1/confirm') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ id: 'b1', eventId: event.id, tickets: [{ id: 't1', eventId: event.id, bookingId: 'b1' }], createdAt: '2027-01-01T00:00:00.000Z' }));
      }
      bookingCalls++;
      if (bookingCalls === 1) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        return res.end('{"error":"too_many_requests","message":"The server is busy; retry after the time in Retry-After."}');
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(heldReply(event.id));
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
      await frame(r, '1 ticket held for you');
      press(r, KEYS.enter);
      await frame(r, '✔ Booked 1 ticket for Busy Show');
      expect(bookingCalls).toBe(2);
      expect(waited).toContain(1000);
    } finally {
      busy.closeAllConnections();
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('a hold whose answer is lost is retried with the same Idempotency-Key, and says so', async () => {
    const event: Event = {
      id: '5d3c9a1e-7b2f-4c6d-8e9a-0f1b2c3d4e5f',
      name: 'Lossy Show',
      date: '2027-05-02T19:00:00.000Z',
      totalTickets: 9,
      availableTickets: 9,
      heldTickets: 0,
      maxTicketsPerBooking: 9,
      holdSeconds: 600,
      maxHeldPerBuyer: 9,
      maxTicketsPerBuyer: 100,
      offlineCheckIn: false,
      checkedInTickets: 0,
      ...EVENT_LIFECYCLE_DEFAULTS,
    };
    const keys: Array<string | undefined> = [];
    const lossy = createServer((req, res) => {
      req.resume();
      if (req.url === '/healthz') return res.end('{"status":"ok"}');
      if (req.url === '/events') return res.end(JSON.stringify([event]));
      if (req.url === '/events/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return res.write(`data: ${JSON.stringify({ type: 'snapshot', events: [event] })}\n\n`);
      }
      if (req.url !== '/holds/h1/confirm') {
        keys.push(req.headers['idempotency-key'] as string | undefined);
        // The first answer never arrives: the connection drops.
        if (keys.length === 1) return req.socket.destroy();
        res.writeHead(201, { 'content-type': 'application/json' });
        return res.end(heldReply(event.id));
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'b1',
          eventId: event.id,
          tickets: [{ id: 't1', eventId: event.id, bookingId: 'b1', status: 'valid' }],
          createdAt: '2027-01-01T00:00:00.000Z',
          secret: 'the-secret',
        }),
      );
    });
    await new Promise<void>((resolve) => lossy.listen(0, '127.0.0.1', resolve));
    const address = lossy.address();
    let release!: () => void;
    const client = new BoxofficeClient({
      baseUrl: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      // The retry wait (500 ms: the first backoff) ends when the test says so.
      sleep: (ms) => (ms === 500 ? new Promise<void>((resolve) => (release = resolve)) : new Promise((resolve) => setTimeout(resolve, ms))),
    });
    try {
      const { r } = app({ client });
      await openEvents(r);
      await pick(r, 'Lossy Show');
      press(r, KEYS.enter);
      await frame(r, 'No answer from the server, retrying in 0.5 s… (1 of 4)');
      release();
      await frame(r, '1 ticket held for you');
      press(r, KEYS.enter);
      const receipt = await frame(r, 'Keep the secret');
      expect(receipt).toMatch(/Secret {3}the-secret/);
      expect(receipt).toContain('t1');
      expect(keys).toHaveLength(2);
      expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(keys[1]).toBe(keys[0]);
    } finally {
      lossy.closeAllConnections();
      await new Promise((resolve) => lossy.close(resolve));
    }
  });
});
