/**
 * `boxoffice backup <file>` while bookings run against the built server, then a restore: a server
 * started on a data dir holding the backup has every booking acknowledged before the backup began,
 * and its numbers add up (sold + available == total, in the API and in the file).
 */
import { copyFileSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllProcesses, runCli, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { createEvent, sqliteProbe, verifyAfterRestart, type Acknowledged } from './booking-load.js';

const tmp = tempDir('boxoffice-backup-');
afterEach(killAllProcesses);
afterAll(() => tmp.cleanup());

interface BookingAnswer {
  id: string;
  tickets: Array<{ id: string }>;
}

describe('boxoffice backup', () => {
  it('an online backup under load restores with every booking acknowledged before it began, and the numbers add up', async () => {
    const live = join(tmp.dir, 'live');
    const server = await startServerProcess({ dataDir: live });
    const event = await createEvent(server.url, 1_000_000);

    // Bookings in a loop on 8 connections until told to stop; each answer is stamped with whether
    // the backup had started when it arrived.
    let backupStarted = false;
    let stop = false;
    const before: Acknowledged[] = [];
    let after = 0;
    const pool = new Pool(server.url, { connections: 8 });
    const worker = async () => {
      while (!stop) {
        const res = await pool.request({ method: 'POST', path: `/events/${event.id}/bookings`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickets: 2 }) });
        const body = (await res.body.json()) as BookingAnswer;
        expect(res.statusCode, JSON.stringify(body)).toBe(201);
        if (backupStarted) after++;
        else before.push({ api: 'bookings', eventId: event.id, bookingId: body.id, ticketIds: body.tickets.map((t) => t.id) });
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, worker));
    await expect.poll(() => before.length, { timeout: 30_000, interval: 20 }).toBeGreaterThan(300);

    const file = join(tmp.dir, 'backups', 'boxoffice-backup.db');
    mkdirSync(join(tmp.dir, 'backups'));
    backupStarted = true;
    const backup = await runCli(['backup', file, '--data-dir', live], { timeoutMs: 60_000 });
    // Bookings kept being answered while the backup ran.
    await expect.poll(() => after, { timeout: 30_000, interval: 20 }).toBeGreaterThan(50);
    stop = true;
    await load;
    await pool.close();
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^backed up .*boxoffice\.db to .*boxoffice-backup\.db \(\d+ bytes, mode 0600\)\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    server.kill('SIGTERM');
    expect((await server.waitForExit()).code).toBe(0);

    // Restore: a fresh data dir with the backup as its database and the same secret key.
    const restored = join(tmp.dir, 'restored');
    mkdirSync(restored, { mode: 0o700 });
    copyFileSync(file, join(restored, 'boxoffice.db'));
    copyFileSync(join(live, 'secret.key'), join(restored, 'secret.key'));
    const again = await startServerProcess({ dataDir: restored });
    const result = await verifyAfterRestart({ url: again.url, probe: sqliteProbe(restored), events: [event], acknowledged: before });
    expect(result.violations).toEqual([]);
    expect(result.acknowledgedTickets).toBe(before.length * 2);
    console.log(`backup under load: ${before.length} bookings acknowledged before it began, ${after} answered while it ran or after; ${statSync(file).size} bytes; restored: ${result.storedTickets} tickets stored, ${result.lookups} lookups`);
  }, 120_000);

  it('refuses to overwrite an existing file without --force, replaces it with --force', async () => {
    const dataDir = join(tmp.dir, 'force');
    const server = await startServerProcess({ dataDir });
    await createEvent(server.url, 10);
    const file = join(tmp.dir, 'existing.db');
    writeFileSync(file, 'precious');
    const refused = await runCli(['backup', file, '--data-dir', dataDir]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/already exists.*--force/);
    expect(statSync(file).size).toBe('precious'.length);

    const forced = await runCli(['backup', file, '--data-dir', dataDir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(4096);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('on PostgreSQL, and with nothing to back up, says what to do in one line', async () => {
    const pg = await runCli(['backup', join(tmp.dir, 'pg.dump'), '--db', 'postgres://boxoffice:secret@db.example/boxoffice']);
    expect(pg.code).toBe(1);
    expect(pg.stderr).toMatch(/^boxoffice: PostgreSQL is backed up with its own tool: pg_dump .*\n$/);
    expect(pg.stderr).not.toContain('secret');
    const none = await runCli(['backup', join(tmp.dir, 'none.db'), '--data-dir', join(tmp.dir, 'empty')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^boxoffice: no database at .*\n$/);
    expect(existsSync(join(tmp.dir, 'none.db'))).toBe(false);
  });
});
