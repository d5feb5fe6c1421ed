/** The admin TUI's "Cancel event": asked first with "No" focused; "Yes" cancels every booking and the screen says so. */
import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { AdminApp } from '../../src/tui/admin-app.js';
import { RemoteBackend } from '../../src/tui/backends/remote.js';
import { LogTail } from '../../src/tui/log-tail.js';
import { ADMIN_TOKEN, startApp } from '../helpers/app.js';
import { frame, KEYS, press, renderUi } from './helpers.js';

type App = Awaited<ReturnType<typeof startApp>>;
const servers: App[] = [];
afterEach(async () => {
  cleanup();
  for (const s of servers.splice(0)) await s.close().catch(() => {});
});

describe('cancelling an event in the admin TUI', () => {
  it('Enter on "Cancel event" asks; Enter keeps it; → then Enter cancels it, and the screen shows it cancelled', async () => {
    const server = await startApp();
    servers.push(server);
    const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: ADMIN_TOKEN });
    const event = await admin.createEvent({ name: 'Doomed Gig', date: '2027-05-01T18:00:00Z', totalTickets: 10 });
    await admin.book(event.id, 3);
    const tail = new LogTail();
    const r = renderUi(<AdminApp backend={new RemoteBackend(admin, pino({ level: 'info' }, tail), '--token')} tail={tail} />);
    await frame(r, 'Main menu');
    press(r, KEYS.enter);
    await frame(r, 'type to filter');
    press(r, ...'Doomed Gig');
    await frame(r, '› Doomed Gig');
    press(r, KEYS.enter);
    await frame(r, 'Edit details');
    for (let i = 0; i < 3; i++) press(r, KEYS.down);
    await frame(r, '› Cancel event');
    press(r, KEYS.enter);
    await frame(r, '⚠ Cancel Doomed Gig?');
    press(r, KEYS.enter);
    await frame(r, (f) => !f.includes('⚠ Cancel Doomed Gig?') && f.includes('Edit details'));
    expect((await admin.getEvent(event.id)).status).toBe('scheduled');
    // Typed in one burst, as a fast typist sends it.
    press(r, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
    await frame(r, '⚠ Cancel Doomed Gig?');
    press(r, KEYS.right);
    await frame(r, /›\s+Yes, cancel the event/);
    press(r, KEYS.enter);
    const done = await frame(r, 'CANCELLED');
    expect(done).not.toContain('Edit details');
    expect((await admin.getEvent(event.id)).status).toBe('cancelled');
    expect(done).toMatch(/Cancelled Doomed Gig/);
  });
});
