/**
 * The organiser's Check-in screen (issue 14) in the admin app, in process around a real service:
 * create a door (its token shown once), see its scans beside sales, a conflict between two offline
 * doors, turn offline check-in on, revoke a door; and the same against a remote server over HTTP.
 */
import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { AdminApp } from '../../src/tui/admin-app.js';
import { InProcessBackend, type LocalServer } from '../../src/tui/backends/in-process.js';
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

async function openCheckin(r: ReturnType<typeof renderUi>, eventName: string) {
  await frame(r, 'Main menu');
  press(r, '4');
  await frame(r, 'type to filter');
  press(r, ...eventName);
  await frame(r, `› ${eventName}`);
  press(r, KEYS.enter);
  await frame(r, 'Recent scans');
}

describe('Check-in screen', () => {
  it('in process: creates a door with its token once, shows scans, a conflict, the offline switch and revocation', async () => {
    const tail = new LogTail();
    const logged: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => (logged.push(line), tail.write(line)) });
    let server: App | undefined;
    const backend = new InProcessBackend(async (): Promise<LocalServer> => {
      server = await startApp({ service: { logger } });
      servers.push(server);
      return { url: server.url, service: server.service, stop: () => server!.close() };
    }, 'http://127.0.0.1:0');
    const r = renderUi(<AdminApp backend={backend} tail={tail} />);
    await frame(r, 'Main menu');
    const service = server!.service;
    const event = await service.createEvent({ name: 'Door Gig', date: '2027-05-01T20:00:00Z', totalTickets: 10 });
    const booking = (await service.book(event.id, 3)).value;
    await openCheckin(r, 'Door Gig');
    expect(await frame(r, '0 of 3 sold checked in')).toContain('offline check-in off');
    await frame(r, 'No doors yet');

    press(r, 'n');
    await frame(r, 'New door name ›');
    press(r, ...'North door', KEYS.enter);
    const shown = await frame(r, 'shown once');
    const token = /(bod_[0-9a-f]{32}_[A-Za-z0-9_-]{43})/.exec(shown)?.[1];
    expect(token).toBeDefined();
    expect(shown).toContain('BOXOFFICE_DOOR_TOKEN=<token> boxoffice door --url');
    // The token is not in the log.
    expect(logged.join('')).not.toContain(token!.slice(-43));

    const north = (await service.checkins.listDoors(event.id))[0]!;
    const south = await service.checkins.createDoor(event.id, { name: 'South door' });
    await service.checkins.checkIn(north, event.id, { code: booking.tickets[0]!.code, nonce: 'north-nonce-00000001' });
    press(r, 'o');
    await frame(r, 'offline check-in ON');
    expect((await service.getEvent(event.id)).offlineCheckIn).toBe(true);
    const at = new Date().toISOString();
    const code = booking.tickets[1]!.code;
    await service.checkins.sync(north, event.id, { scans: [{ code, nonce: 'north-offline-000001', scannedAt: at }] });
    await service.checkins.sync(south, event.id, { scans: [{ code, nonce: 'south-offline-000001', scannedAt: at }] });
    const f = await frame(r, '1 conflict');
    expect(f).toContain('2 of 3 sold checked in');
    expect(f).toMatch(new RegExp(`${booking.tickets[1]!.id.slice(0, 8)}  North door \\d\\d:\\d\\d \\(offline\\)  vs  South door \\d\\d:\\d\\d \\(offline\\)`));
    expect(f).toMatch(/admitted +[0-9a-f]{8} {2}North door/);
    expect(f.split('\n').map((l) => l.trim()).join('')).toContain(`/events/${event.id}/attendees.csv`);

    press(r, KEYS.down, 'r');
    await frame(r, 'Revoke South door?');
    press(r, 'y');
    await frame(r, /South door +\d+ {2}revoked/);
    expect((await service.checkins.listDoors(event.id)).find((d) => d.id === south.id)?.revokedAt).toBeDefined();
  });

  it('remote: the same screen over HTTP with the admin token', async () => {
    const server = await startApp();
    servers.push(server);
    const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: ADMIN_TOKEN });
    const event = await admin.createEvent({ name: 'Remote Gig', date: '2027-05-01T20:00:00Z', totalTickets: 5 });
    await admin.book(event.id, 2);
    const tail = new LogTail();
    const backend = new RemoteBackend(admin, pino({ level: 'info' }, tail), '--token');
    const r = renderUi(<AdminApp backend={backend} tail={tail} />);
    await openCheckin(r, 'Remote Gig');
    await frame(r, '0 of 2 sold checked in');
    press(r, 'n');
    await frame(r, 'New door name ›');
    press(r, ...'Side door', KEYS.enter);
    const shown = await frame(r, 'shown once');
    const token = /(bod_[0-9a-f]{32}_[A-Za-z0-9_-]{43})/.exec(shown)![1]!;
    expect((await new BoxofficeClient({ baseUrl: server.url }).doorList(event.id, { token })).eventName).toBe('Remote Gig');
    await frame(r, /Side door +0 {2}active/);
  });
});
