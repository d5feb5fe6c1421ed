/**
 * The web door page (/door, issue 14) in Debian's Chromium against the built server: manual entry
 * admits in green, a repeat is refused in red naming the door, a forged code is refused; with the
 * browser offline the page admits on its own (WebCrypto Ed25519) and uploads the scan when back;
 * and Chromium's fake camera, fed a video of a ticket's QR code, admits it through jsQR.
 * `BOXOFFICE_SCREENSHOTS_DIR=docs/screenshots` saves the PNG the README shows.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { CHROMIUM_PATH, describeBrowser, launchChromium } from '../helpers/browser.js';
import { writeQrVideo } from '../helpers/qr-video.js';
import { REPO_ROOT, TEST_ADMIN_TOKEN, killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const SCREENSHOTS = resolve(REPO_ROOT, process.env.BOXOFFICE_SCREENSHOTS_DIR ?? join('test-results', 'screenshots'));

describeBrowser('web door page in a real browser', () => {
  let server: ServerProcess;
  let browser: Browser;
  let admin: BoxofficeClient;
  const tmp = tempDir('boxoffice-web-door-');

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    [server, browser] = await Promise.all([startServerProcess({ dataDir: `${tmp.dir}/server` }), launchChromium()]);
    admin = new BoxofficeClient({ baseUrl: server.url, adminToken: TEST_ADMIN_TOKEN });
  });
  afterAll(async () => {
    await browser?.close();
    await killAllProcesses();
    tmp.cleanup();
  });

  async function openDoor(b: Browser, token: string): Promise<{ page: Page; problems: string[] }> {
    const context = await b.newContext({ viewport: { width: 480, height: 900 }, locale: 'en-GB', timezoneId: 'Europe/London' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${server.url}/door`);
    await page.getByLabel("This door's token").fill(token);
    await page.getByRole('button', { name: 'Start scanning' }).click();
    await page.locator('.connection[data-state="online"]').waitFor({ timeout: 10_000 });
    return { page, problems };
  }

  async function enter(page: Page, code: string): Promise<void> {
    await page.getByLabel('Ticket code').fill(code);
    await page.getByLabel('Ticket code').press('Enter');
  }

  const headline = (page: Page, text: string | RegExp, kind: 'admitted' | 'refused') =>
    page.locator(`#answer[data-kind="${kind}"] #answer-headline`, { hasText: text }).waitFor({ timeout: 10_000 });

  it('admits by manual entry, refuses a repeat with the door name and a forgery, admits offline and syncs', async () => {
    const event = await admin.createEvent({ name: 'Web Door Night', date: '2027-06-12T19:30:00Z', totalTickets: 10, offlineCheckIn: true });
    const booking = await admin.book(event.id, 2);
    const [first, second] = booking.tickets;
    const door = await admin.createDoor(event.id, 'North door');
    const { page, problems } = await openDoor(browser, door.token);
    expect(await page.locator('#event-title').textContent()).toContain('Web Door Night');
    // The token is kept for this tab only, and never in the address.
    expect(page.url()).not.toContain(door.token);
    const stored = await page.evaluate(() => JSON.stringify((globalThis as unknown as { localStorage: Record<string, string> }).localStorage));
    expect(stored).not.toContain(door.token.slice(-43));

    await enter(page, first!.code!);
    await headline(page, 'ADMITTED', 'admitted');
    expect(await page.locator('#counts').textContent()).toContain('Admitted here: 1');
    await enter(page, first!.code!);
    await headline(page, /^ALREADY IN — \d\d:\d\d North door$/, 'refused');
    await page.screenshot({ path: join(SCREENSHOTS, 'door-web.png'), fullPage: true, animations: 'disabled' });
    const code = second!.code!;
    await enter(page, code.slice(0, 100) + (code[100] === 'A' ? 'B' : 'A') + code.slice(101));
    await headline(page, 'FORGED', 'refused');

    // Offline: the browser loses the network; the page verifies and queues.
    await page.context().setOffline(true);
    await enter(page, second!.code!);
    await headline(page, 'ADMITTED', 'admitted');
    expect(await page.locator('#answer-detail').textContent()).toContain('offline, will sync');
    expect(await page.locator('#answer-detail').textContent()).not.toContain('NOT checked');
    await page.locator('.connection[data-state="offline"]').waitFor();
    expect(await page.locator('#counts').textContent()).toContain('1 to sync');
    await enter(page, second!.code!);
    await headline(page, /^ALREADY IN/, 'refused');
    // A forgery is refused offline too: the signature is checked on the phone.
    await enter(page, code.slice(0, 100) + (code[100] === 'A' ? 'B' : 'A') + code.slice(101));
    await headline(page, 'FORGED', 'refused');

    await page.context().setOffline(false);
    await page.locator('.connection[data-state="online"]').waitFor({ timeout: 20_000 });
    await page.locator('#counts', { hasText: /^Admitted here: 2 · checked in: 2$/ }).waitFor({ timeout: 20_000 });
    const report = await admin.checkins(event.id);
    expect(report.checkedIn).toBe(2);
    expect(report.recent.find((r) => r.ticketId === second!.id && r.outcome === 'admitted')?.offline).toBe(true);
    expect(problems.filter((p) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|409|400/.test(p))).toEqual([]);
  });

  it('admits nobody without the server when the organiser does not allow offline', async () => {
    const event = await admin.createEvent({ name: 'Strict Night', date: '2027-06-12T19:30:00Z', totalTickets: 10 });
    const [ticket] = (await admin.book(event.id, 1)).tickets;
    const door = await admin.createDoor(event.id, 'Strict door');
    const { page } = await openDoor(browser, door.token);
    expect(await page.locator('#offline-note').textContent()).toContain('Offline check-in is off');
    await page.context().setOffline(true);
    await enter(page, ticket!.code!);
    await headline(page, 'NOT ADMITTED — OFFLINE', 'refused');
    await page.locator('.connection[data-state="not-allowed"]').waitFor();
    expect(await page.locator('#counts').textContent()).toBe('Admitted here: 0 · checked in: 0');
    // Back online, the same ticket scanned again is admitted (the unanswered scan's nonce is reused).
    await page.context().setOffline(false);
    await enter(page, ticket!.code!);
    await headline(page, 'ADMITTED', 'admitted');
    expect((await admin.checkins(event.id)).checkedIn).toBe(1);
    await page.context().close();
  });

  it("admits a ticket shown to Chromium's fake camera (jsQR)", async () => {
    const event = await admin.createEvent({ name: 'Camera Night', date: '2027-06-12T19:30:00Z', totalTickets: 10 });
    const [ticket] = (await admin.book(event.id, 1)).tickets;
    const door = await admin.createDoor(event.id, 'Camera door');
    const video = join(tmp.dir, 'ticket.y4m');
    writeQrVideo(video, ticket!.code!);
    const camBrowser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`],
      timeout: 30_000,
    });
    try {
      const { page } = await openDoor(camBrowser, door.token);
      await page.getByRole('button', { name: 'Scan with camera' }).click();
      await headline(page, 'ADMITTED', 'admitted');
      expect(await page.locator('#answer-detail').textContent()).toContain(ticket!.id.slice(0, 8));
      expect((await admin.checkins(event.id)).checkedIn).toBe(1);
    } finally {
      await camBrowser.close();
    }
  });

  it('lets the organiser create a door (token once), see check-ins beside sales, conflicts, recent scans, revoke, and download the CSV', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 1400 }, locale: 'en-GB', timezoneId: 'Europe/London', acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${server.url}/admin`);
    await page.getByLabel('Admin token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Use this token' }).click();
    // The page has a create form and a manage form now: fill the one that creates.
    const create = page.getByRole('region', { name: 'Create an event' });
    await create.getByLabel('Name', { exact: true }).fill('Admin Door Night');
    await create.getByLabel('Date and time').fill('2030-01-01T20:00');
    await create.getByLabel('Total tickets').fill('10');
    await create.getByLabel('Doors may admit offline').first().check();
    await page.getByRole('button', { name: 'Create event' }).click();
    await page.locator('#create-status', { hasText: 'Admin Door Night' }).waitFor();
    const event = (await admin.listEvents()).find((e) => e.name === 'Admin Door Night')!;
    expect(event.offlineCheckIn).toBe(true);
    const checkin = page.getByRole('region', { name: 'Check-in at the door' });
    await checkin.getByLabel('Event', { exact: true }).selectOption(event.id);

    await checkin.getByLabel('New door').fill('East door');
    await checkin.getByRole('button', { name: 'Create door' }).click();
    await page.locator('#door-token-box:not([hidden])').waitFor();
    const token = await checkin.getByLabel('Door token').inputValue();
    expect(token).toMatch(/^bod_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/);
    await page.locator('#doors tbody tr', { hasText: 'East door' }).waitFor();

    // The door scans one ticket online; two doors admit another while apart (a conflict).
    const [t1, t2] = (await admin.book(event.id, 2)).tickets;
    const east = new BoxofficeClient({ baseUrl: server.url });
    await east.checkIn(event.id, t1!.code!, { token });
    const west = await admin.createDoor(event.id, 'West door');
    const at = new Date().toISOString();
    await east.syncScans(event.id, [{ code: t2!.code!, nonce: 'east-offline-nonce-0001', scannedAt: at }], { token });
    await east.syncScans(event.id, [{ code: t2!.code!, nonce: 'west-offline-nonce-0001', scannedAt: at }], { token: west.token });

    await checkin.getByRole('button', { name: 'Refresh' }).click();
    await page.locator('#checkin-summary', { hasText: '2 of 2 sold tickets checked in · 1 conflict' }).waitFor();
    await page.locator('#conflicts li', { hasText: `Ticket ${t2!.id}` }).waitFor();
    expect(await page.locator('#conflicts li').first().textContent()).toMatch(/East door.*\(offline\).*West door.*\(offline\)/);
    await page.locator('#recent li', { hasText: `admitted · ticket ${t1!.id.slice(0, 8)} · East door` }).waitFor();
    await page.locator(`#sales tr[data-event-id="${event.id}"] td.checked-in`, { hasText: '2' }).waitFor({ timeout: 5_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-checkin.png'), fullPage: true, animations: 'disabled' });

    const download = page.waitForEvent('download');
    await checkin.getByRole('button', { name: 'Download attendee list (CSV)' }).click();
    const csv = readFileSync((await (await download).path())!, 'utf8');
    // A BOM first (so spreadsheets read UTF-8), then the header; name and email since issue 17.
    expect(csv.replace(/^\ufeff/, '').split('\r\n')[0]).toBe('ticket_id,booking_id,booked_at,status,checked_in_at,door,name,email');
    expect(csv).toContain(`${t1!.id},`);

    page.once('dialog', (d) => void d.accept());
    await checkin.getByRole('button', { name: 'Revoke East door' }).click();
    await page.locator('#doors tbody tr', { hasText: /East door.*revoked/ }).waitFor();
    await expect(east.doorList(event.id, { token })).rejects.toMatchObject({ code: 'door_revoked' });
    expect(problems).toEqual([]);
    await context.close();
  });
});
