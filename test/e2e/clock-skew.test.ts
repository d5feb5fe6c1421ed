/**
 * Expiry on one clock (issue 16, item 4), reproduced as it was found: two nodes on one PostgreSQL
 * database, one started under libfaketime 15 minutes ahead. Before, the fast node's sweeper expired
 * the other node's 600 s hold at once and the buyer's confirm got 410 "expired at" a future time.
 * Needs Debian's faketime (CI installs it and sets BOXOFFICE_REQUIRE_FAKETIME=1).
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describePg, PG_URL, uniqueSchema } from '../helpers/pg.js';
import { killAllProcesses, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { adminHeaders, call } from './booking-load.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const haveFaketime = existsSync(LIBFAKETIME);
if (!haveFaketime && process.env.BOXOFFICE_REQUIRE_FAKETIME === '1') throw new Error(`BOXOFFICE_REQUIRE_FAKETIME=1 but ${LIBFAKETIME} is missing (apt-get install faketime)`);
if (!haveFaketime) console.warn('[boxoffice] skipping the clock-skew test: apt-get install faketime to run it');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describePg('a node with a wrong clock', () => {
  const schema = uniqueSchema('skew');
  const tmp = tempDir();
  afterEach(() => killAllProcesses());
  afterAll(async () => {
    await killAllProcesses();
    await schema.drop();
    tmp.cleanup();
  });

  (haveFaketime ? it : it.skip)('15 minutes fast: another node\'s hold survives, the buyer confirms, and the fast node says it is skewed', async () => {
    const args = ['--db', PG_URL!, '--pg-schema', schema.schema, '--db-pool', '4', '--log-level', 'warn'];
    const honest = await startServerProcess({ dataDir: `${tmp.dir}/honest`, args });
    const fast = await startServerProcess({
      dataDir: `${tmp.dir}/fast`,
      args,
      // The wall clock only: timers and timeouts keep real time, as on a machine whose clock is set wrong.
      env: { LD_PRELOAD: LIBFAKETIME, FAKETIME: '+15m', DONT_FAKE_MONOTONIC: '1' },
    });
    const nodeTime = Date.parse((await fetch(`${fast.url}/healthz`)).headers.get('date') ?? '');
    expect(nodeTime - Date.now(), 'faketime did not take effect on the fast node').toBeGreaterThan(14 * 60_000);

    const created = await call(honest.url, 'POST', '/events', {
      headers: adminHeaders(),
      body: { name: 'Skew', date: '2030-06-01T19:30:00Z', totalTickets: 10, holdSeconds: 600 },
    });
    const eventId = (created.body as { id: string }).id;
    const hold = await call(honest.url, 'POST', `/events/${eventId}/holds`, { headers: { 'content-type': 'application/json' }, body: { tickets: 2 } });
    expect(hold.status).toBe(201);
    const holdId = (hold.body as { id: string }).id;

    // The fast node sweeps due holds every 250 ms; give it several sweeps, as the buyer did (1.5 s).
    await sleep(1500);
    const confirm = await call(honest.url, 'POST', `/holds/${holdId}/confirm`, { headers: { 'content-type': 'application/json' }, body: {} });
    expect(confirm.status, JSON.stringify(confirm.body)).toBe(201);

    const ready = await call(fast.url, 'GET', '/readyz');
    expect(ready.status).toBe(200);
    const clock = (ready.body as { clock: { status: string; skewMs: number; toleranceMs: number } }).clock;
    expect(clock.status).toBe('skewed');
    expect(Math.abs(clock.skewMs - 15 * 60_000)).toBeLessThan(5_000);
    expect(((await call(honest.url, 'GET', '/readyz')).body as { clock: { status: string } }).clock.status).toBe('ok');
  });
});
