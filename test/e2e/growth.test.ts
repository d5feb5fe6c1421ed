/**
 * Growth an attacker controls is bounded (issue 16 item 3), on the built server: from one address, a
 * keyed 409 flood, book-then-cancel churn and hold-then-release churn, with the per-address request
 * rate off (`--buyer-rate 0`, as several workers or nodes each with their own rate would allow), add
 * at most the per-buyer budget of rows (BUYER_BUDGET) and a few MiB; the log rotates within its bound.
 */
import Database from 'better-sqlite3';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllProcesses, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { churn, growth, keyedFlood, makeEvent, sizes, soldOutEvent } from './growth-load.js';

const MiB = 1024 * 1024;
const temps: Array<{ cleanup: () => void }> = [];
function freshDir(): string {
  const tmp = tempDir('boxoffice-e2e-growth-');
  temps.push(tmp);
  return tmp.dir;
}
afterEach(killAllProcesses);
afterAll(() => {
  for (const t of temps) t.cleanup();
});

function rows(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'boxoffice.db'), { readonly: true, fileMustExist: true });
  try {
    const count = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { tickets: count('tickets'), bookings: count('bookings'), holds: count('holds'), keys: count('idempotency_keys') };
  } finally {
    db.close();
  }
}

describe('what one address can make the server store', () => {
  it('a keyed 409 flood and book/hold churn stop at the buyer budget: rows, database, WAL and log stay small', async () => {
    const dataDir = freshDir();
    const server = await startServerProcess({ dataDir, args: ['--buyer-rate', '0', '--buyer-give-back', '1000', '--buyer-refusals-kept', '100'], benchRoutes: false });
    const soldOut = await soldOutEvent(server.url);
    const big = await makeEvent(server.url, { totalTickets: 10_000_000, maxTicketsPerBooking: 100, maxTicketsPerBuyer: 10_000_000, maxHeldPerBuyer: 10_000 });
    const before = sizes(dataDir);

    // Counted, not timed: each step sends a fixed number of requests, and each one must do what the
    // budget says, however slow the machine is.
    const flood = await keyedFlood(server.url, soldOut, { requests: 2_000 }, 32);
    const books = await churn(server.url, big, { requests: 100 }, { tickets: 100 });
    const holds = await churn(server.url, big, { requests: 100 }, { tickets: 1, holds: true });
    // The attack ran: every keyed booking of the sold-out event was refused, 20 times what is kept.
    expect(flood).toEqual({ requests: 2_000, byStatus: { '409': 2_000 } });

    server.kill('SIGTERM');
    await server.waitForExit();
    const stored = rows(dataDir);
    // Budget (set small here with the two flags): 100 refusals remembered per buyer and event; 1,000 tickets given back per buyer and
    // event, plus what the buyer still had when it crossed the budget and gave back after (here at
    // most the churn's 16 bookings of 100, or 16 holds of 1, in flight).
    expect(stored.keys).toBeLessThanOrEqual(100);
    expect(stored.tickets).toBeLessThanOrEqual(1 + 1_000 + 16 * 100);
    expect(stored.bookings).toBeLessThanOrEqual(1 + 10 + 16);
    expect(stored.holds).toBeLessThanOrEqual(1_000 + 16);
    const g = growth(before, sizes(dataDir));
    expect(g.db + Math.max(0, g.wal)).toBeLessThan(4 * MiB);
    expect(g.logs).toBeLessThan(1 * MiB);
    // The churn gave back the whole budget (10 bookings of 100 cancelled) and was then refused: the
    // bookings that went through are the budget plus at most the 16 in flight when it ran out; the holds,
    // on the same event after it, are all refused.
    expect(books.cycles).toBeGreaterThanOrEqual(10);
    expect(books.byStatus['201']).toBeLessThanOrEqual(10 + 16);
    expect(books.byStatus['409']).toBe(100 - books.byStatus['201']!);
    expect(holds.byStatus).toEqual({ '409': 100 });
  }, 180_000);

  it('the log rotates by size (pino-roll): at most --log-files files of about --log-max-size each, all 0600, server.log the live one', async () => {
    const dataDir = freshDir();
    // Debug level: every refusal is a line, so the flood writes far more than the files may keep.
    const server = await startServerProcess({ dataDir, args: ['--buyer-rate', '0', '--log-level', 'debug', '--log-max-size', '64k', '--log-files', '3'], benchRoutes: false });
    const soldOut = await soldOutEvent(server.url);
    // Until the file numbers pass what is kept (so the oldest were removed), however busy the machine is.
    const highest = () => Math.max(0, ...readdirSync(join(dataDir, 'logs')).map((name) => Number(/^server\.(\d+)\.log$/.exec(name)?.[1] ?? 0)));
    for (let i = 0; i < 30 && highest() < 5; i++) await keyedFlood(server.url, soldOut, { requests: 1_000 }, 16);
    server.kill('SIGTERM');
    await server.waitForExit();
    const { logFiles } = sizes(dataDir);
    const names = logFiles.map((f) => f.name);
    // Rotated, and the oldest removed: the numbers went past what is kept.
    expect(names.every((name) => /^server\.\d+\.log$/.test(name)), names.join(' ')).toBe(true);
    expect(names.length).toBeGreaterThanOrEqual(2);
    expect(names.length).toBeLessThanOrEqual(3);
    const numbers = names.map((name) => Number(name.split('.')[1])).sort((a, b) => a - b);
    expect(numbers.at(-1)).toBeGreaterThanOrEqual(5);
    expect(readlinkSync(join(dataDir, 'logs', 'server.log'))).toBe(`server.${numbers.at(-1)}.log`);
    // A file may pass the size by what arrived before its stream drained (pino-roll rolls on 'drain').
    for (const f of logFiles) expect(f.size).toBeLessThan(128 * 1024);
    for (const f of logFiles) expect(f.mode).toBe(0o600);
    for (const f of logFiles) {
      for (const line of readFileSync(join(dataDir, 'logs', f.name), 'utf8').split('\n').filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
    }
  }, 60_000);
});
