/**
 * `npm run soak -- --rounds 200`: the long version of test/e2e/crash.test.ts. Runs N kill -9 /
 * restart rounds of the built server under booking load (SQLite in a temp data dir, or PostgreSQL
 * with --db postgres://…), checks every promise after every restart, and ends with one line:
 *
 *   200 crashes, 41,372 acknowledged tickets, 0 lost, 0 oversold
 *
 * Exit status 0 only when every check of every round held.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { postgresProbe, sqliteProbe } from '../test/e2e/booking-load.js';
import { runCrashRounds, summaryLine } from '../test/e2e/crash-rounds.js';
import { killAllProcesses } from '../test/helpers/server-process.js';

const USAGE = `usage: npm run soak -- [--rounds N] [--seed N] [--connections N] [--events N] [--db postgres://…] [--keep]
  --rounds N        kill -9 / restart rounds (default 20)
  --seed N          seed of the kill moments and the request mix (default 1)
  --connections N   keep-alive connections of the booking load (default 32)
  --events N        events booked at once (default 3)
  --db URL          run on PostgreSQL (a fresh schema, dropped afterwards) instead of SQLite
  --keep            keep the data dir (and schema) for inspection`;

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) {
    process.stderr.write(`soak: --${name} must be a whole number ≥ 1, got "${raw}"\n${USAGE}\n`);
    process.exit(2);
  }
  return Number(raw);
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        rounds: { type: 'string' },
        seed: { type: 'string' },
        connections: { type: 'string' },
        events: { type: 'string' },
        db: { type: 'string' },
        keep: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const rounds = positive('rounds', args.rounds, 20);
  const seed = positive('seed', args.seed, 1);
  const connections = positive('connections', args.connections, 32);
  const events = positive('events', args.events, 3);
  const pgUrl = args.db;
  if (pgUrl !== undefined && !/^postgres(ql)?:\/\//.test(pgUrl)) {
    process.stderr.write(`soak: --db must be a postgres:// URL (SQLite is the default)\n`);
    return 2;
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'boxoffice-soak-'));
  const schema = `bo_soak_${process.pid}_${Date.now().toString(36)}`;
  const started = Date.now();
  process.stderr.write(
    `soak: ${rounds} rounds, seed ${seed}, ${connections} connections, ${events} events, ` +
      `${pgUrl ? `PostgreSQL schema ${schema}` : 'SQLite'}, data dir ${dataDir}\n`,
  );

  let ok = false;
  try {
    const result = await runCrashRounds({
      rounds,
      seed,
      dataDir,
      serverArgs: pgUrl ? ['--db', pgUrl, '--pg-schema', schema, '--log-level', 'warn'] : ['--log-level', 'warn'],
      probe: pgUrl ? postgresProbe(pgUrl, schema) : sqliteProbe(dataDir),
      connections,
      events,
      // Reading every acknowledgement back after every one of hundreds of restarts would be quadratic:
      // the storage check covers all of them, HTTP reads back the last round's and a sample of the rest.
      lookUpAll: false,
      sampleOlder: 300,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    process.stderr.write(
      `soak: ${result.acknowledgedBookings.toLocaleString('en-US')} acknowledged bookings, ${result.storedTickets.toLocaleString('en-US')} tickets stored, ` +
        `${result.lookups.toLocaleString('en-US')} HTTP read-backs, ${result.events.length} events, ` +
        `${result.rounds.filter((r) => r.inFlightAtKill > 0).length}/${result.crashes} kills with requests in flight, ${seconds} s\n`,
    );
    for (const violation of result.violations) process.stderr.write(`VIOLATION ${violation}\n`);
    process.stdout.write(`${summaryLine(result)}\n`);
    ok = result.violations.length === 0 && result.lost === 0 && result.oversold === 0 && result.crashes === rounds;
  } catch (err) {
    process.stderr.write(`soak: stopped: ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    await killAllProcesses();
    if (ok && !args.keep) {
      rmSync(dataDir, { recursive: true, force: true });
      if (pgUrl) await dropSchema(pgUrl, schema);
    } else {
      process.stderr.write(`soak: data kept in ${dataDir}${pgUrl ? ` and schema ${schema}` : ''}\n`);
    }
  }
  return ok ? 0 : 1;
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

// Ctrl-C: stop the server being soaked too, then leave.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`soak: ${signal}, stopping\n`);
    void killAllProcesses().finally(() => process.exit(130));
  });
}

process.exitCode = await main();
