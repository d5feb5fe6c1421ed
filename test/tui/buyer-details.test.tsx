/**
 * The buyer's app asks for name and email when the organiser requires them: nothing is held without
 * both (and a plausible email), and with them the organiser's bookings list shows who bought.
 * A real server in this process.
 */
import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { ClientApp } from '../../src/tui/client-app.js';
import { LogTail } from '../../src/tui/log-tail.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';
import { frame, KEYS, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

let server: Awaited<ReturnType<typeof startApp>>;
const admin = () => new BoxofficeClient({ baseUrl: server.url, adminToken: ADMIN_TOKEN });
beforeAll(async () => {
  server = await startApp();
});
afterAll(() => server.close());

function app() {
  const tail = new LogTail();
  const logger = pino({ level: 'info' }, tail);
  const r = renderUi(<ClientApp client={new BoxofficeClient({ baseUrl: server.url })} logger={logger} tail={tail} />);
  return { r, tail };
}

async function pickAndChoose(r: ReturnType<typeof app>['r'], name: string) {
  await frame(r, '› Events');
  press(r, KEYS.enter);
  await frame(r, 'type to filter');
  press(r, ...name);
  await frame(r, `› ${name}`);
  press(r, KEYS.enter);
  await frame(r, 'How many tickets?');
  press(r, KEYS.enter);
}

describe('buyer details in the buyer TUI', () => {
  it('required: no hold without a name and a plausible email; with them the organiser sees both', async () => {
    const event = await admin().createEvent({ name: 'Details Required', date: '2027-05-01T18:00:00Z', totalTickets: 10, buyerDetails: 'required' });
    const { r, tail } = app();
    await pickAndChoose(r, 'Details Required');
    await frame(r, 'The organiser needs your name and email');
    // Straight to the button with both empty: refused under each field, nothing held.
    press(r, KEYS.tab, KEYS.tab);
    await frame(r, /› +Hold 1 ticket/);
    press(r, KEYS.enter);
    const empty = await frame(r, 'Email is required for this event.');
    expect(empty).toContain('Name is required for this event.');
    await settle();
    expect((await admin().getEvent(event.id)).heldTickets).toBe(0);
    // The focus went back to the name; a name and an implausible email: still refused.
    press(r, ...'Ada Lovelace', KEYS.tab, ...'ada-at-example', KEYS.tab, KEYS.enter);
    const bad = await frame(r, 'That does not look like an email address');
    expect(bad).not.toContain('Name is required');
    await settle();
    expect((await admin().getEvent(event.id)).heldTickets).toBe(0);
    // Fix the email: the hold goes through, then the purchase.
    press(r, ...Array<string>(14).fill(KEYS.backspace));
    press(r, ...'ada@example.org', KEYS.tab, KEYS.enter);
    await frame(r, '1 ticket held for you');
    expect((await admin().getEvent(event.id)).heldTickets).toBe(1);
    press(r, KEYS.enter);
    const receipt = await frame(r, 'Keep the secret');
    const bookingId = /Booking {2}([0-9a-f-]{36})/.exec(receipt)?.[1];
    const page = await admin().listEventBookings(event.id);
    expect(page.bookings.map((b) => [b.id, b.buyer])).toEqual([[bookingId, { name: 'Ada Lovelace', email: 'ada@example.org' }]]);
    // Only the organiser sees who bought: the buyer's log does not carry it.
    const records = Array.from({ length: tail.size }, (_, i) => tail.get(tail.first + i));
    const logged = JSON.stringify(records);
    expect(logged).toContain('Held 1 ticket for Details Required');
    expect(logged).not.toContain('ada@example.org');
  });

  it('optional: empty fields hold without details; Esc on the form goes back to how many', async () => {
    const event = await admin().createEvent({ name: 'Details Optional', date: '2027-05-02T18:00:00Z', totalTickets: 10, buyerDetails: 'optional' });
    const { r } = app();
    await pickAndChoose(r, 'Details Optional');
    await frame(r, 'name and email (optional)');
    press(r, KEYS.escape);
    await frame(r, 'How many tickets?');
    press(r, KEYS.enter);
    await frame(r, 'name and email (optional)');
    press(r, KEYS.tab, KEYS.tab, KEYS.enter);
    await frame(r, '1 ticket held for you');
    press(r, KEYS.enter);
    await frame(r, 'Keep the secret');
    const page = await admin().listEventBookings(event.id);
    expect(page.bookings).toHaveLength(1);
    expect(page.bookings[0]!.buyer).toBeUndefined();
  });
});
