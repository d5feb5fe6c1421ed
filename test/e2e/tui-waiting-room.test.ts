/**
 * Issue 13, the buyer's `boxoffice client` waiting room in a real 80×24 terminal (tmux) against the
 * built server: the countdown, joining, quitting and starting again keeps the place (the entry file in
 * the client's data dir), the order drawn at the opening, the turn coming and the hold form following
 * with the pass, then buying. A scripted buyer (its own address through --trust-proxy) shares the line.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { REPO_ROOT, killAllProcesses, startServerProcess, TEST_ADMIN_TOKEN, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { TmuxServer } from './tui-terminal.js';

const tmp = tempDir('boxoffice-e2e-tui-room-');
const tmux = new TmuxServer();
let server: ServerProcess;
// Long enough to join, restart the client and join again before the sale; the test then opens the
// sale itself (PATCH onSaleAt), as an organiser may, instead of waiting the rest out.
const LEAD_MS = 60_000;
const SCREENSHOTS = resolve(REPO_ROOT, process.env.BOXOFFICE_SCREENSHOTS_DIR ?? join('test-results', 'screenshots'));
mkdirSync(SCREENSHOTS, { recursive: true });

beforeAll(async () => {
  server = await startServerProcess({ dataDir: `${tmp.dir}/server`, args: ['--trust-proxy'] });
});
afterAll(async () => {
  tmux.kill();
  await killAllProcesses();
  tmp.cleanup();
});

describe('boxoffice client: the waiting room in a terminal', () => {
  it('joins before the sale, keeps the place across a restart, and books with the pass when its turn comes', async () => {
    const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: TEST_ADMIN_TOKEN });
    const onSaleAt = new Date(Date.now() + LEAD_MS).toISOString();
    const event = await admin.createEvent({
      name: 'Room Gig',
      date: '2027-06-12T19:30:00Z',
      timeZone: 'Europe/Berlin',
      totalTickets: 2,
      maxTicketsPerBooking: 1,
      waitingRoom: true,
      onSaleAt,
      queueWindow: 1,
    });
    const args = ['client', '--port', String(server.port), '--host', '127.0.0.1', '--data-dir', `${tmp.dir}/client`];

    let term = tmux.open(args);
    await term.waitFor('Main menu');
    term.keys('Enter');
    await term.waitFor('Room Gig');
    term.keys('Enter');
    let screen = await term.waitFor('waiting room');
    expect(screen).toMatch(/Sales open at .* in 0:\d\d/);
    term.keys('Enter');
    screen = await term.waitFor("You're in the line.");
    writeFileSync(join(SCREENSHOTS, 'tui-waiting-room.txt'), screen.replace(/\s+$/gm, ''));
    const saved = JSON.parse(readFileSync(`${tmp.dir}/client/queue-entries.json`, 'utf8')) as Record<string, { id: string; eventId: string }>;
    const entryId = Object.values(saved).find((e) => e.eventId === event.id)?.id;
    expect(entryId).toBeTruthy();

    // Quit and start again: the place is still there, without joining again.
    term.keys('Escape');
    await term.waitFor('type to filter');
    term.keys('Escape');
    await term.waitFor('Main menu');
    term.keys('q');
    await term.waitFor(() => term.exitCode() !== undefined);
    term = tmux.open(args);
    await term.waitFor('Main menu');
    term.keys('Enter');
    await term.waitFor('Room Gig');
    term.keys('Enter');
    await term.waitFor("You're in the line.");

    // Another buyer, from another address, joins before the sale and books when its turn comes.
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': '10.0.1.1' };
    const other = (await (await fetch(`${server.url}/events/${event.id}/queue`, { method: 'POST', headers, body: '{}' })).json()) as { id: string; token: string };
    expect(Date.now()).toBeLessThan(Date.parse(onSaleAt));
    let stop = false;
    const otherBuys = (async () => {
      while (!stop) {
        const e = (await (await fetch(`${server.url}/events/${event.id}/queue/${other.id}`, { headers: { 'queue-token': other.token, 'x-forwarded-for': '10.0.1.1' } })).json()) as { state: string; pass: string | null };
        if (e.state === 'admitted' && e.pass) {
          const res = await fetch(`${server.url}/events/${event.id}/bookings`, { method: 'POST', headers: { ...headers, 'admission-pass': e.pass, 'idempotency-key': `tui-room-${other.id}` }, body: JSON.stringify({ tickets: 1 }) });
          return res.status;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      return 0;
    })();

    // The sale opens: a place, then the turn, and the hold form follows by itself.
    await admin.updateEvent(event.id, { onSaleAt: new Date(Date.now() + 1000).toISOString() });
    screen = await term.waitFor(/Your place: \d|How many tickets\?/, { timeoutMs: 20_000 });
    await term.waitFor('How many tickets?', { timeoutMs: 30_000 });
    term.keys('Enter');
    await term.waitFor('1 ticket held for you');
    term.keys('Enter');
    screen = await term.waitFor('Keep the secret');
    expect(screen).toContain('Booked 1 ticket for Room Gig');

    expect(await otherBuys).toBe(201);
    stop = true;
    const after = await admin.getEvent(event.id);
    expect(after.availableTickets + after.heldTickets).toBe(0);
    // The same entry all along: the file still names the place joined before the restart.
    const kept = JSON.parse(readFileSync(`${tmp.dir}/client/queue-entries.json`, 'utf8')) as Record<string, { id: string; eventId: string }>;
    expect(Object.values(kept).find((e) => e.eventId === event.id)?.id).toBe(entryId);
  }, 120_000);
});
