/**
 * The textbook design, for comparison with `hot` on PostgreSQL: every booking is its own transaction
 * that locks the event row, decrements, inserts and commits —
 *   BEGIN; SELECT … FOR UPDATE; UPDATE; INSERT; COMMIT
 * run by pgbench with 32 clients on one hot event, in a schema of its own in the same database. The
 * INSERT writes the same rows as boxoffice does (a booking and its ticket) in one statement.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

export interface PgbenchResult {
  tps: number;
  transactions: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  failed: number;
  verify: { ok: boolean; problems: string[]; sold: number; available: number; total: number; committed: number };
  command: string;
}

const TOTAL = 100_000_000;
const EVENT_ID = '00000000-0000-4000-8000-000000000001';

const SCRIPT = `BEGIN;
SELECT available_tickets FROM events WHERE id = '${EVENT_ID}' FOR UPDATE;
UPDATE events SET available_tickets = available_tickets - 1 WHERE id = '${EVENT_ID}' AND available_tickets >= 1;
WITH b AS (INSERT INTO bookings (id, event_id, tickets, created_at) VALUES (gen_random_uuid(), '${EVENT_ID}', 1, now()) RETURNING id)
  INSERT INTO tickets (id, booking_id, event_id) SELECT gen_random_uuid(), b.id, '${EVENT_ID}' FROM b;
COMMIT;
`;

export async function pgbenchAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('pgbench', ['--version'], { stdio: 'ignore' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

export async function runPgbench(options: { url: string; schema: string; dir: string; clients: number; warmupSec: number; durationSec: number }): Promise<PgbenchResult> {
  const { url, schema, dir } = options;
  mkdirSync(dir, { recursive: true });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
    // The same tables as boxoffice's PostgreSQL adapter.
    await client.query(`
      CREATE TABLE ${schema}.events (id uuid PRIMARY KEY, name text NOT NULL, date timestamptz NOT NULL,
        total_tickets integer NOT NULL CHECK (total_tickets > 0),
        available_tickets integer NOT NULL CHECK (available_tickets >= 0 AND available_tickets <= total_tickets),
        max_tickets_per_booking integer NOT NULL CHECK (max_tickets_per_booking > 0));
      CREATE TABLE ${schema}.bookings (id uuid PRIMARY KEY, event_id uuid NOT NULL REFERENCES ${schema}.events (id),
        tickets integer NOT NULL CHECK (tickets > 0), created_at timestamptz NOT NULL);
      CREATE TABLE ${schema}.tickets (id uuid PRIMARY KEY, booking_id uuid NOT NULL REFERENCES ${schema}.bookings (id), event_id uuid NOT NULL);
      CREATE INDEX ON ${schema}.tickets (booking_id);
      INSERT INTO ${schema}.events VALUES ('${EVENT_ID}', 'textbook', now(), ${TOTAL}, ${TOTAL}, 100);`);
  } finally {
    await client.end();
  }
  const scriptFile = join(dir, 'textbook.sql');
  writeFileSync(scriptFile, SCRIPT);
  const base = ['-n', '-M', 'prepared', '-c', String(options.clients), '-j', '2', '-f', scriptFile];
  const env = { ...process.env, PGOPTIONS: `-c search_path=${schema}` };
  const warm = await pgbench([...base, '-T', String(Math.max(1, Math.round(options.warmupSec))), url], env, dir);
  const logPrefix = join(dir, 'txlog');
  const args = [...base, '-T', String(Math.max(1, Math.round(options.durationSec))), '-l', `--log-prefix=${logPrefix}`, url];
  const measured = await pgbench(args, env, dir);

  // Per-transaction latencies (µs, 3rd column) from pgbench's logs, one file per thread.
  const latencies: number[] = [];
  let failed = 0;
  for (const file of readdirSync(dir).filter((f) => f.startsWith('txlog'))) {
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      if (!line) continue;
      const fields = line.split(' ');
      if (fields[2] === 'failed' || fields[2] === 'skipped') {
        failed++;
        continue;
      }
      latencies.push(Number(fields[2]) / 1000);
    }
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]! : 0);

  // The same invariant as for boxoffice: stored tickets == committed transactions, sold + available == total.
  const check = new pg.Client({ connectionString: url });
  await check.connect();
  const problems: string[] = [];
  let sold = 0;
  let available = 0;
  try {
    const { rows } = await check.query<{ available: number; sold: number; booked: number }>(
      `SELECT (SELECT available_tickets FROM ${schema}.events) AS available,
              (SELECT count(*)::int FROM ${schema}.tickets) AS sold,
              (SELECT coalesce(sum(tickets), 0)::int FROM ${schema}.bookings) AS booked`,
    );
    const row = rows[0]!;
    sold = row.sold;
    available = row.available;
    if (row.sold + row.available !== TOTAL) problems.push(`textbook: sold ${row.sold} + available ${row.available} != ${TOTAL}`);
    if (row.sold !== row.booked) problems.push(`textbook: ${row.sold} tickets but bookings add up to ${row.booked}`);
    const committed = warm.transactions + measured.transactions;
    if (row.sold !== committed) problems.push(`textbook: pgbench reports ${committed} transactions, ${row.sold} tickets stored`);
    await check.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await check.end();
  }
  const sum = latencies.reduce((a, b) => a + b, 0);
  return {
    tps: measured.tps,
    transactions: measured.transactions,
    elapsedMs: options.durationSec * 1000,
    p50: pct(50),
    p99: pct(99),
    p999: pct(99.9),
    mean: latencies.length ? sum / latencies.length : 0,
    failed: failed + measured.failed,
    verify: { ok: problems.length === 0, problems, sold, available, total: TOTAL, committed: warm.transactions + measured.transactions },
    command: `PGOPTIONS='-c search_path=${schema}' pgbench ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`,
  };
}

function pgbench(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ tps: number; transactions: number; failed: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`pgbench exited with ${code}:\n${output}`));
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output);
      const tx = /number of transactions actually processed: (\d+)/.exec(output);
      const failed = /number of failed transactions: (\d+)/.exec(output);
      if (!tps || !tx) return reject(new Error(`cannot read pgbench's output:\n${output}`));
      resolve({ tps: Number(tps[1]), transactions: Number(tx[1]), failed: failed ? Number(failed[1]) : 0, output });
    });
  });
}
