/**
 * No cross-site bookings (issue 15, item 3), in Debian's Chromium against the built binary (run
 * `npm run build` first). Pages served from other loopback origins (127.0.0.2: another site;
 * 127.0.0.1 on another port: the same site, another origin) make the visitor's browser post to
 * `/reserve` as the reproduction did: three `no-cors` fetches and a plain HTML form. None
 * may take a ticket. The server's own box office, same origin, must still book.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeBrowser, launchChromium } from '../helpers/browser.js';
import { killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { postEvent } from './booking-load.js';

const TICKETS_PER_REQUEST = 10;

/**
 * The attacker's site: `/` is an empty page (its script is run by the test, in the page), `/form?action=URL`
 * a page whose form posts to URL as soon as it loads, with no field, as the issue describes.
 */
async function startAttackerSite(host: string): Promise<{ origin: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const action = url.searchParams.get('action') ?? '';
    const escaped = action.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
    const body =
      url.pathname === '/form'
        ? `<!doctype html><title>win a prize</title><form method="post" action="${escaped}"></form><script>document.forms[0].submit()</script>`
        : '<!doctype html><title>win a prize</title><p>Nothing to see here.</p>';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describeBrowser('no cross-site bookings in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let cleanup: () => void;
  const sites: Array<{ origin: string; close: () => Promise<void> }> = [];

  beforeAll(async () => {
    const dir = tempDir('boxoffice-xsite-');
    cleanup = dir.cleanup;
    const [started, launched, crossSite, sameSite] = await Promise.all([
      startServerProcess({ dataDir: dir.dir }),
      launchChromium(),
      startAttackerSite('127.0.0.2'),
      startAttackerSite('127.0.0.1'),
    ]);
    server = started;
    browser = launched;
    sites.push(crossSite, sameSite);
    context = await browser.newContext();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all(sites.map((s) => s.close()));
    await killAllProcesses();
    cleanup?.();
  });

  const createEvent = async (totalTickets: number, on: ServerProcess = server) => (await postEvent(on.url, { name: 'Cross-site target', totalTickets })).id;

  const available = async (id: string, on: ServerProcess = server) =>
    ((await (await fetch(`${on.url}/events/${id}`)).json()) as { availableTickets: number }).availableTickets;

  it('pages on another site or another origin take no ticket: three no-cors fetches and a form post each', async () => {
    const eventId = await createEvent(200);
    const target = `${server.url}/reserve?eventId=${eventId}&tickets=${TICKETS_PER_REQUEST}`;
    const statuses: number[] = [];
    for (const site of sites) {
      const page: Page = await context.newPage();
      // What the server answered, seen from the browser's side (the page itself only gets an opaque answer).
      page.on('response', (r) => {
        if (r.url().startsWith(`${server.url}/reserve`)) statuses.push(r.status());
      });
      await page.goto(`${site.origin}/`);
      const outcomes = await page.evaluate(async (url) => {
        const one = () => fetch(url, { method: 'POST', mode: 'no-cors' }).then((r) => r.type, (e: Error) => `failed: ${e.message}`);
        return Promise.all([one(), one(), one()]);
      }, target);
      // The browser sent them: they reached the server, whose answers the page cannot read.
      expect(outcomes).toEqual(['opaque', 'opaque', 'opaque']);

      const formAnswer = page.waitForResponse((r) => r.url().startsWith(`${server.url}/reserve`) && r.request().method() === 'POST');
      await page.goto(`${site.origin}/form?action=${encodeURIComponent(target)}`);
      const answer = await formAnswer;
      expect(answer.request().headers()['content-type']).toBe('application/x-www-form-urlencoded');
      await page.close();
    }
    const taken = 200 - (await available(eventId));
    console.log(`[cross-site] ${sites.length} sites × (3 no-cors fetches + 1 form) × ${TICKETS_PER_REQUEST} tickets: ${taken} taken; server answered ${statuses.join(', ')}`);
    expect(statuses).toHaveLength(sites.length * 4);
    expect(taken).toBe(0);
    expect(statuses.every((s) => s === 403)).toBe(true);
  });

  it('the server\'s own box office, same origin, still holds and buys', async () => {
    const eventId = await createEvent(20);
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('.connection[data-state="live"]', { timeout: 10_000 });
    const card = page.locator(`li.event[data-event-id="${eventId}"]`);
    await card.waitFor();
    await card.getByLabel('Tickets').fill('2');
    const held = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/events/${eventId}/holds`));
    await card.getByLabel('Tickets').press('Enter');
    expect((await held).status()).toBe(201);
    const confirmed = page.waitForResponse((r) => r.request().method() === 'POST' && /\/holds\/[^/]+\/confirm$/.test(r.url()));
    await page.getByRole('button', { name: 'Buy these tickets' }).click();
    const answer = await confirmed;
    expect(answer.status()).toBe(201);
    // It was a browser request from this origin, and said so.
    expect(await answer.request().headerValue('origin')).toBe(server.url);
    await page.locator('#tickets').waitFor({ state: 'visible' });
    expect(await page.locator('#ticket-list li').count()).toBe(2);
    expect(await available(eventId)).toBe(18);
    await page.close();
  });

  it('the origin named by --cors-origin may book from its own site, with CORS; other sites still may not', async () => {
    const [trustedSite, otherSite] = sites;
    const dir = tempDir('boxoffice-xsite-cors-');
    const partner = await startServerProcess({ dataDir: dir.dir, args: ['--cors-origin', trustedSite!.origin] });
    try {
      const eventId = await createEvent(50, partner);
      const page = await context.newPage();
      await page.goto(`${trustedSite!.origin}/`);
      // A JSON POST from another origin: the browser asks first (preflight), then sends it; the page may read the answer.
      const booked = await page.evaluate(async (url) => {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tickets":3}' });
        return { status: res.status, tickets: ((await res.json()) as { tickets: unknown[] }).tickets.length };
      }, `${partner.url}/events/${eventId}/bookings`);
      expect(booked).toEqual({ status: 201, tickets: 3 });
      await page.goto(`${otherSite!.origin}/`);
      const status = page.waitForResponse((r) => r.url().startsWith(`${partner.url}/reserve`));
      await page.evaluate((url) => fetch(url, { method: 'POST', mode: 'no-cors' }).then(() => undefined), `${partner.url}/reserve?eventId=${eventId}&tickets=10`);
      expect((await status).status()).toBe(403);
      expect(await available(eventId, partner)).toBe(47);
      await page.close();
    } finally {
      partner.kill();
      await partner.waitForExit();
      dir.cleanup();
    }
  });
});
