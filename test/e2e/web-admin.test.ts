/**
 * Issue 17 on the admin page: the event lifecycle (edit, close and reopen sales, cancel with a
 * confirmation), the bookings and attendees with search, cancelling a booking, the CSV; and what a
 * buyer then sees. In the machine's Chromium against the built binary (`npm run build` first).
 */
import { mkdirSync } from 'node:fs';
import { join as joinPath, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchChromium } from '../helpers/browser.js';
import { REPO_ROOT, TEST_ADMIN_TOKEN, killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const SCREENSHOTS = resolve(REPO_ROOT, process.env.BOXOFFICE_SCREENSHOTS_DIR ?? joinPath('test-results', 'screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });

interface ApiEvent {
  id: string;
  name: string;
  totalTickets: number;
  availableTickets: number;
  salesOpen: boolean;
  status: string;
  timeZone: string;
  date: string;
}

describeBrowser('admin page event lifecycle (issue 17) in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let cleanup: () => void;

  beforeAll(async () => {
    const dir = tempDir('boxoffice-web-admin-');
    cleanup = dir.cleanup;
    [server, browser] = await Promise.all([startServerProcess({ dataDir: dir.dir }), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1200, height: 900 }, locale: 'en-GB', timezoneId: 'America/New_York', acceptDownloads: true });
  });

  afterAll(async () => {
    await browser?.close();
    await killAllProcesses();
    cleanup?.();
  });

  const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' };
  const getEvent = async (id: string) => (await (await fetch(`${server.url}/events/${id}`)).json()) as ApiEvent;

  async function book(eventId: string, tickets: number, buyer: { name: string; email: string }): Promise<{ id: string; secret: string }> {
    const res = await fetch(`${server.url}/events/${eventId}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickets, buyer }) });
    expect(res.status, await res.clone().text()).toBe(201);
    return (await res.json()) as { id: string; secret: string };
  }

  async function adminPage(): Promise<Page> {
    const page = await context.newPage();
    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.locator('#token-status[data-ok="true"]').waitFor();
    return page;
  }

  it('edits an event, refuses an edit below what is sold, closes and reopens sales, lists and searches bookings, cancels one, downloads the CSV', async () => {
    const created = await fetch(`${server.url}/events`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'Organ Recital', date: '2027-06-01T18:00:00Z', timeZone: 'Europe/Berlin', totalTickets: 20, buyerDetails: 'optional' }) });
    expect(created.status).toBe(201);
    const event = (await created.json()) as ApiEvent;
    const ada = await book(event.id, 2, { name: 'Ada Lovelace', email: 'ada@example.org' });
    await book(event.id, 3, { name: '=HYPERLINK("http://evil")', email: 'mallory@example.org' });

    const page = await adminPage();
    await page.getByRole('button', { name: 'Manage Organ Recital' }).click();
    const manage = page.locator('#manage-event');
    expect(await manage.inputValue()).toBe(event.id);
    // The form shows the time on the event's clocks (20:00 in Berlin), whatever the organiser's zone (New York).
    expect(await page.locator('#edit-date').inputValue()).toBe('2027-06-01T20:00');
    expect(await page.locator('#edit-time-zone').inputValue()).toBe('Europe/Berlin');

    // Bookings with their buyers; search narrows them.
    const rows = page.locator('#bookings tbody tr');
    await page.locator('#bookings-summary', { hasText: '2 bookings' }).waitFor();
    expect(await rows.count()).toBe(2);
    await page.getByLabel('Search by name, email or booking number').fill('lovelace');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#bookings-summary', { hasText: '1 booking matches' }).waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('ada@example.org');
    expect(await rows.first().getAttribute('data-booking-id')).toBe(ada.id);

    // Cancelling a booking asks first; "Keep" has the focus.
    await rows.first().getByRole('button', { name: /Cancel booking/ }).click();
    await page.locator('#bookings tbody button:focus', { hasText: 'Keep' }).waitFor();
    await rows.first().getByRole('button', { name: 'Yes, cancel 2 tickets' }).click();
    await page.locator('#bookings-summary', { hasText: `Cancelled booking ${ada.id}` }).waitFor();
    await rows.first().locator('td.status', { hasText: 'Cancelled' }).waitFor();
    expect((await getEvent(event.id)).availableTickets).toBe(17);

    // An edit below what is sold is refused next to the form, and changes nothing.
    const form = page.locator('#edit-form');
    await form.getByLabel('Total tickets').fill('2');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#edit-error:not(:empty)').waitFor();
    expect(await page.locator('#edit-error').textContent()).toMatch(/sold/);
    expect(await form.getByLabel('Total tickets').getAttribute('aria-invalid')).toBe('true');
    expect((await getEvent(event.id)).totalTickets).toBe(20);

    // A real edit: name, time (on Berlin's clocks) and total.
    await form.getByLabel('Name', { exact: true }).fill('Organ Recital (late)');
    await form.getByLabel(/Date and time/).fill('2027-06-01T21:30');
    await form.getByLabel('Total tickets').fill('30');
    await form.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#edit-status', { hasText: 'Saved' }).waitFor();
    expect(await getEvent(event.id)).toMatchObject({ name: 'Organ Recital (late)', date: '2027-06-01T19:30:00.000Z', totalTickets: 30, availableTickets: 27 });
    await page.locator('#sales tbody tr', { hasText: 'Organ Recital (late)' }).waitFor();
    await page.locator('section:has(#manage-title)').screenshot({ path: joinPath(SCREENSHOTS, 'web-admin-manage.png'), animations: 'disabled' });

    // Close sales: the box office shows the card without a form; reopen brings it back.
    await page.getByRole('button', { name: 'Close sales' }).click();
    await page.locator('#lifecycle-status', { hasText: 'closed' }).waitFor();
    expect((await getEvent(event.id)).salesOpen).toBe(false);
    const buyer = await context.newPage();
    await buyer.goto(`${server.url}/`);
    const card = buyer.locator(`li.event[data-event-id="${event.id}"]:not(.static)`);
    await card.locator('.event-state', { hasText: 'Sales are closed' }).waitFor();
    expect(await card.locator('input:visible').count()).toBe(0);
    await page.getByRole('button', { name: 'Reopen sales' }).click();
    await page.locator('#lifecycle-status', { hasText: 'open again' }).waitFor();
    expect((await getEvent(event.id)).salesOpen).toBe(true);
    await buyer.reload();
    await card.locator('input[name=tickets]').waitFor();
    await buyer.close();

    // The CSV: both buyers, the formula neutralised.
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download attendees (CSV)' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8');
    expect(csv).toContain('Ada Lovelace');
    expect(csv).toContain(`'=HYPERLINK`);
    await page.close();
  });

  it('cancelling an event asks first; then the buyer\'s booking page says the event was cancelled', async () => {
    const created = await fetch(`${server.url}/events`, { method: 'POST', headers: admin, body: JSON.stringify({ name: 'Rained Off', date: '2027-07-01T18:00:00Z', totalTickets: 10 }) });
    const event = (await created.json()) as ApiEvent;
    const booking = await book(event.id, 2, { name: 'Grace Hopper', email: 'grace@example.org' });

    const page = await adminPage();
    await page.locator('#manage-event').selectOption(event.id);
    await page.getByRole('button', { name: 'Cancel the event…' }).click();
    expect(await page.locator('#cancel-event-question').textContent()).toContain('Rained Off');
    await page.locator('#cancel-event-no:focus').waitFor();
    await page.keyboard.press('Enter'); // the stray Enter keeps the event
    expect((await getEvent(event.id)).status).toBe('scheduled');

    await page.getByRole('button', { name: 'Cancel the event…' }).click();
    await page.getByRole('button', { name: 'Yes, cancel the event and every booking' }).click();
    await page.locator('#manage-state', { hasText: 'cancelled' }).waitFor();
    expect(await getEvent(event.id)).toMatchObject({ status: 'cancelled', availableTickets: 0 });
    expect(await page.locator('#sales-toggle').isDisabled()).toBe(true);

    const buyer = await context.newPage();
    await buyer.goto(`${server.url}/booking#${new URLSearchParams({ id: booking.id, secret: booking.secret })}`);
    await buyer.locator('#booking-state', { hasText: 'This event was cancelled' }).waitFor();
    expect(await buyer.locator('#cancel-box').isHidden()).toBe(true);
    await Promise.all([buyer.close(), page.close()]);
  });
});
