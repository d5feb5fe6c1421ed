/**
 * Issue 17, "buyers keep their tickets": the booking page (id and secret in the URL fragment), the
 * bookings this device remembers, cancelling from the booking page, a wrong secret. In the machine's
 * Chromium against the built binary (`npm run build` first).
 */
import { mkdirSync } from 'node:fs';
import { join as joinPath, resolve } from 'node:path';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchChromium } from '../helpers/browser.js';
import { REPO_ROOT, killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { postEvent } from './booking-load.js';

const SCREENSHOTS = resolve(REPO_ROOT, process.env.BOXOFFICE_SCREENSHOTS_DIR ?? joinPath('test-results', 'screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });

interface ApiEvent {
  id: string;
  name: string;
}

/** Every file the server wrote under its data dir (logs included), as text. */
function everythingWritten(dir: string): string {
  let text = '';
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) text += everythingWritten(path);
    else if (/\.(log|txt|json)$|log/.test(name)) text += readFileSync(path, 'latin1');
  }
  return text;
}

describeBrowser('web booking page in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let dataDir: string;
  let cleanup: () => void;

  beforeAll(async () => {
    const dir = tempDir('boxoffice-web-booking-');
    cleanup = dir.cleanup;
    dataDir = dir.dir;
    [server, browser] = await Promise.all([startServerProcess({ dataDir }), launchChromium()]);
    context = await browser.newContext({ viewport: { width: 1100, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/London' });
  });

  afterAll(async () => {
    await browser?.close();
    await killAllProcesses();
    cleanup?.();
  });

  const createEvent = (body: Record<string, unknown>) => postEvent<ApiEvent>(server.url, { date: '2027-03-12T19:30:00Z', ...body });

  const availableOf = async (id: string) => ((await (await fetch(`${server.url}/events/${id}`)).json()) as { availableTickets: number }).availableTickets;

  /** Holds and buys `tickets` on the box office page; answers the booking page's address. */
  async function buy(page: Page, eventId: string, tickets: number): Promise<string> {
    const input = page.locator(`li.event[data-event-id="${eventId}"]`).getByRole('spinbutton');
    await input.fill(String(tickets));
    await input.press('Enter');
    await page.getByRole('button', { name: 'Buy these tickets' }).click();
    await page.locator('#tickets').waitFor({ state: 'visible' });
    return (await page.locator('#booking-link').getAttribute('href'))!;
  }

  it('the confirmation links to a booking page that survives reloads; the box office remembers the booking', async () => {
    // In New York (the browser is in London): the booking page shows New York's time, labelled.
    const event = await createEvent({ name: 'Kept Tickets', totalTickets: 10, timeZone: 'America/New_York' });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${server.url}/`);
    const link = await buy(page, event.id, 2);
    const url = new URL(link);
    expect(url.pathname).toBe('/booking');
    expect(url.search).toBe('');
    const fragment = new URLSearchParams(url.hash.slice(1));
    const bookingId = fragment.get('id')!;
    const secret = fragment.get('secret')!;
    expect(secret).toBe(await page.locator('#booking-secret').textContent());

    // A reload of the box office: the booking is listed under "Your bookings", with its page.
    await page.reload();
    const mine = page.locator(`#mine-list li[data-booking-id="${bookingId}"]`);
    await mine.waitFor();
    expect(await mine.textContent()).toContain('2 tickets for Kept Tickets');
    await mine.getByRole('link').click();
    await page.waitForURL(/\/booking#/);

    // The booking page shows both tickets with their signed codes as QR codes, and again after a reload.
    for (let round = 0; round < 2; round++) {
      if (round === 1) await page.reload();
      await page.locator('#booking-body').waitFor({ state: 'visible' });
      expect(await page.locator('#booking-state').textContent()).toContain('valid');
      const tickets = page.locator('#ticket-list li');
      expect(await tickets.count()).toBe(2);
      await page.locator('#ticket-list svg.qr').nth(1).waitFor();
      for (let i = 0; i < 2; i++) expect(await tickets.nth(i).locator('svg.qr').getAttribute('data-qr')).toMatch(/^BO1\./);
      const summary = await page.locator('#booking-summary').textContent();
      expect(summary).toContain('Kept Tickets');
      // 19:30 UTC on 12 March 2027 is 14:30 in New York (EST), 19:30 in London.
      expect(summary).toMatch(/14:30/);
      expect(summary).toContain('(America/New York)');
    }
    await page.screenshot({ path: joinPath(SCREENSHOTS, 'web-booking-page.png'), fullPage: true, animations: 'disabled' });
    // The secret never left the browser: no request carried it, and nothing the server wrote has it.
    expect(requested.filter((u) => u.includes(secret))).toEqual([]);
    expect(server.stdout() + server.stderr() + everythingWritten(dataDir)).not.toContain(secret);
    await page.close();
  });

  it('cancelling from the booking page asks first, then returns the tickets to sale', async () => {
    const event = await createEvent({ name: 'Change of Plans', totalTickets: 10 });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const link = await buy(page, event.id, 3);
    expect(await availableOf(event.id)).toBe(7);
    await page.goto(link);
    await page.locator('#booking-body').waitFor({ state: 'visible' });

    await page.getByRole('button', { name: 'Cancel this booking…' }).click();
    // The safe answer has the focus: a stray Enter keeps the tickets.
    await page.locator('#cancel-no:focus').waitFor();
    await page.keyboard.press('Enter');
    await page.locator('#cancel-confirm').waitFor({ state: 'hidden' });
    expect(await availableOf(event.id)).toBe(7);

    await page.getByRole('button', { name: 'Cancel this booking…' }).click();
    await page.getByRole('button', { name: 'Yes, cancel every ticket' }).click();
    await page.locator('#booking-state', { hasText: 'Cancelled' }).waitFor();
    expect(await page.locator('#ticket-list li[data-status="cancelled"]').count()).toBe(3);
    expect(await page.locator('#cancel-box').isHidden()).toBe(true);
    expect(await availableOf(event.id)).toBe(10);

    // After a reload the page still says so.
    await page.reload();
    await page.locator('#booking-state', { hasText: 'cancelled' }).waitFor();
    await page.close();
  });

  it('a wrong secret in the address shows a clear message and changes nothing', async () => {
    const event = await createEvent({ name: 'Guarded', totalTickets: 10 });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const link = await buy(page, event.id, 1);
    const url = new URL(link);
    const params = new URLSearchParams(url.hash.slice(1));
    params.set('secret', 'not-the-secret-0123456789abcdefghij');
    await page.goto(`${server.url}/booking#${params}`);
    await page.locator('#booking-error', { hasText: 'does not match' }).waitFor();
    expect(await page.locator('#booking-body').isHidden()).toBe(true);
    expect(await availableOf(event.id)).toBe(9);
    // The remembered booking keeps its real secret.
    const kept = (await page.evaluate('JSON.parse(localStorage.getItem("boxoffice.bookings"))')) as { id: string; secret: string }[];
    expect(kept.find((b) => b.id === params.get('id'))?.secret).toBe(new URLSearchParams(url.hash.slice(1)).get('secret'));

    // An address without a booking in it says what is missing.
    await page.goto(`${server.url}/booking`);
    await page.locator('#booking-error', { hasText: 'does not name a booking' }).waitFor();
    await page.close();
  });

  it('on another device (nothing stored), the address alone brings back every ticket with its door code; a wrong secret is refused there too', async () => {
    const event = await createEvent({ name: 'Elsewhere', totalTickets: 10 });
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    const link = await buy(page, event.id, 2);
    const codes = await page.locator('#tickets .ticket-code').allTextContents();
    await page.close();
    expect(codes.filter((c) => c.startsWith('BO1.'))).toHaveLength(2);

    // A fresh browser profile: no localStorage, only the address.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const other = await phone.newPage();
    await other.goto(link);
    await other.locator('.ticket-code', { hasText: 'BO1.' }).first().waitFor();
    expect((await other.locator('.ticket-code').allTextContents()).sort()).toEqual([...codes].sort());
    expect(await other.locator('text=holds the ticket addresses').count()).toBe(0);

    const params = new URLSearchParams(new URL(link).hash.slice(1));
    params.set('secret', 'not-the-secret-0123456789abcdefghij');
    await other.goto(`${server.url}/booking#${params}`);
    await other.reload();
    await other.locator('#booking-error', { hasText: 'does not match' }).waitFor();
    expect(await other.locator('#booking-body').isHidden()).toBe(true);
    expect(await availableOf(event.id)).toBe(8);
    await phone.close();
  });
});
