/**
 * The organiser's side of an event's life in the admin TUI (issue 17), against a real server over
 * HTTP and in process: open an event, close and reopen its sales, find a booking by the buyer's name
 * and cancel it (asked first, "No" by default), edit the event (a total below what is sold refused in
 * the server's words). Cancelling the whole event: admin-cancel-event.test.tsx.
 */
import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { AdminApp } from '../../src/tui/admin-app.js';
import { InProcessBackend, type LocalServer } from '../../src/tui/backends/in-process.js';
import { RemoteBackend } from '../../src/tui/backends/remote.js';
import { LogTail } from '../../src/tui/log-tail.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';
import { frame, KEYS, press, renderUi, settle } from './helpers.js';

type App = Awaited<ReturnType<typeof startApp>>;
const servers: App[] = [];
afterEach(async () => {
  cleanup();
  for (const s of servers.splice(0)) await s.close().catch(() => {});
});

const statusLine = (f: string) => f.split('\n').at(-2) ?? '';

async function openEvent(r: ReturnType<typeof renderUi>, name: string) {
  await frame(r, 'Main menu');
  press(r, KEYS.enter);
  await frame(r, 'type to filter');
  press(r, ...name);
  await frame(r, `› ${name}`);
  press(r, KEYS.enter);
  await frame(r, 'Edit details');
}

async function remote() {
  const server = await startApp();
  servers.push(server);
  const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: ADMIN_TOKEN });
  const tail = new LogTail();
  const r = renderUi(<AdminApp backend={new RemoteBackend(admin, pino({ level: 'info' }, tail), '--token')} tail={tail} />);
  return { server, admin, r };
}

describe('the event lifecycle in the admin TUI', () => {
  it('remote: the event in its own zone; close and reopen sales; find a booking by name and cancel it after "Yes"', async () => {
    const { server, admin, r } = await remote();
    const event = await admin.createEvent({ name: 'Berlin Gig', date: '2027-05-01T18:00:00Z', totalTickets: 10, timeZone: 'Europe/Berlin', venue: 'Columbiahalle' });
    await admin.book(event.id, 2, { buyer: { name: 'Ana Lima', email: 'ana@example.org' } });
    await admin.book(event.id, 3, { buyer: { name: 'Bo Chen', email: 'bo@example.org' } });
    await openEvent(r, 'Berlin Gig');
    const details = await frame(r, 'on sale');
    expect(details).toContain('Sat 01 May 2027 20:00 CEST (Europe/Berlin)  ·  Columbiahalle');
    expect(details).toContain('5 sold, 0 held, 5 of 10 left');

    // Close sales: buyers are refused; reopen: they are not.
    press(r, KEYS.down, KEYS.enter);
    await frame(r, (f) => statusLine(f).startsWith('✔ Sales of Berlin Gig are closed'));
    await frame(r, 'Reopen sales');
    const buyer = new BoxofficeClient({ baseUrl: server.url });
    await expect(buyer.book(event.id, 1)).rejects.toMatchObject({ status: 409, code: 'sales_closed' });
    press(r, KEYS.down, KEYS.enter);
    await frame(r, (f) => statusLine(f) === '✔ Sales of Berlin Gig are open again' && f.includes('Close sales'));
    expect((await admin.getEvent(event.id)).salesOpen).toBe(true);

    // Bookings: search by name, Enter asks, Enter on "No" keeps it, "Yes" cancels it.
    press(r, KEYS.down, KEYS.down, KEYS.enter);
    await frame(r, 'Ana Lima <ana@example.org>');
    press(r, ...'bo ch');
    const found = await frame(r, (f) => f.includes('Bo Chen') && !f.includes('Ana Lima'));
    expect(found).toMatch(/1 found/);
    press(r, KEYS.enter);
    await frame(r, '⚠ Cancel booking');
    press(r, KEYS.enter);
    await frame(r, (f) => !f.includes('⚠ Cancel booking'));
    await settle();
    expect((await admin.getEvent(event.id)).availableTickets).toBe(5);
    press(r, KEYS.enter);
    await frame(r, '⚠ Cancel booking');
    press(r, KEYS.right, KEYS.enter);
    const cancelled = await frame(r, (f) => statusLine(f).startsWith('✔ Cancelled booking'));
    expect(statusLine(cancelled)).toMatch(/\(Bo Chen <bo@example\.org>\) · 3 tickets back on sale$/);
    await frame(r, /Bo Chen.*cancelled/);
    expect((await admin.getEvent(event.id)).availableTickets).toBe(8);

  });

  it('in process: the date in the event’s zone; an edit below what is sold refused in the server’s words, then saved', async () => {
    let server: App | undefined;
    const backend = new InProcessBackend(async (): Promise<LocalServer> => {
      server = await startApp();
      servers.push(server);
      return { url: server.url, service: server.service, stop: () => server!.close() };
    }, 'http://127.0.0.1:0');
    const tail = new LogTail();
    const r = renderUi(<AdminApp backend={backend} tail={tail} />);
    await frame(r, 'Main menu');
    const admin = new BoxofficeClient({ baseUrl: server!.url, adminToken: ADMIN_TOKEN });
    const event = await admin.createEvent({ name: 'Local Show', date: '2027-06-01T19:00:00Z', totalTickets: 10, timeZone: 'America/New_York' });
    await admin.book(event.id, 4);
    await openEvent(r, 'Local Show');
    await frame(r, 'Tue 01 Jun 2027 15:00 GMT-4 (America/New_York)');

    // Edit: the total below the 4 sold is refused in the server's words; then a valid edit is saved.
    press(r, KEYS.enter);
    await frame(r, 'Edit Local Show');
    press(r, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.end, KEYS.backspace, KEYS.backspace, '3', KEYS.tab, KEYS.tab);
    await frame(r, '›  Save');
    press(r, KEYS.enter);
    const refused = await frame(r, (f) => f.includes('✘') && f.includes('Edit Local Show'));
    expect(statusLine(refused)).toMatch(/^✘ .*sold/);
    expect((await admin.getEvent(event.id)).totalTickets).toBe(10);
    press(r, KEYS.up, KEYS.up, KEYS.backspace, '12', KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.end, ...' (late)', KEYS.tab, KEYS.tab, KEYS.tab, KEYS.tab, KEYS.tab, KEYS.tab);
    await frame(r, '›  Save');
    press(r, KEYS.enter);
    await frame(r, (f) => statusLine(f) === '✔ Saved Local Show (late): name, totalTickets changed' && f.includes('Edit details'));
    const edited = await admin.getEvent(event.id);
    expect([edited.name, edited.totalTickets]).toEqual(['Local Show (late)', 12]);

  });
});
