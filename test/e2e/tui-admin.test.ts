/**
 * The organiser's screens in a real 80×24 terminal (tmux): `boxoffice admin` against a running
 * server, with a buyer's client watching the list, and the admin UI inside `boxoffice serve` itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { freePort, killAllProcesses, probe, startServerProcess, TEST_ADMIN_TOKEN } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { rowOf, statusLine, TmuxServer, type Terminal } from './tui-terminal.js';

const tmp = tempDir('boxoffice-e2e-tui-admin-');
const tmux = new TmuxServer();

afterAll(async () => {
  tmux.kill();
  await killAllProcesses();
  tmp.cleanup();
});

/** Fills the Add Event form from the main menu and submits it. */
async function addEvent(term: Terminal, fields: { name: string; date: string; total: string; max?: string; hold?: string }) {
  await term.waitFor('Main menu');
  term.keys('Down');
  await term.waitFor('› Add Event');
  term.keys('Enter');
  await term.waitFor('Add an event');
  term.type(fields.name);
  term.keys('Tab');
  term.type(fields.date);
  term.keys('Tab');
  term.type(fields.total);
  term.keys('Tab');
  if (fields.max) term.type(fields.max);
  term.keys('Tab');
  if (fields.hold) term.type(fields.hold);
  // Past the sale fields (sale opens at, waiting room, buyers at once), left as they are.
  term.keys('Tab', 'Tab', 'Tab', 'Tab');
  await term.waitFor('›  Create event');
  term.keys('Enter');
}

describe('the organiser’s screens in a terminal', () => {
  it('boxoffice admin --host --port --token: an event added through the form appears in a buyer’s client, live', async () => {
    const server = await startServerProcess({ dataDir: join(tmp.dir, 'server') });
    const buyer = tmux.open(['client', '--url', server.url, '--data-dir', join(tmp.dir, 'buyer')]);
    // admin takes --host/--port like client (and client takes --url like admin).
    const admin = tmux.open(['admin', '--host', '127.0.0.1', '--port', String(server.port), '--token', TEST_ADMIN_TOKEN, '--data-dir', join(tmp.dir, 'admin')]);

    await buyer.waitFor('Main menu');
    buyer.keys('Enter');
    await buyer.waitFor('No events yet.');

    const menu = await admin.waitFor((s) => s.includes('Main menu') && s.includes('● live'));
    expect(menu.split('\n')[0]).toMatch(/^boxoffice admin · organiser\s+http:\/\/127\.0\.0\.1:\d+ {2}● live$/);
    for (const item of ['Events', 'Add Event', 'Logs', 'Quit']) expect(menu).toContain(item);

    // An invalid field is refused inline with the core's message, and nothing is created.
    await addEvent(admin, { name: 'Winter Ball', date: '2027-12-18 21:00', total: 'lots' });
    await admin.waitFor('totalTickets must be a whole number');
    expect(await new BoxofficeClient({ baseUrl: server.url }).listEvents()).toEqual([]);
    admin.keys('BSpace', 'BSpace', 'BSpace', 'BSpace');
    admin.type('120');
    admin.keys('Tab');
    admin.type('6');
    admin.keys('Tab');
    admin.type('300');
    admin.keys('Tab', 'Tab', 'Tab', 'Tab');
    await admin.waitFor('›  Create event');
    admin.keys('Enter');

    const created = await admin.waitFor((s) => s.includes('Sold') && rowOf(s, 'Winter Ball') !== '');
    expect(rowOf(created, 'Winter Ball')).toMatch(/120 \/ 120\s+0$/);
    expect(statusLine(created)).toMatch(/^✔ Created Winter Ball: 120 tickets on \w{3} 18 Dec 2027 \d\d:\d\d \S+$/);
    // The buyer's open list shows it without doing anything.
    await buyer.waitFor((s) => /120 \/ 120$/.test(rowOf(s, 'Winter Ball')));
    const [event] = await new BoxofficeClient({ baseUrl: server.url }).listEvents();
    expect(event).toMatchObject({ name: 'Winter Ball', totalTickets: 120, maxTicketsPerBooking: 6, holdSeconds: 300 });

    // A booking shows up on the organiser's list as tickets sold.
    await new BoxofficeClient({ baseUrl: server.url }).book(event!.id, 4);
    await admin.waitFor((s) => /116 \/ 120\s+4$/.test(rowOf(s, 'Winter Ball')));

    admin.keys('Escape');
    await admin.waitFor('Main menu');
    admin.keys('q');
    await admin.waitFor('[exited 0]');
    buyer.keys('Escape');
    await buyer.waitFor('Main menu');
    buyer.keys('q');
    await buyer.waitFor('[exited 0]');
  });

  it('boxoffice serve in a terminal: the admin UI around the running server; Quit stops it gracefully', async () => {
    const port = await freePort();
    const dataDir = join(tmp.dir, 'serve-ui');
    const term = tmux.open(['serve', '--port', String(port), '--data-dir', dataDir], { env: { BOXOFFICE_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
    const menu = await term.waitFor('Main menu');
    expect(menu.split('\n')[0]).toMatch(new RegExp(`^boxoffice serve · organiser\\s+http://127\\.0\\.0\\.1:${port} {2}● serving$`));
    // Nothing but the UI on the screen: the log goes to the file and the Logs screen.
    expect(menu).not.toMatch(/listening|INFO|admin token/);
    expect(await probe(`http://127.0.0.1:${port}/healthz`)).toBe(200);

    await addEvent(term, { name: 'Local Gig', date: '2027-05-05T20:00:00Z', total: '30' });
    await term.waitFor((s) => /30 \/ 30\s+0$/.test(rowOf(s, 'Local Gig')));
    const client = new BoxofficeClient({ baseUrl: `http://127.0.0.1:${port}` });
    const [event] = await client.listEvents();
    expect(event).toMatchObject({ name: 'Local Gig', totalTickets: 30 });
    await client.book(event!.id, 3);
    await term.waitFor((s) => /27 \/ 30\s+3$/.test(rowOf(s, 'Local Gig')));

    term.keys('Escape');
    await term.waitFor('Main menu');
    // The menu remembers Add Event; its number picks Logs directly.
    expect(await term.waitFor('›  Add Event'.replace('  ', ' '))).toBeTruthy();
    term.type('3');
    const logs = await term.waitFor(/INFO {2}booking confirmed/);
    expect(logs).toMatch(/INFO {2}event created/);
    expect(logs).toMatch(/boxoffice listening on http:\/\/127\.0\.0\.1/);

    term.keys('Escape');
    await term.waitFor('Main menu');
    term.keys('q');
    await term.waitFor('[exited 0]');
    expect(await probe(`http://127.0.0.1:${port}/healthz`)).toBeUndefined();
    const log = readFileSync(join(dataDir, 'logs', 'server.log'), 'utf8');
    expect(log).toMatch(/"msg":"shutting down: finishing in-flight requests"/);
    expect(log).toMatch(/"msg":"stopped"/);
  });
});
