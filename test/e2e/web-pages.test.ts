/**
 * Issue 17, "the web pages": refusals next to the control on a phone, the limit shown before it is
 * reached, sold-out cards without inputs, times in the event's zone with the browser in another, and
 * the content sent before (or without) the script. In the machine's Chromium against the built binary.
 */
import { mkdirSync } from 'node:fs';
import { join as joinPath, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHROMIUM_PATH, describeBrowser, launchChromium } from '../helpers/browser.js';
import { REPO_ROOT, killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { postEvent } from './booking-load.js';

const SCREENSHOTS = resolve(REPO_ROOT, process.env.BOXOFFICE_SCREENSHOTS_DIR ?? joinPath('test-results', 'screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });

interface ApiEvent {
  id: string;
  name: string;
  timeZone?: string;
}

describeBrowser('web box office pages (issue 17) in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let cleanup: () => void;

  beforeAll(async () => {
    const dir = tempDir('boxoffice-web-pages-');
    cleanup = dir.cleanup;
    [server, browser] = await Promise.all([startServerProcess({ dataDir: dir.dir }), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await killAllProcesses();
    cleanup?.();
  });

  const createEvent = (body: Record<string, unknown>) => postEvent<ApiEvent>(server.url, { date: '2027-03-12T19:30:00Z', ...body });

  it('on a phone, a refusal appears right under the field of the fourth card; limits are shown; sold-out cards have no inputs', async () => {
    const events: ApiEvent[] = [];
    for (let i = 1; i <= 5; i++) events.push(await createEvent({ name: `Phone Show ${i}`, date: `2027-04-0${i}T19:00:00Z`, totalTickets: 10, maxTicketsPerBooking: 4 }));
    const soldOut = await createEvent({ name: 'Phone Sold Out', date: '2027-04-03T20:00:00Z', totalTickets: 2 });
    const booked = await fetch(`${server.url}/events/${soldOut.id}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tickets":2}' });
    expect(booked.status).toBe(201);

    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const card = (id: string) => page.locator(`li.event[data-event-id="${id}"]`);
    await card(events[3]!.id).locator('input[name=tickets]').waitFor();

    // The limit is on every card before anyone reaches it.
    for (const e of events) expect(await card(e.id).locator('.limit').textContent()).toBe('Up to 4 tickets per booking.');
    // A sold-out card says so and offers nothing to fill in.
    expect(await card(soldOut.id).locator('.availability').textContent()).toBe('Sold out.');
    expect(await card(soldOut.id).locator('input:visible, button:visible').count()).toBe(0);

    const fourth = card(events[3]!.id);
    const input = fourth.locator('input[name=tickets]');
    await input.scrollIntoViewIfNeeded();
    await input.fill('9');
    await fourth.getByRole('button', { name: /Hold tickets/ }).tap();
    const error = fourth.locator('.field-error');
    await error.filter({ hasText: /from 1 to 4/ }).waitFor();
    // Right under the field, inside the screen the buyer is looking at.
    const field = (await input.boundingBox())!;
    const box = (await error.boundingBox())!;
    expect(box.y).toBeGreaterThan(field.y + field.height - 1);
    expect(box.y - (field.y + field.height)).toBeLessThan(120);
    // (Bounding boxes are measured from the top of the viewport.)
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(844);
    expect(await input.getAttribute('aria-invalid')).toBe('true');
    // Described by it, so a screen reader reads it with the field.
    const describedBy = (await input.getAttribute('aria-describedby'))!.split(' ');
    expect(describedBy).toContain(await error.getAttribute('id'));
    // The top-of-page message area stays empty: nothing to scroll up for.
    expect(await page.locator('#error').textContent()).toBe('');
    await page.screenshot({ path: joinPath(SCREENSHOTS, 'web-phone-error.png'), animations: 'disabled' });
    await context.close();
  });

  it('shows times in the event\'s zone with its label, with the browser in another zone (TZ=America/New_York)', async () => {
    const event = await createEvent({ name: 'Berlin Concert', date: '2027-03-12T19:00:00Z', timeZone: 'Europe/Berlin', totalTickets: 10 });
    expect(event.timeZone).toBe('Europe/Berlin');
    // Chromium takes its zone from TZ: a second browser, in New York.
    const ny = await chromium.launch({ executablePath: CHROMIUM_PATH!, args: ['--headless', '--no-sandbox', '--disable-gpu'], env: { ...process.env, TZ: 'America/New_York' } });
    try {
      const page = await ny.newPage({ locale: 'en-GB' });
      await page.goto(`${server.url}/`);
      expect(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone)).toBe('America/New_York');
      const date = page.locator(`li.event[data-event-id="${event.id}"]:not(.static) .event-date`);
      await date.waitFor();
      // 19:00 UTC is 20:00 in Berlin (CET), 14:00 in New York: the page says 20:00 and whose clock that is.
      const text = (await date.textContent())!;
      expect(text).toContain('20:00');
      expect(text).toContain('CET');
      expect(text).toContain('Europe/Berlin');
      expect(text).not.toContain('14:00');
    } finally {
      await ny.close();
    }
  });

  it('without JavaScript the page still lists the events on sale, their dates and availability', async () => {
    const event = await createEvent({ name: 'Plain <HTML> & Co', date: '2027-05-01T18:00:00Z', totalTickets: 12 });
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'en-GB' });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const item = page.locator(`li.event[data-event-id="${event.id}"]`);
    expect(await item.locator('.event-name').textContent()).toBe('Plain <HTML> & Co');
    expect(await item.locator('.availability').textContent()).toBe('12 of 12 tickets available.');
    expect(await item.locator('time').getAttribute('datetime')).toBe('2027-05-01T18:00:00.000Z');
    expect(await page.locator('noscript').count()).toBeGreaterThan(0);
    // An injected name stays text: no element was made from it.
    expect(await page.locator('li.event HTML').count()).toBe(0);
    await context.close();
  });
});
