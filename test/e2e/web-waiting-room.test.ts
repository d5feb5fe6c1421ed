/**
 * Issue 13, the buyer's waiting room in the web box office, in the machine's Chromium against the
 * built server (`npm run build` first): the countdown before the sale, joining, a reload keeping the
 * place, the order drawn at the opening, the place moving while the buyers ahead book, the turn
 * coming with a pass that the hold carries, and a buyer at the back told "sold out" when the last
 * ticket goes. Buyers are told apart by address: the server trusts X-Forwarded-For (--trust-proxy),
 * and every browser context and scripted buyer sends its own.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchChromium } from '../helpers/browser.js';
import { REPO_ROOT, TEST_ADMIN_TOKEN, killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { postEvent } from './booking-load.js';

const SCREENSHOTS = resolve(REPO_ROOT, process.env.BOXOFFICE_SCREENSHOTS_DIR ?? join('test-results', 'screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });

interface Entry {
  id: string;
  token: string;
  state: string;
  position: number | null;
  pass: string | null;
}

/** How long before the opening the test starts: enough to join and reload before the sale. */
const LEAD_MS = 12_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeBrowser('web waiting room in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let cleanup: () => void;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const dir = tempDir('boxoffice-web-room-');
    cleanup = dir.cleanup;
    [server, browser] = await Promise.all([startServerProcess({ dataDir: dir.dir, args: ['--trust-proxy'] }), launchChromium()]);
  });

  afterAll(async () => {
    await browser?.close();
    await killAllProcesses();
    cleanup?.();
  });

  /** A buyer's browser on a phone-sized screen, from its own address. */
  async function buyerPage(address: string): Promise<Page> {
    const context = await browser.newContext({
      viewport: { width: 390, height: 900 },
      locale: 'en-GB',
      timezoneId: 'America/New_York',
      extraHTTPHeaders: { 'x-forwarded-for': address },
    });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    return page;
  }

  /** A scripted buyer: joins, waits for its turn by polling its entry, books one ticket with the pass. */
  async function scriptedBuyer(eventId: string, address: string, stop: { done: boolean }): Promise<{ wait: () => Promise<Entry> }> {
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': address };
    const joined = await fetch(`${server.url}/events/${eventId}/queue`, { method: 'POST', headers, body: '{}' });
    expect([200, 201]).toContain(joined.status);
    let entry = (await joined.json()) as Entry;
    return {
      // The caller starts the wait once everyone has joined.
      wait: async () => {
        while (!stop.done) {
          const res = await fetch(`${server.url}/events/${eventId}/queue/${entry.id}`, { headers: { 'queue-token': entry.token, 'x-forwarded-for': address } });
          entry = (await res.json()) as Entry;
          if (entry.state === 'admitted' && entry.pass) {
            const booked = await fetch(`${server.url}/events/${eventId}/bookings`, {
              method: 'POST',
              headers: { ...headers, 'admission-pass': entry.pass, 'idempotency-key': `room-${entry.id}` },
              body: JSON.stringify({ tickets: 1 }),
            });
            expect(booked.status, await booked.clone().text()).toBe(201);
            return entry;
          }
          if (entry.state !== 'waiting') return entry;
          await sleep(250);
        }
        return entry;
      },
    };
  }

  it('countdown, join, reload keeps the place, the line moves, the turn comes with a pass, and the back of the line hears sold out', async () => {
    const onSaleAt = new Date(Date.now() + LEAD_MS).toISOString();
    // One ticket per buyer, five tickets: four scripted buyers and the browser's buyer join before
    // the sale and buy the lot; a sixth, joining after the opening, stands at the back.
    const event = await postEvent<{ id: string }>(server.url, {
      name: 'Big Night',
      date: '2027-03-12T19:30:00Z',
      timeZone: 'Europe/Berlin',
      totalTickets: 5,
      maxTicketsPerBooking: 1,
      waitingRoom: true,
      onSaleAt,
      queueWindow: 1,
    });
    const card = (page: Page) => page.locator(`li.event[data-event-id="${event.id}"]`);

    const page = await buyerPage('10.0.0.1');
    // Before the sale: the countdown, and the line is open to join.
    await card(page).getByText(/Sales open at/).waitFor();
    await expect.poll(() => card(page).locator('.room-clock').textContent()).toMatch(/^0:\d\d$/);
    await expect.poll(() => card(page).locator('form').isHidden()).toBe(true);
    await page.screenshot({ path: join(SCREENSHOTS, 'waiting-room-countdown.png'), fullPage: true });

    await card(page).getByRole('button', { name: /Join the line/ }).click();
    await card(page).getByText("You're in the line.").waitFor();
    const remembered = async () => ((await page.evaluate('JSON.parse(localStorage.getItem("boxoffice.queue"))')) as Record<string, Entry>)[event.id]?.id;
    const entryId = await remembered();
    expect(entryId).toBeTruthy();

    // A reload keeps the same place (the entry is remembered on this device).
    await page.reload();
    await card(page).getByText("You're in the line.").waitFor();
    expect(await remembered()).toBe(entryId);

    const stop = { done: false };
    const scripted = await Promise.all(['10.0.1.1', '10.0.1.2', '10.0.1.3', '10.0.1.4'].map((a) => scriptedBuyer(event.id, a, stop)));
    expect(Date.now()).toBeLessThan(Date.parse(onSaleAt)); // everyone above joined before the sale

    // The sale opens: the order is drawn and the page learns the buyer's place (the first place is
    // let in at once: the window is one buyer).
    const placeOf = async () => ((await page.evaluate('JSON.parse(localStorage.getItem("boxoffice.queue"))')) as Record<string, Entry>)[event.id]?.position ?? null;
    await expect.poll(placeOf, { timeout: LEAD_MS + 10_000 }).not.toBeNull();
    const place = (await placeOf())!;
    expect(place).toBeGreaterThanOrEqual(1);
    expect(place).toBeLessThanOrEqual(5);
    if (place > 1) await card(page).getByText(`Your place in line: ${place}.`).waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'waiting-room-in-line.png'), fullPage: true });

    // A latecomer joins after the opening: the back of the line, behind all five.
    const late = await buyerPage('10.0.0.2');
    await card(late).getByRole('button', { name: /Join the line/ }).click();
    await card(late).getByText('Your place in line: 6.').waitFor();

    // The buyers ahead book one by one; the browser's place moves (when there is anyone ahead).
    const aheadSeen = new Set<number>();
    const watch = setInterval(() => {
      void card(page)
        .locator('.room-place')
        .textContent()
        .then((t) => {
          const m = /^(\d+) (?:person|people) ahead|^You are next/.exec(t ?? '');
          if (m) aheadSeen.add(Number(m[1] ?? 0));
        }, () => {});
    }, 100);
    // Nobody ahead books until the scripted buyers start: the count shown first is the starting one.
    if (place > 1) await expect.poll(() => aheadSeen.size).toBe(1);
    const waits = scripted.map((b) => b.wait());
    await card(page).getByText("It's your turn").waitFor({ timeout: 30_000 });
    clearInterval(watch);
    // Place 3 or later has someone waiting ahead; each of them takes a poll and a booking, longer
    // than the stream's coalescing, so the count is seen going down before the turn.
    if (place > 2) expect(Math.min(...aheadSeen)).toBeLessThan(Math.max(...aheadSeen));
    await page.screenshot({ path: join(SCREENSHOTS, 'waiting-room-your-turn.png'), fullPage: true });

    // The hold carries the pass; then the usual countdown and Buy.
    await card(page).getByRole('spinbutton').fill('1');
    await card(page).getByRole('spinbutton').press('Enter');
    await page.getByRole('button', { name: 'Buy these tickets' }).click();
    await page.locator('#tickets').waitFor({ state: 'visible' });

    const ended = await Promise.all(waits);
    stop.done = true;
    expect(ended.every((e) => e.state === 'admitted' || e.state === 'done')).toBe(true);
    const after = (await (await fetch(`${server.url}/events/${event.id}`)).json()) as { availableTickets: number; heldTickets: number };
    expect(after.availableTickets + after.heldTickets).toBe(0);

    // The last ticket went: the latecomer is told at once, without waiting for a turn.
    await card(late).locator('.room-status', { hasText: 'Sold out' }).waitFor({ timeout: 5_000 });
    await late.screenshot({ path: join(SCREENSHOTS, 'waiting-room-sold-out.png'), fullPage: true });

    // A hold without a pass is refused with the API's words (nobody books around the line).
    const refused = await fetch(`${server.url}/events/${event.id}/holds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.9.9' },
      body: JSON.stringify({ tickets: 1 }),
    });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
  }, 90_000);

  it('the admin page turns the room on for an event and shows its line, with pause and resume', async () => {
    const event = await postEvent<{ id: string }>(server.url, { name: 'Organised Night', date: '2027-04-01T19:30:00Z', timeZone: 'Europe/Berlin', totalTickets: 20 });
    const context = await browser.newContext({ viewport: { width: 1100, height: 1400 }, locale: 'en-GB', timezoneId: 'Europe/Berlin' });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use this token' }).click();
    await page.locator('#token-status[data-ok="true"]').waitFor();
    await page.locator('#manage-event').selectOption(event.id);
    await page.locator('#queue-state', { hasText: 'No waiting room' }).waitFor();

    // Turned on in the edit form, with a sale time a minute ahead (on the event's clocks).
    const inAMinute = new Date(Date.now() + 60_000);
    const wall = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(inAMinute).replace(' ', 'T');
    await page.locator('#edit-on-sale-at').fill(wall);
    await page.locator('#edit-waiting-room').check();
    await page.locator('#edit-queue-window').fill('3');
    await page.locator('#edit-form').getByRole('button', { name: 'Save changes' }).click();
    await page.locator('#edit-status', { hasText: 'Saved' }).waitFor();
    const saved = (await (await fetch(`${server.url}/events/${event.id}`)).json()) as { waitingRoom: boolean; queueWindow: number; onSaleAt: string };
    expect(saved.waitingRoom).toBe(true);
    expect(saved.queueWindow).toBe(3);
    expect(Math.abs(Date.parse(saved.onSaleAt) - inAMinute.getTime())).toBeLessThan(60_000);

    // A buyer joins: the panel counts them; pause and resume answer with the line.
    const joined = await fetch(`${server.url}/events/${event.id}/queue`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '10.0.2.1' }, body: '{}' });
    expect(joined.status).toBe(201);
    await page.locator('#queue-numbers [data-key="length"] dd', { hasText: '1 buyer' }).waitFor();
    await page.getByRole('button', { name: 'Pause the line' }).click();
    await page.locator('#queue-state', { hasText: 'paused' }).waitFor();
    await page.locator('#queue-panel').screenshot({ path: join(SCREENSHOTS, 'waiting-room-admin.png') });
    await page.getByRole('button', { name: 'Resume the line' }).click();
    await page.getByRole('button', { name: 'Pause the line' }).waitFor();
  }, 60_000);
});
