/**
 * Log files rotated by time with a kept count (issue 17, "Operating it as a service"), on the built
 * server: pino-roll starts a new file every `--log-frequency`, removes the oldest beyond
 * `--log-files`, and `logs/server.log` keeps naming the live file, for people, tests and the
 * organiser's Logs screen alike. Rotation by size: test/e2e/growth.test.ts.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BoxofficeClient } from '../../src/client/boxoffice-client.js';
import { freePort, killAllProcesses, startServerProcess, TEST_ADMIN_TOKEN } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { postEvent } from './booking-load.js';
import { TmuxServer } from './tui-terminal.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const haveFaketime = existsSync(LIBFAKETIME);
if (!haveFaketime && process.env.BOXOFFICE_REQUIRE_FAKETIME === '1') throw new Error(`BOXOFFICE_REQUIRE_FAKETIME=1 but ${LIBFAKETIME} is missing (apt-get install faketime)`);

const tmp = tempDir('boxoffice-e2e-log-rotation-');
const tmux = new TmuxServer();
afterEach(() => killAllProcesses());
afterAll(async () => {
  tmux.kill();
  await killAllProcesses();
  tmp.cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The numbered files in `<dataDir>/logs`, oldest first, and what `server.log` points at. */
function logFiles(dataDir: string): { files: string[]; live: string } {
  const dir = join(dataDir, 'logs');
  const files = readdirSync(dir).filter((name) => /^server\..+\.\d+\.log$|^server\.\d+\.log$/.test(name));
  const order = (name: string) => name.split('.').slice(1, -1);
  files.sort((a, b) => (order(a)[0]! < order(b)[0]! ? -1 : order(a)[0]! > order(b)[0]! ? 1 : Number(order(a).at(-1)) - Number(order(b).at(-1))));
  return { files, live: readlinkSync(join(dir, 'server.log')) };
}

function jsonLines(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function until(check: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('log rotation by time (pino-roll)', () => {
  it('--log-frequency 1s --log-files 3: a new dated file every second, three kept, server.log the live one, JSON lines', async () => {
    const server = await startServerProcess({ dataDir: join(tmp.dir, 'interval'), args: ['--log-frequency', '1s', '--log-files', '3'] });
    const first = logFiles(server.dataDir).files[0]!;
    // One write every few hundred ms, until three files were started after the first (so it was removed).
    for (let i = 0; logFiles(server.dataDir).files.includes(first) || logFiles(server.dataDir).files.length < 3; i++) {
      if (i > 60) throw new Error(`no rotation: ${logFiles(server.dataDir).files.join(' ')}`);
      await postEvent(server.url, { name: `rot-${i}`, date: '2031-01-01T20:00:00Z', totalTickets: 5 });
      await sleep(300);
    }
    const { files, live } = logFiles(server.dataDir);
    // server.<yyyy-MM-dd-HHmmss>.<n>.log: the interval's start in the name.
    for (const name of files) expect(name).toMatch(/^server\.\d{4}-\d\d-\d\d-\d{6}\.\d+\.log$/);
    expect(files.length).toBeLessThanOrEqual(3);
    expect(live).toBe(files.at(-1));
    const records = files.flatMap((name) => jsonLines(join(server.dataDir, 'logs', name)));
    expect(records.every((r) => typeof r.level === 'number' && typeof r.time === 'number' && typeof r.msg === 'string')).toBe(true);
    // What was logged last is in the file that was live when it was written, reached by its stable
    // name then; with a roll every second the next file may already be live when this looks, so the
    // line is looked for in server.log or a file started after the one server.log named before the post.
    const before = logFiles(server.dataDir).live;
    await postEvent(server.url, { name: 'the last one', date: '2031-01-01T20:00:00Z', totalTickets: 5 });
    await until(() => {
      const now = logFiles(server.dataDir);
      return now.files.filter((name) => name >= before).some((name) => readFileSync(join(server.dataDir, 'logs', name), 'utf8').includes('the last one'));
    }, 'the last event in the live file');
    const after = logFiles(server.dataDir);
    expect(after.live).toBe(after.files.at(-1));
  }, 60_000);

  (haveFaketime ? it : it.skip)('--log-frequency daily: at local midnight a new file named by the new day (the clock set to 23:59:50 by libfaketime)', async () => {
    const server = await startServerProcess({
      dataDir: join(tmp.dir, 'daily'),
      args: ['--log-frequency', 'daily'],
      // The wall clock starts 10 s before midnight (a slow start on a busy machine included) and runs; timers keep real time.
      env: { LD_PRELOAD: LIBFAKETIME, FAKETIME: '@2030-06-01 23:59:50', DONT_FAKE_MONOTONIC: '1', TZ: 'Europe/Berlin' },
    });
    expect(logFiles(server.dataDir).files).toEqual(['server.2030-06-01.1.log']);
    await until(() => logFiles(server.dataDir).files.length === 2, 'the midnight roll', 30_000);
    const { files, live } = logFiles(server.dataDir);
    expect(files).toEqual(['server.2030-06-01.1.log', 'server.2030-06-02.1.log']);
    expect(live).toBe('server.2030-06-02.1.log');
    const before = jsonLines(join(server.dataDir, 'logs', files[0]!));
    expect(before.map((r) => r.msg)).toContain(`boxoffice listening on ${server.url}`);
    // The new day's lines go to the new file.
    const res = await fetch(`${server.url}/events`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_TOKEN}` }, body: JSON.stringify({ name: 'after midnight', date: '2031-01-01T20:00:00Z', totalTickets: 5 }) });
    expect(res.status).toBe(201);
    await until(() => readFileSync(join(server.dataDir, 'logs', 'server.log'), 'utf8').includes('after midnight'), 'the new day\'s line in server.log');
    expect(readFileSync(join(server.dataDir, 'logs', files[0]!), 'utf8')).not.toContain('after midnight');
  }, 60_000);

  it('the organiser\'s Logs screen (boxoffice serve in a terminal) still shows new lines after the file rotated', async () => {
    const port = await freePort();
    const dataDir = join(tmp.dir, 'serve-ui');
    const term = tmux.open(['serve', '--port', String(port), '--data-dir', dataDir, '--log-frequency', '1s', '--log-files', '2'], { env: { BOXOFFICE_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
    await term.waitFor('Main menu');
    const first = logFiles(dataDir).files[0];
    await until(() => !logFiles(dataDir).files.includes(first!), 'a rotation (and the first file removed)');
    const url = `http://127.0.0.1:${port}`;
    const event = await postEvent(url, { name: 'Rotated Gig', date: '2031-01-01T20:00:00Z', totalTickets: 5 });
    await new BoxofficeClient({ baseUrl: url }).book(event.id, 2);
    term.type('3');
    const logs = await term.waitFor(/INFO {2}booking confirmed/);
    expect(logs).toMatch(/INFO {2}event created/);
    await until(() => readFileSync(join(dataDir, 'logs', 'server.log'), 'utf8').includes('"booking confirmed"'), 'the booking in the live file');
    term.keys('Escape');
    await term.waitFor('Main menu');
    term.keys('q');
    await term.waitFor('[exited 0]');
  }, 60_000);
});
