/**
 * The organiser's app: in process around a running service (as in `boxoffice serve`) and remote over
 * HTTP (as in `boxoffice admin`): start-up progress, live events with tickets sold, the Add Event
 * form, the log tail, render throttling under a booking burst, and a graceful quit.
 */
import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { AdminApp } from '../../src/tui/admin-app.js';
import { toIsoDate } from '../../src/tui/components/EventCreator.js';
import { InProcessBackend, type LocalServer } from '../../src/tui/backends/in-process.js';
import { RemoteBackend } from '../../src/tui/backends/remote.js';
import { LogTail } from '../../src/tui/log-tail.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';
import { frame, KEYS, press, renderUi } from './helpers.js';

type App = Awaited<ReturnType<typeof startApp>>;
const servers: App[] = [];
afterEach(async () => {
  cleanup();
  for (const s of servers.splice(0)) await s.close().catch(() => {});
});

const rowOf = (f: string, name: string) => f.split('\n').find((line) => /^[› ] /.test(line) && line.includes(name)) ?? '';
const statusLine = (f: string) => f.split('\n').at(-2) ?? '';

/** The in-process admin UI over a real service whose log goes to the tail. */
function local(options: { failFirst?: string } = {}) {
  const tail = new LogTail();
  const logger = pino({ level: 'info' }, tail);
  let attempts = 0;
  let server: App | undefined;
  const backend = new InProcessBackend(async (onStep): Promise<LocalServer> => {
    attempts++;
    onStep({ step: 'storage', detail: 'in memory' });
    onStep({ step: 'listen', detail: '127.0.0.1:0' });
    if (options.failFirst && attempts === 1) throw new Error(options.failFirst);
    server = await startApp({ service: { logger } });
    servers.push(server);
    return { url: server.url, service: server.service, stop: () => server!.close() };
  }, 'http://127.0.0.1:0');
  const exits: Array<{ code: number; message?: string }> = [];
  const r = renderUi(<AdminApp backend={backend} tail={tail} onExit={(e) => exits.push(e)} />);
  return { r, exits, server: () => server!, attempts: () => attempts };
}

async function addEvent(r: ReturnType<typeof renderUi>, fields: { name: string; date: string; total: string; max?: string; hold?: string; onSaleAt?: string; waitingRoom?: string }) {
  await frame(r, 'Main menu');
  press(r, KEYS.down, KEYS.enter);
  await frame(r, 'Add an event');
  press(r, fields.name, KEYS.tab, fields.date, KEYS.tab, fields.total, KEYS.tab, fields.max ?? '', KEYS.tab, fields.hold ?? '', KEYS.tab);
  // The sale fields: the waiting room's answer replaces the "no" the form opens with.
  press(r, fields.onSaleAt ?? '', KEYS.tab, ...(fields.waitingRoom ? [KEYS.backspace, KEYS.backspace, fields.waitingRoom] : []), KEYS.tab, KEYS.tab);
  await frame(r, '›  Create event');
  press(r, KEYS.enter);
}

describe('AdminApp in process (boxoffice serve)', () => {
  it('shows start-up progress, then Events, Add Event, Logs, Quit', async () => {
    const { r } = local();
    const menu = await frame(r, 'Main menu');
    for (const item of ['Events', 'Add Event', 'Logs', 'Quit']) expect(menu).toContain(item);
    expect(menu.split('\n')[0]).toMatch(/boxoffice · organiser\s+http:\/\/127\.0\.0\.1:\d+ {2}● serving$/);
    expect(r.frames.some((f) => f.includes('%'))).toBe(true);
  });

  it('Add Event: validated inline, created once valid; it appears in the list and in the log, and buyers see it', async () => {
    const { r, server } = local();
    await addEvent(r, { name: 'Summer Fest', date: '2027-07-01 18:00', total: 'many' });
    // Refused by the form: the total is not a number, so focus goes back there with the core message.
    await frame(r, 'totalTickets must be a whole number from 1 to 10,000,000, got "many".');
    expect((await new BoxofficeClient({ baseUrl: server().url }).listEvents()).length).toBe(0);
    press(r, KEYS.backspace.repeat(4), '300', KEYS.enter, '8', KEYS.enter, '120', KEYS.enter, KEYS.enter, KEYS.enter, KEYS.enter, KEYS.enter);
    const list = await frame(r, (f) => f.includes('Sold') && rowOf(f, 'Summer Fest') !== '');
    expect(rowOf(list, 'Summer Fest')).toMatch(/300 \/ 300\s+0$/);
    expect(statusLine(list)).toMatch(/^✔ Created Summer Fest: 300 tickets on Thu 01 Jul 2027 18:00 (UTC|GMT)$/);
    const [event] = await new BoxofficeClient({ baseUrl: server().url }).listEvents();
    expect(event).toMatchObject({ name: 'Summer Fest', totalTickets: 300, maxTicketsPerBooking: 8, holdSeconds: 120 });
    press(r, KEYS.escape);
    // Back in the menu the highlight is where it was left (Add Event); 3 picks Logs.
    await frame(r, '› Add Event');
    press(r, '3');
    await frame(r, /INFO {2}event created eventId=[0-9a-f-]{36} eventName="Summer Fest/);
  });

  it('Add Event with the sale settings: the event is created with its on-sale time and waiting room', async () => {
    const { r, server } = local();
    await addEvent(r, { name: 'Queue Gig', date: '2027-09-10 20:00', total: '50', onSaleAt: '2027-08-01 10:00', waitingRoom: 'yes' });
    await frame(r, (f) => f.includes('Sold') && rowOf(f, 'Queue Gig') !== '');
    const [event] = await new BoxofficeClient({ baseUrl: server().url }).listEvents();
    expect(event).toMatchObject({ name: 'Queue Gig', totalTickets: 50, waitingRoom: true, onSaleAt: new Date(toIsoDate('2027-08-01 10:00')).toISOString(), queueWindow: null });
  });

  it('updates live with tickets sold, and renders at most ~10 times a second during a booking burst', async () => {
    const { r, server } = local();
    await frame(r, 'Main menu');
    const event = await server().service.createEvent({ name: 'Big Show', date: '2027-08-01T20:00:00Z', totalTickets: 100_000, maxTicketsPerBooking: 10 });
    press(r, KEYS.enter);
    await frame(r, (f) => /100,000 \/ 100,000\s+0$/.test(rowOf(f, 'Big Show')));
    const framesBefore = r.frames.length;
    const started = Date.now();
    // 3,000 bookings in bursts over at least half a second.
    for (let burst = 0; burst < 6; burst++) {
      await Promise.all(Array.from({ length: 500 }, () => server().service.book(event.id, 1).then((p) => p.value)));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const f = await frame(r, (x) => /97,000 \/ 100,000\s+3,000$/.test(rowOf(x, 'Big Show')));
    const elapsed = Date.now() - started;
    const renders = r.frames.length - framesBefore;
    expect(f).toContain('Big Show');
    // One render per 100 ms window at most (plus the one that shows the final numbers).
    expect(renders).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
  });

  it('Quit shuts the server down gracefully and exits 0', async () => {
    const { r, exits, server } = local();
    await frame(r, 'Main menu');
    const url = server().url;
    press(r, 'q');
    await expect.poll(() => exits).toEqual([{ code: 0, message: undefined }]);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    servers.splice(0);
  });

  it('a start-up failure is shown plainly with Retry and Quit; Retry starts it', async () => {
    const { r, attempts } = local({ failFirst: 'port 8080 on 127.0.0.1 is already in use' });
    const failed = await frame(r, 'already in use');
    expect(failed).toContain('port 8080 on 127.0.0.1 is already in use');
    expect(failed).toMatch(/› Retry/);
    press(r, KEYS.enter);
    await frame(r, 'Main menu');
    expect(attempts()).toBe(2);
  });
});

describe('AdminApp remote (boxoffice admin)', () => {
  async function remote(token: string | undefined, source: string | undefined) {
    const server = await startApp();
    servers.push(server);
    const tail = new LogTail();
    const logger = pino({ level: 'info' }, tail);
    const backend = new RemoteBackend(new BoxofficeClient({ baseUrl: server.url, adminToken: token }), logger, source, 2_000);
    const r = renderUi(<AdminApp backend={backend} tail={tail} title="boxoffice admin · organiser" />);
    return { r, server };
  }

  it('adds an event over HTTP with the token; the list is live', async () => {
    const { r, server } = await remote(ADMIN_TOKEN, '--token');
    const menu = await frame(r, (f) => f.includes('Main menu') && f.includes('● live'));
    expect(menu.split('\n')[0]).toMatch(/boxoffice admin · organiser\s+http:\/\/127\.0\.0\.1:\d+ {2}● live$/);
    await addEvent(r, { name: 'Remote Gig', date: '2027-09-09T21:00:00Z', total: '40' });
    await frame(r, (f) => /40 \/ 40\s+0$/.test(rowOf(f, 'Remote Gig')));
    const [event] = await new BoxofficeClient({ baseUrl: server.url }).listEvents();
    await new BoxofficeClient({ baseUrl: server.url }).book(event!.id, 5);
    await frame(r, (f) => /35 \/ 40\s+5$/.test(rowOf(f, 'Remote Gig')));
  });

  it('without a usable token: warns at start, and Add Event shows the server’s refusal', async () => {
    const { r } = await remote('not-the-token-0123456789', '--token');
    const menu = await frame(r, 'Main menu');
    expect(statusLine(menu)).toBe('✘ The server refused the admin token from --token; Add Event will fail.');
    await addEvent(r, { name: 'Nope', date: '2027-09-09T21:00:00Z', total: '1' });
    const refused = await frame(r, '✘ This endpoint needs the admin token');
    expect(refused).toContain('Add an event');
    cleanup();
    const none = await remote(undefined, undefined);
    expect(statusLine(await frame(none.r, 'Main menu'))).toMatch(/^⚠ No admin token: pass --token/);
  });
});
