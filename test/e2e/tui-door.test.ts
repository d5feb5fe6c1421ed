/**
 * `boxoffice door` in a real 80×24 terminal (tmux) against the built server (issue 14): a typed code
 * is admitted in green, the same code again is refused in red naming the door, a forged code is
 * refused; with the server stopped the door admits offline and, once the server is back on the same
 * data, the queued scan is uploaded and recorded as an offline admission.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { killAllProcesses, runCli, startServerProcess, TEST_ADMIN_TOKEN, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { TmuxServer } from './tui-terminal.js';

const tmp = tempDir('boxoffice-e2e-tui-door-');
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

/** The code with one character of its signature changed: genuine-looking, not genuine. */
/** With BOXOFFICE_SCREENSHOTS=<dir>, the screens the README shows are saved there (docs/door-*.txt). */
function shot(name: string, screen: string): void {
  const dir = process.env.BOXOFFICE_SCREENSHOTS;
  if (dir) writeFileSync(join(dir, `door-${name}.txt`), screen.replace(/\n+$/, '\n'));
}

const forge = (code: string) => code.slice(0, 100) + (code[100] === 'A' ? 'B' : 'A') + code.slice(101);

describe('boxoffice door in a terminal', () => {
  it('admits in green, refuses a repeat and a forgery in red, and admits offline then syncs', async () => {
    const admin = new BoxofficeClient({ baseUrl: server.url, adminToken: TEST_ADMIN_TOKEN });
    const event = await admin.createEvent({ name: 'Door Night', date: '2027-06-12T19:30:00Z', totalTickets: 10, offlineCheckIn: true });
    const booking = await admin.book(event.id, 3);
    const [first, second] = booking.tickets.map((t) => t.code!);
    const door = await admin.createDoor(event.id, 'North door');

    const term = tmux.open(['door', '--url', server.url, '--data-dir', `${tmp.dir}/door`], { env: { BOXOFFICE_DOOR_TOKEN: door.token }, height: 24 });
    let screen = await term.waitFor('R E A D Y');
    expect(screen).toContain('Door Night');
    expect(screen).toContain('● online');

    term.type(first!);
    term.keys('Enter');
    screen = await term.waitFor('A D M I T T E D');
    expect(screen).toContain(`ticket ${booking.tickets[0]!.id.slice(0, 8)}`);
    expect(screen).toMatch(/admitted here 1 · checked in 1/);
    shot('admitted', screen);
    expect(await term.waitFor('A D M I T T E D', { colors: true })).toMatch(/\u001B\[[0-9;]*42m/);

    term.type(first!);
    term.keys('Enter');
    screen = await term.waitFor(/ALREADY IN — \d\d:\d\d North door/);
    shot('already-in', screen);
    expect(await term.waitFor('ALREADY IN', { colors: true })).toMatch(/\u001B\[[0-9;]*41m/);

    term.type(forge(second!));
    term.keys('Enter');
    await term.waitFor('F O R G E D');
    expect(screen).not.toContain(door.token);

    // The server goes away: the door keeps admitting, verifying signatures itself.
    server.kill('SIGTERM');
    await server.waitForExit();
    term.type(second!);
    term.keys('Enter');
    screen = await term.waitFor('offline, will sync');
    expect(screen).toContain('A D M I T T E D');
    expect(screen).toContain('◐ offline');
    expect(screen).toContain('1 to sync');
    shot('offline', screen);
    term.type(second!);
    term.keys('Enter');
    await term.waitFor(/ALREADY IN — \d\d:\d\d this door \(offline\)/);

    // Back on the same data and port: the door's probe finds it and uploads the queued scan.
    server = await startServerProcess({ dataDir: `${tmp.dir}/server`, port: server.port });
    screen = await term.waitFor((s) => s.includes('● online') && !s.includes('to sync'), { timeoutMs: 30_000 });
    const report = await admin.checkins(event.id);
    expect(report.checkedIn).toBe(2);
    const offline = report.recent.find((r) => r.ticketId === booking.tickets[1]!.id && r.outcome === 'admitted');
    expect(offline?.offline).toBe(true);
    expect(term.exitCode()).toBeUndefined();
    term.keys('C-c');
    await term.waitFor('[exited 0]');
  });

  it('without a token or without a terminal, refuses in one line and never prints the token', async () => {
    const none = await runCli(['door', '--data-dir', `${tmp.dir}/no-token`], { env: { BOXOFFICE_DOOR_TOKEN: undefined } });
    expect(none.code).toBe(1);
    expect(none.stderr).toBe('boxoffice: boxoffice door needs a door token: --token or BOXOFFICE_DOOR_TOKEN (the organiser creates one per door)\n');
    const secret = 'bod_0123456789abcdef0123456789abcdef_secretsecretsecretsecretsecretsecretsecret1';
    const noTty = await runCli(['door', '--data-dir', `${tmp.dir}/no-tty`], { env: { BOXOFFICE_DOOR_TOKEN: secret } });
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toBe('boxoffice: boxoffice door is a terminal UI: run it in a terminal (stdin and stdout must be a TTY)\n');
    expect(noTty.stdout + noTty.stderr).not.toContain('secretsecret');
  });
});
