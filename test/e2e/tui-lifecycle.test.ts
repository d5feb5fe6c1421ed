/**
 * Issue 17's terminal screens in real 80×24 terminals (tmux) against the built server: the organiser
 * edits an event (its date typed on the event's own clocks), closes and reopens sales, searches the
 * bookings and cancels one, and cancels the event, each cancellation asked first with "No" under
 * the cursor; a buyer's client watches the list change live. The buyer gives the name and email
 * an event requires, holds then confirms, and cancels from a form where Enter does not cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { killAllProcesses, startServerProcess, TEST_ADMIN_TOKEN, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { rowOf, statusLine, TmuxServer, type Terminal } from './tui-terminal.js';

const tmp = tempDir('boxoffice-e2e-tui-lifecycle-');
const tmux = new TmuxServer();
let server: ServerProcess;
let admin: BoxofficeClient;

beforeAll(async () => {
  server = await startServerProcess({ dataDir: `${tmp.dir}/server` });
  admin = new BoxofficeClient({ baseUrl: server.url, adminToken: TEST_ADMIN_TOKEN });
});
afterAll(async () => {
  tmux.kill();
  await killAllProcesses();
  tmp.cleanup();
});

/** Moves a menu's highlight down to `label` (the menus do not wrap past their last item). */
async function moveTo(term: Terminal, label: string): Promise<void> {
  for (let i = 0; i < 8; i++) {
    if ((await term.waitFor(/› /)).includes(`› ${label}`)) return;
    term.keys('Down');
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`no "${label}" in the menu:\n${term.screen()}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the organiser’s event actions in a terminal', () => {
  it('edit in the event’s time zone, close and reopen sales, bookings with search and a cancel that asks, cancel the event; a buyer’s list follows', async () => {
    const event = await admin.createEvent({ name: 'Berlin Gig', date: '2027-06-12T18:30:00Z', timeZone: 'Europe/Berlin', totalTickets: 10 });
    const ada = await admin.book(event.id, 2, { buyer: { name: 'Ada Lovelace', email: 'ada@example.com' } });
    const grace = await admin.book(event.id, 1, { buyer: { name: 'Grace Hopper', email: 'grace@example.com' } });

    const buyer = tmux.open(['client', '--url', server.url, '--data-dir', `${tmp.dir}/buyer`]);
    await buyer.waitFor('Main menu');
    buyer.keys('Enter');
    await buyer.waitFor((s) => /7 \/ 10$/.test(rowOf(s, 'Berlin Gig')));

    const term = tmux.open(['admin', '--url', server.url, '--token', TEST_ADMIN_TOKEN, '--data-dir', `${tmp.dir}/admin`]);
    await term.waitFor('Main menu');
    term.keys('Enter');
    await term.waitFor((s) => rowOf(s, 'Berlin Gig').includes('Sat 12 Jun 2027 20:30 CEST'));
    term.keys('Enter');
    let screen = await term.waitFor('Edit details');
    // 18:30 UTC is 20:30 on Berlin's clocks in June, with the zone named.
    expect(screen).toContain('Sat 12 Jun 2027 20:30 CEST (Europe/Berlin)');
    expect(screen).toMatch(/on sale {2}· {2}3 sold, 0 held, 7 of 10 left/);

    // Edit: the name, and the date typed as Berlin's local time.
    term.keys('Enter');
    screen = await term.waitFor('Edit Berlin Gig');
    expect(screen).toMatch(/Date +2027-06-12 20:30/);
    term.type(' II');
    term.keys('Tab');
    await term.waitFor('› Date');
    for (let i = 0; i < 16; i++) term.keys('BSpace');
    term.type('2027-06-13 21:00');
    await term.waitFor(/› Date +2027-06-13 21:00/);
    for (let i = 0; i < 5; i++) term.keys('Tab');
    await term.waitFor('›  Save');
    term.keys('Enter');
    screen = await term.waitFor('Saved Berlin Gig II');
    expect(statusLine(screen)).toBe('✔ Saved Berlin Gig II: name, date changed');
    expect(screen).toContain('Sun 13 Jun 2027 21:00 CEST (Europe/Berlin)');
    expect(await admin.getEvent(event.id)).toMatchObject({ name: 'Berlin Gig II', date: '2027-06-13T19:00:00.000Z', timeZone: 'Europe/Berlin' });
    await buyer.waitFor((s) => rowOf(s, 'Berlin Gig II').includes('Sun 13 Jun 2027 21:00 CEST'));

    // Close sales, then reopen them; the buyer's list says so meanwhile.
    await moveTo(term, 'Close sales');
    term.keys('Enter');
    screen = await term.waitFor('Sales of Berlin Gig II are closed');
    expect(screen).toMatch(/sales closed {2}· {2}3 sold/);
    expect((await admin.getEvent(event.id)).salesOpen).toBe(false);
    await buyer.waitFor((s) => /SALES CLOSED$/.test(rowOf(s, 'Berlin Gig II')));
    await moveTo(term, 'Reopen sales');
    term.keys('Enter');
    await term.waitFor('Sales of Berlin Gig II are open again');
    expect((await admin.getEvent(event.id)).salesOpen).toBe(true);
    await buyer.waitFor((s) => /7 \/ 10$/.test(rowOf(s, 'Berlin Gig II')));

    // The bookings, searched; cancelling one asks first, and Enter on the question keeps it.
    await moveTo(term, 'Bookings');
    term.keys('Enter');
    screen = await term.waitFor('Bookings of Berlin Gig II  2 in all');
    expect(screen).toContain(grace.id.slice(0, 8));
    expect(screen).toContain(ada.id.slice(0, 8));
    term.type('grace');
    screen = await term.waitFor('1 found');
    expect(screen).toContain(grace.id.slice(0, 8));
    expect(screen).not.toContain(ada.id.slice(0, 8));
    term.keys('Enter');
    screen = await term.waitFor(`Cancel booking ${grace.id}?`);
    expect(screen).toContain('Grace Hopper <grace@example.com> · 1 ticket go back on sale.');
    expect(screen).toContain('›  No, keep it');
    term.keys('Enter');
    await term.waitFor((s) => !s.includes('Cancel booking '));
    await sleep(300);
    expect((await admin.getBooking(grace.id)).tickets.map((t) => t.status)).toEqual(['valid']);
    term.keys('Enter');
    await term.waitFor('›  No, keep it');
    term.keys('Right');
    await term.waitFor('›  Yes, cancel the booking');
    term.keys('Enter');
    screen = await term.waitFor(`Cancelled booking ${grace.id.slice(0, 8)}`);
    expect(rowOf(screen, grace.id.slice(0, 8))).toMatch(/0 of 1 +cancelled/);
    expect((await admin.getBooking(grace.id)).tickets.map((t) => t.status)).toEqual(['cancelled']);
    expect((await admin.getBooking(ada.id)).tickets.map((t) => t.status)).toEqual(['valid', 'valid']);
    await buyer.waitFor((s) => /8 \/ 10$/.test(rowOf(s, 'Berlin Gig II')));

    // Cancel the event: asked first, "No" under the cursor; then yes.
    term.keys('Escape');
    await moveTo(term, 'Cancel event');
    term.keys('Enter');
    screen = await term.waitFor('Cancel Berlin Gig II?');
    expect(screen).toContain('›  No, keep the event');
    term.keys('Enter');
    await term.waitFor((s) => !s.includes('Cancel Berlin Gig II?') && s.includes('Edit details'));
    await sleep(300);
    expect((await admin.getEvent(event.id)).status).toBe('scheduled');
    await moveTo(term, 'Cancel event');
    term.keys('Enter');
    await term.waitFor('›  No, keep the event');
    term.keys('Right');
    await term.waitFor('›  Yes, cancel the event');
    term.keys('Enter');
    screen = await term.waitFor('Cancelled Berlin Gig II');
    expect(screen).toMatch(/CANCELLED {2}· {2}0 sold/);
    expect(await admin.getEvent(event.id)).toMatchObject({ status: 'cancelled', availableTickets: 0 });
    expect((await admin.getBooking(ada.id)).tickets.map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
    // The buyer's list says cancelled (not "sold out"), and Enter on it says why.
    screen = await buyer.waitFor((s) => /CANCELLED$/.test(rowOf(s, 'Berlin Gig II')));
    buyer.keys('Enter');
    screen = await buyer.waitFor('was cancelled');
    expect(statusLine(screen)).toBe('⚠ Berlin Gig II was cancelled by its organiser: nothing is on sale');

    term.keys('Escape');
    await term.waitFor('Events');
    term.keys('Escape');
    await term.waitFor('Main menu');
    term.keys('q');
    await term.waitFor('[exited 0]');
  }, 120_000);
});

describe('the buyer’s client in a terminal', () => {
  it('name and email when the event requires them, hold with its countdown then confirm, and a cancel form where Enter does not cancel', async () => {
    const event = await admin.createEvent({ name: 'Named Night', date: '2027-07-01T18:00:00Z', timeZone: 'Europe/Berlin', totalTickets: 20, buyerDetails: 'required', holdSeconds: 120 });
    const term = tmux.open(['client', '--url', server.url, '--data-dir', `${tmp.dir}/client`]);
    await term.waitFor('Main menu');
    term.keys('Enter');
    await term.waitFor((s) => /20 \/ 20$/.test(rowOf(s, 'Named Night')));
    term.type('Named');
    await term.waitFor('› Named Night');
    term.keys('Enter');
    await term.waitFor('How many tickets?');
    term.keys('Up');
    await term.waitFor(/◀ {2}2 {2}▶/);
    term.keys('Enter');

    // The event requires the buyer's details: asked before anything is held.
    let screen = await term.waitFor('Your details');
    expect(screen).toContain('The organiser needs your name and email for this event.');
    expect(screen).toContain('no email is sent');
    term.keys('Tab', 'Tab');
    await term.waitFor('›  Hold 2 tickets');
    term.keys('Enter');
    screen = await term.waitFor('Name is required for this event.');
    expect(screen).toContain('Email is required for this event.');
    expect((await admin.getEvent(event.id)).heldTickets).toBe(0);
    await term.waitFor('› Name');
    term.type('Ada Lovelace');
    term.keys('Tab');
    await term.waitFor('› Email');
    term.type('ada@example.com');
    term.keys('Tab');
    await term.waitFor('›  Hold 2 tickets');
    term.keys('Enter');

    // Held, not bought: the countdown runs; Enter buys.
    screen = await term.waitFor('2 tickets held for you');
    expect(screen).toMatch(/expires in (2:00|1:[0-5]\d)/);
    expect(screen).toContain('Nothing is bought until you confirm.');
    expect((await admin.getEvent(event.id)).heldTickets).toBe(2);
    const first = /expires in (\d):(\d\d)/.exec(screen)!;
    await term.waitFor((s) => {
      const now = /expires in (\d):(\d\d)/.exec(s);
      return now !== null && Number(now[1]) * 60 + Number(now[2]) < Number(first[1]) * 60 + Number(first[2]);
    });
    term.keys('Enter');
    screen = await term.waitFor('Keep the secret');
    expect(screen).toContain('✔ Booked 2 tickets for Named Night');
    const bookingId = /Booking {2}([0-9a-f-]{36})/.exec(screen)![1]!;
    const { bookings } = await admin.listEventBookings(event.id);
    expect(bookings.map((b) => [b.id, b.buyer])).toEqual([[bookingId, { name: 'Ada Lovelace', email: 'ada@example.com' }]]);
    const ticketStatuses = async () => (await admin.getBooking(bookingId)).tickets.map((t) => t.status);

    // Cancel a booking: the form opens on its first field, so Enter moves on and cancels nothing.
    term.keys('Enter');
    await term.waitFor('Booked 2 tickets');
    term.keys('Escape');
    await term.waitFor('Main menu');
    await moveTo(term, 'Cancel a booking');
    term.keys('Enter');
    screen = await term.waitFor('All its tickets go back on sale. You need the secret');
    expect(screen).toContain(`› Booking id  ${bookingId}`);
    term.keys('Enter');
    await term.waitFor('› Secret');
    term.keys('Enter');
    await term.waitFor('›  Cancel booking');
    expect(await ticketStatuses()).toEqual(['valid', 'valid']);
    // Enter on the button asks; Enter on the question keeps the booking.
    term.keys('Enter');
    screen = await term.waitFor(`Cancel booking ${bookingId}?`);
    expect(screen).toContain('›  No, keep it');
    term.keys('Enter');
    await term.waitFor((s) => !s.includes(`Cancel booking ${bookingId}?`));
    await sleep(300);
    expect(await ticketStatuses()).toEqual(['valid', 'valid']);
    term.keys('Enter');
    await term.waitFor('›  No, keep it');
    term.keys('Right');
    await term.waitFor('›  Yes, cancel the booking');
    term.keys('Enter');
    screen = await term.waitFor(`Cancelled booking ${bookingId}`);
    expect(await ticketStatuses()).toEqual(['cancelled', 'cancelled']);
    expect((await admin.getEvent(event.id)).availableTickets).toBe(20);
    term.keys('q');
    await term.waitFor('[exited 0]');
  }, 120_000);
});
