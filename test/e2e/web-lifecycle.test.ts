/**
 * Issue 17, event lifecycle as a buyer's open page sees it: the organiser renames, closes sales,
 * reopens them and cancels the event through the API, and the web box office's card follows each
 * change over the live stream, with no reload. In the machine's Chromium against the built binary.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { describeBrowser, launchChromium } from '../helpers/browser.js';
import { killAllProcesses, startServerProcess, TEST_ADMIN_TOKEN, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

/** How soon the open page must show a change: the stream gathers changes for 100 ms. */
const LIVE_MS = 5_000;

describeBrowser('an open box office page follows the organiser’s changes', () => {
  let server: ServerProcess;
  let browser: Browser;
  let cleanup: () => void;

  beforeAll(async () => {
    const dir = tempDir('boxoffice-web-lifecycle-');
    cleanup = dir.cleanup;
    [server, browser] = await Promise.all([startServerProcess({ dataDir: dir.dir }), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await killAllProcesses();
    cleanup?.();
  });

  it('rename, close sales, reopen, cancel: the card updates live, without a reload, and never offers what cannot be bought', async () => {
    const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: TEST_ADMIN_TOKEN });
    const event = await admin.createEvent({ name: 'Harbour Concert', date: '2027-08-20T18:00:00Z', timeZone: 'Europe/Berlin', totalTickets: 40 });
    await admin.book(event.id, 4);

    const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page: Page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });
    await page.goto(`${server.url}/`);
    await page.waitForSelector('.connection[data-state="live"]', { timeout: 10_000 });
    const card = page.locator(`li.event[data-event-id="${event.id}"]`);
    await card.locator('.event-name', { hasText: 'Harbour Concert' }).waitFor({ timeout: LIVE_MS });
    expect(await card.getAttribute('data-state')).toBe('on-sale');
    await expect.poll(() => card.locator('form').isVisible()).toBe(true);

    // Renamed and moved an hour later, on Berlin's clocks.
    await admin.updateEvent(event.id, { name: 'Harbour Concert (new time)', date: '2027-08-20T19:00:00Z' });
    await card.locator('.event-name', { hasText: 'Harbour Concert (new time)' }).waitFor({ timeout: LIVE_MS });
    await expect.poll(() => card.locator('time').getAttribute('datetime'), { timeout: LIVE_MS }).toBe('2027-08-20T19:00:00.000Z');
    expect(await card.locator('time').textContent()).toContain('21:00');
    expect(await card.getByRole('button').textContent()).toContain('for Harbour Concert (new time)');

    // Sales closed: said on the card, no form to fill in.
    await admin.updateEvent(event.id, { salesOpen: false });
    await card.locator('.event-state', { hasText: 'Sales are closed for now.' }).waitFor({ timeout: LIVE_MS });
    expect(await card.getAttribute('data-state')).toBe('closed');
    expect(await card.locator('form').isVisible()).toBe(false);

    // Reopened: the form is back.
    await admin.updateEvent(event.id, { salesOpen: true });
    await page.locator(`li.event[data-event-id="${event.id}"][data-state="on-sale"]`).waitFor({ timeout: LIVE_MS });
    await expect.poll(() => card.locator('form').isVisible()).toBe(true);
    expect(await card.locator('.event-state').isVisible()).toBe(false);

    // Cancelled: the card says so, not "sold out", and offers nothing.
    await admin.cancelEvent(event.id);
    await card.locator('.event-state', { hasText: 'Cancelled by the organiser.' }).waitFor({ timeout: LIVE_MS });
    expect(await card.getAttribute('data-state')).toBe('closed');
    expect(await card.locator('form').isVisible()).toBe(false);
    expect(await card.locator('.availability').textContent()).not.toMatch(/sold out/i);

    expect(navigations).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
