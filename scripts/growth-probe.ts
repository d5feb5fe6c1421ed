/**
 * What one address can make the built server store (issue 16 item 3, "growth an attacker controls"):
 * starts `node dist/cli.js serve` on a fresh data dir, then from 127.0.0.1
 *
 *   1. keyed 409 flood: bookings of a sold-out event, each under a fresh Idempotency-Key (15 s);
 *   2. book-then-cancel churn: the most one booking may take, cancelled with its secret (10 s);
 *   3. hold-then-release churn (10 s);
 *
 * and prints, after each, the growth of the database, the WAL and the log files, and the rows stored.
 *
 *   npm run build --silent && node --import tsx scripts/growth-probe.ts [extra serve flags…]
 *   e.g. node --import tsx scripts/growth-probe.ts --buyer-rate 0     # without the per-address rate
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { churn, growth, keyedFlood, makeEvent, mib, sizes, soldOutEvent, type Sizes } from '../test/e2e/growth-load.js';
import { killAllProcesses, startServerProcess } from '../test/helpers/server-process.js';

const extra = process.argv.slice(2);
const FLOOD_MS = Number(process.env.FLOOD_MS ?? 15_000);
const CHURN_MS = Number(process.env.CHURN_MS ?? 10_000);

function rows(dataDir: string): Record<string, number> {
  const db = new Database(join(dataDir, 'boxoffice.db'), { readonly: true, fileMustExist: true });
  try {
    const out: Record<string, number> = {};
    for (const table of ['bookings', 'tickets', 'holds', 'idempotency_keys', 'buyer_tickets']) {
      out[table] = (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    }
    return out;
  } finally {
    db.close();
  }
}

function report(step: string, before: Sizes, after: Sizes, dataDir: string, tally: unknown): void {
  const g = growth(before, after);
  console.log(`\n## ${step}`);
  console.log(`requests: ${JSON.stringify(tally)}`);
  console.log(`growth: db +${mib(g.db)}, wal ${g.wal >= 0 ? '+' : ''}${mib(g.wal)} (now ${mib(after.wal)}), logs +${mib(g.logs)}`);
  console.log(`log files: ${after.logFiles.map((f) => `${f.name} ${mib(f.size)} ${f.mode.toString(8)}`).join(', ')}`);
  console.log(`rows: ${JSON.stringify(rows(dataDir))}`);
}

const dataDir = mkdtempSync(join(tmpdir(), 'boxoffice-growth-'));
// Default flags unless given: the test helper turns the buyer rate off unless --buyer-rate is passed.
const args = extra.includes('--buyer-rate') ? extra : ['--buyer-rate', '10', ...extra];
try {
  const server = await startServerProcess({ dataDir, args, benchRoutes: false });
  console.log(`server: node dist/cli.js serve --headless --data-dir ${dataDir} ${args.join(' ')}`);

  const soldOut = await soldOutEvent(server.url);
  let before = sizes(dataDir);
  const flood = await keyedFlood(server.url, soldOut, { ms: FLOOD_MS });
  let after = sizes(dataDir);
  report(`keyed 409 flood, ${FLOOD_MS / 1000} s`, before, after, dataDir, flood);

  const big = await makeEvent(server.url, { totalTickets: 10_000_000, maxTicketsPerBooking: 100, maxTicketsPerBuyer: 10_000_000, maxHeldPerBuyer: 10_000 });
  before = after;
  const books = await churn(server.url, big, { ms: CHURN_MS }, { tickets: 100 });
  after = sizes(dataDir);
  report(`book-then-cancel churn (100 tickets a booking), ${CHURN_MS / 1000} s`, before, after, dataDir, books);

  before = after;
  // Another event: the budget is per buyer and event, and the bookings above may have spent it.
  const other = await makeEvent(server.url, { totalTickets: 10_000_000, maxTicketsPerBooking: 100, maxTicketsPerBuyer: 10_000_000, maxHeldPerBuyer: 10_000 });
  const holds = await churn(server.url, other, { ms: CHURN_MS }, { tickets: 1, holds: true });
  after = sizes(dataDir);
  report(`hold-then-release churn, ${CHURN_MS / 1000} s`, before, after, dataDir, holds);

  server.kill('SIGTERM');
  await server.waitForExit();
  const final = sizes(dataDir);
  console.log(`\nafter a clean stop: db ${mib(final.db)}, wal ${mib(final.wal)}, logs ${mib(final.logs)}`);
} finally {
  await killAllProcesses();
  rmSync(dataDir, { recursive: true, force: true });
}
