/**
 * Many buyers behind one address (an office, a campus, a carrier's NAT) share that address's live
 * stream places (`--max-streams-per-client`). A page refused a stream (429 too_many_streams) must
 * still show current availability: it polls the list (304 while unchanged) and says so.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchChromium } from '../helpers/browser.js';
import { TEST_ADMIN_TOKEN, killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

describeBrowser('a page refused a live stream', () => {
  let server: ServerProcess;
  let browser: Browser;
  let cleanup: () => void;
  beforeAll(async () => {
    const dir = tempDir('boxoffice-web-poll-');
    cleanup = dir.cleanup;
    [server, browser] = await Promise.all([startServerProcess({ dataDir: dir.dir, args: ['--max-streams-per-client', '1'] }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await killAllProcesses();
    cleanup?.();
  });

  it('polls the list instead, says so, and shows a sale made elsewhere', async () => {
    const created = await fetch(`${server.url}/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Office outing', date: '2027-03-12T19:30:00Z', totalTickets: 30 }),
    });
    const event = (await created.json()) as { id: string };
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(`${server.url}/`);
    await first.waitForSelector('.connection[data-state="live"]', { timeout: 10_000 });

    const second = await context.newPage();
    const refused = second.waitForResponse((r) => r.url().endsWith('/events/stream') && r.status() === 429);
    await second.goto(`${server.url}/`);
    await refused;
    await second.waitForSelector('.connection[data-state="polling"]', { timeout: 10_000 });
    expect(await second.locator('.connection').textContent()).toMatch(/refreshed every few seconds/);
    await second.locator(`li.event[data-event-id="${event.id}"][data-available="30"]`).waitFor({ timeout: 10_000 });

    const sold = await fetch(`${server.url}/events/${event.id}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tickets":4}' });
    expect(sold.status).toBe(201);
    // Within a few polls (3 s apart), both pages show it: the first live, the second by polling.
    await first.locator(`li.event[data-event-id="${event.id}"][data-available="26"]`).waitFor({ timeout: 5_000 });
    await second.locator(`li.event[data-event-id="${event.id}"][data-available="26"]`).waitFor({ timeout: 10_000 });

    // Once the stream place is free again, the second page goes live.
    await first.close();
    await second.waitForSelector('.connection[data-state="live"]', { timeout: 20_000 });
    await context.close();
  });
});
