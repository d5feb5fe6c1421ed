/**
 * The buyer's `boxoffice client` in a real 80×24 terminal (tmux) against the built server: hold two
 * tickets and confirm them, watch the list follow other buyers live, get the server's refusal in red, and survive
 * the server being killed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { freePort, killAllProcesses, runCli, startServerProcess, TEST_ADMIN_TOKEN, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { rowOf, statusLine, TmuxServer } from './tui-terminal.js';

const tmp = tempDir('boxoffice-e2e-tui-client-');
const tmux = new TmuxServer();
let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ dataDir: `${tmp.dir}/server` });
});
afterAll(async () => {
  tmux.kill();
  await killAllProcesses();
  tmp.cleanup();
});

describe('boxoffice client in a terminal', () => {
  it('books 2, follows other buyers live, shows the server’s refusal, and survives the server dying', async () => {
    const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: TEST_ADMIN_TOKEN });
    const event = await admin.createEvent({ name: 'E2E Gig', date: '2027-06-12T19:30:00Z', totalTickets: 10, maxTicketsPerBooking: 4 });
    await admin.createEvent({ name: 'Later Show', date: '2027-09-01T19:30:00Z', totalTickets: 50 });

    const term = tmux.open(['client', '--port', String(server.port), '--host', '127.0.0.1', '--data-dir', `${tmp.dir}/client`]);
    expect(term.size()).toBe('80x24');
    await term.waitFor('Main menu');

    // Events → pick the event → choose 2 → book.
    term.keys('Enter');
    let screen = await term.waitFor((s) => /10 \/ 10$/.test(rowOf(s, 'E2E Gig')));
    expect(screen.indexOf('E2E Gig')).toBeLessThan(screen.indexOf('Later Show'));
    term.type('E2E');
    await term.waitFor('› E2E Gig');
    term.keys('Enter');
    await term.waitFor('How many tickets?');
    term.keys('Up');
    await term.waitFor(/◀ {2}2 {2}▶/);
    term.keys('Enter');
    // Enter holds (it does not buy): the countdown, and the tickets set aside on the server.
    screen = await term.waitFor('2 tickets held for you');
    expect(screen).toMatch(/expires in (10:00|9:[0-5]\d)/);
    expect((await admin.getEvent(event.id)).heldTickets).toBe(2);
    term.keys('Enter');
    // The receipt: the booking, its secret and why it matters, the tickets; all inside 80×24.
    screen = await term.waitFor('Keep the secret');
    expect(screen).toContain('✔ Booked 2 tickets for E2E Gig');
    expect(screen).toContain('Keep the secret: it is needed to cancel, and it is not shown again.');
    const bookingId = /Booking {2}([0-9a-f-]{36})/.exec(screen)?.[1];
    const secret = /Secret {3}(\S+)/.exec(screen)?.[1];
    expect(secret).toBeTruthy();
    const stored = await admin.getBooking(bookingId!);
    expect(stored.eventId).toBe(event.id);
    for (const t of stored.tickets) expect(screen).toContain(t.id);
    // Each ticket with the signed code the door scans (issue 14): two rows of an 80-column screen each.
    expect(screen).toContain('Tickets (2) with the code the door scans');
    expect(screen.match(/^ {5}BO1\.[A-Za-z0-9_-]+$/gm)).toHaveLength(2);
    // Nothing pushed off the 80×24 screen: the header on top, the key hints at the bottom.
    expect(screen.split('\n')[0]).toMatch(/^boxoffice · buyer/);
    expect(screen.replace(/\n+$/, '').split('\n').at(-1)).toBe('Enter or Esc back to the events');
    term.keys('Enter');
    screen = await term.waitFor((s) => s.includes('Booked 2 tickets') && /8 \/ 10$/.test(rowOf(s, 'E2E Gig')));
    expect(statusLine(screen)).toBe('✔ Booked 2 tickets for E2E Gig · ticket ids in Logs');
    const colored = await term.waitFor('Booked 2 tickets', { colors: true });
    expect(colored).toMatch(/\u001B\[32m✔ Booked 2 tickets for E2E Gig/);
    expect((await admin.getEvent(event.id)).availableTickets).toBe(8);

    // Another buyer books while the list is open: it follows live.
    await admin.book(event.id, 3);
    await term.waitFor((s) => /5 \/ 10$/.test(rowOf(s, 'E2E Gig')));

    // Choose 2 again; meanwhile other buyers take the rest concurrently; the server refuses the hold.
    term.keys('Enter');
    await term.waitFor('How many tickets?');
    term.keys('Up');
    await term.waitFor(/◀ {2}2 {2}▶/);
    const others = await Promise.all(Array.from({ length: 5 }, () => admin.book(event.id, 1).then(() => 'booked', (e: Error) => e.message)));
    expect(others).toEqual(Array(5).fill('booked'));
    await term.waitFor('Sold out right now');
    term.keys('Enter');
    screen = await term.waitFor('Not enough tickets');
    expect(statusLine(screen)).toBe('✘ Not enough tickets available: requested 1, 0 left');
    expect(rowOf(screen, 'E2E Gig')).toMatch(/SOLD OUT$/);
    expect(await term.waitFor('Not enough tickets', { colors: true })).toMatch(/\u001B\[31m✘ Not enough tickets available/);

    // The server dies under the client: a clear message, no crash, the keys still work.
    server.kill('SIGKILL');
    await server.waitForExit();
    screen = await term.waitFor((s) => statusLine(s).startsWith('✘ Lost connection to the server'));
    expect(screen.split('\n')[0]).toMatch(/○ offline, retrying$/);
    expect(screen).not.toMatch(/Error:|\bat .+:\d+:\d+|node:internal/);
    // Holding now is retried (safe: it carries an Idempotency-Key), then fails with one plain sentence.
    term.keys('BSpace', 'BSpace', 'BSpace');
    await term.waitFor('type to filter');
    term.keys('Down');
    await term.waitFor('› Later Show');
    term.keys('Enter');
    await term.waitFor('How many tickets?');
    term.keys('Enter');
    await term.waitFor('No answer from the server, retrying in');
    screen = await term.waitFor((s) => statusLine(s).startsWith('✘ Cannot reach boxoffice at'));
    expect(statusLine(screen)).toBe(`✘ Cannot reach boxoffice at http://127.0.0.1:${server.port}: connection refused`);
    expect(term.exitCode()).toBeUndefined();

    // And it quits cleanly.
    term.keys('Escape');
    await term.waitFor('Main menu');
    term.keys('q');
    await term.waitFor('[exited 0]');
  });

  // Each run below is a process of its own whose output alone is checked: they run side by side
  // (each loads the whole CLI, ~1-2 s of CPU; one after the other they took 40 s on a busy machine).
  const cliRun = (args: string[]) => runCli(args, { timeoutMs: 60_000 });

  it('without a terminal, client and admin refuse in one line', async () => {
    const results = await Promise.all(['client', 'admin'].map(async (command) => ({ command, result: await cliRun([command, '--data-dir', `${tmp.dir}/no-tty`]) })));
    for (const { command, result } of results) {
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`boxoffice: boxoffice ${command} is a terminal UI: run it in a terminal (stdin and stdout must be a TTY)\n`);
    }
  });

  it('client, admin and door take the server as --url or as --host/--port, and refuse both at once', async () => {
    await Promise.all(
      ['client', 'admin', 'door'].map(async (command) => {
        const [both, badPort, ...alone] = await Promise.all([
          cliRun([command, '--url', 'http://127.0.0.1:9', '--port', '9', '--data-dir', `${tmp.dir}/no-tty`]),
          cliRun([command, '--port', 'eighty', '--data-dir', `${tmp.dir}/no-tty`]),
          // Either form alone gets as far as the terminal check.
          ...[['--url', 'http://127.0.0.1:9'], ['--host', '127.0.0.1', '--port', '9']].map((address) =>
            cliRun([command, ...address, ...(command === 'door' ? ['--token', 'a-door-token'] : []), '--data-dir', `${tmp.dir}/no-tty`]),
          ),
        ]);
        expect(both!.code).toBe(1);
        expect(both!.stderr).toBe('boxoffice: give either --url or --host/--port, not both (got --url and --port).\n');
        expect(badPort!.code).toBe(1);
        expect(badPort!.stderr).toContain('port must be a whole number from 1 to 65535.');
        for (const ok of alone) expect(ok.stderr).toBe(`boxoffice: boxoffice ${command} is a terminal UI: run it in a terminal (stdin and stdout must be a TTY)\n`);
      }),
    );
  });

  it('says plainly when nothing is listening, and offers Retry / Quit', async () => {
    const port = await freePort();
    const term = tmux.open(['client', '--url', `http://127.0.0.1:${port}`, '--connect-timeout', '2', '--data-dir', `${tmp.dir}/client2`]);
    const screen = await term.waitFor('› Retry', { timeoutMs: 30_000 });
    expect(screen).toContain(`Cannot reach boxoffice at http://127.0.0.1:${port}: connection refused`);
    expect(screen).toMatch(/› Retry/);
    expect(screen).not.toMatch(/Error:|\bat .+:\d+:\d+/);
    term.keys('Down');
    term.keys('Enter');
    const after = await term.waitFor('[exited 1]');
    expect(after).toContain(`boxoffice: Cannot reach boxoffice at http://127.0.0.1:${port}: connection refused`);
  });
});
