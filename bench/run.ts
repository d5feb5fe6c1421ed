/**
 * `npm run bench [-- options]`: runs every scenario against the built server and writes the table
 * (stdout and bench/RESULTS.md), the raw numbers (bench/results.json) and the chart (bench/chart.svg).
 * Exits non-zero if any booking scenario broke the invariant or a scenario could not run.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { pgbenchAvailable } from './pgbench.js';
import { attachRatios, chartSvg, describeMachine, evaluateTargets, markdownTable, resultsMarkdown, targetsTable } from './report.js';
import { DEFAULT_QUEUE_BUYERS } from './queue.js';
import { allScenarios, type BenchOptions, type Row } from './scenarios.js';

const HELP = `usage: npm run bench -- [options]

  --quick                 every scenario 3 s (warm-up 1 s) instead of 10 s (warm-up 2 s)
  --duration <s>          measured seconds per scenario (default 10)
  --warmup <s>            warm-up seconds per scenario, not measured (default 2, 1 with --quick)
  --connections <n>       keep-alive connections (default 64)
  --db <postgres://…>     also run the PostgreSQL rows and the pgbench textbook row
                          (default: $BOXOFFICE_BENCH_PG_URL when set)
  --only <a,b,…>          run only these scenarios (ids from the table; 'pg-*' matches a prefix)
  --no-group-commit       add a --max-batch 1 twin of every booking scenario
                          (hot-nogc and pg-hot-nogc always run)
  --log-level <level>     server log level (default: the server's own default, info)
  --cpu-prof <dir>        run the servers under node --cpu-prof, profiles in <dir>/<scenario>/
  --queue-buyers <n>      buyers of the queue row (default 10000; each its own 127.1.x.y
                          address and event stream)
  --out <dir>             where RESULTS.md, results.json and chart.svg go (default bench/)
  --keep                  keep data dirs and PostgreSQL schemas for inspection
  --list                  print the scenario ids and exit
`;

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

function parseOptions(): { options: BenchOptions; outDir: string; list: boolean } {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      db: { type: 'string' },
      only: { type: 'string' },
      'no-group-commit': { type: 'boolean', default: false },
      'log-level': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'queue-buyers': { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const positive = (name: string, raw: string | undefined, fallback: number, allowZero = false) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${raw}"`);
    return n;
  };
  const quick = values.quick ?? false;
  const pgUrl = values.db ?? process.env.BOXOFFICE_BENCH_PG_URL ?? undefined;
  if (pgUrl !== undefined && !/^postgres(ql)?:\/\//.test(pgUrl)) throw new Error(`--db must be a postgres:// URL, got "${pgUrl}"`);
  const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
  const connections = Math.round(positive('connections', values.connections, 64));
  const options: BenchOptions = {
    quick,
    durationSec: positive('duration', values.duration, quick ? 3 : 10),
    warmupSec: positive('warmup', values.warmup, quick ? 1 : 2, true),
    connections,
    pgUrl: pgUrl || undefined,
    only: values.only ? values.only.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    noGroupCommit: values['no-group-commit'] ?? false,
    logLevel: values['log-level'],
    cpuProfDir: values['cpu-prof'] ? resolve(values['cpu-prof']) : undefined,
    keep: values.keep ?? false,
    cliPath: join(REPO_ROOT, 'dist', 'cli.js'),
    workDir: join(os.tmpdir(), `boxoffice-bench-${runId}`),
    runId,
    adminToken: `bench-${randomBytes(16).toString('hex')}`,
    queueBuyers: Math.round(positive('queue-buyers', values['queue-buyers'], DEFAULT_QUEUE_BUYERS)),
  };
  // Buyers' addresses are 127.1.x.y with x < 256 (and two more for the row's probes).
  if (options.queueBuyers > 250 * 256 - 2) throw new Error('--queue-buyers must be at most 63998');
  return { options, outDir: resolve(values.out ?? join(REPO_ROOT, 'bench')), list: values.list ?? false };
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ v: string; s: string; f: string }>(
      "SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS s, current_setting('fsync') AS f",
    );
    return `${rows[0]?.v ?? '?'} (fsync=${rows[0]?.f ?? '?'}, synchronous_commit=${rows[0]?.s ?? '?'}), on this machine`;
  } finally {
    await client.end();
  }
}

function progressLine(row: Row): string {
  const base = `${row.id.padEnd(16)} ${row.status.padEnd(7)}`;
  if (row.status === 'error' || row.status === 'warning') return `${base} ${row.notes.join('; ')}`;
  const ratio = row.ratio !== undefined ? ` ×${row.ratio.toFixed(2)}` : '';
  return `${base} ${Math.round(row.rps).toString().padStart(7)} req/s  p50 ${row.p50.toFixed(2)}  p99 ${row.p99.toFixed(2)}  p99.9 ${row.p999.toFixed(2)} ms${ratio}  ${JSON.stringify(row.statuses)}  rss ${(row.peakRssBytes / 1e6).toFixed(0)} MB${row.notes.length ? `  ${row.notes.join('; ')}` : ''}`;
}

async function main(): Promise<number> {
  const { options, outDir, list } = parseOptions();
  const scenarios = allScenarios(options);
  if (list) {
    for (const s of scenarios) process.stdout.write(`${s.id.padEnd(18)} ${s.store.padEnd(9)} ${s.title}\n`);
    return 0;
  }
  if (!existsSync(options.cliPath)) throw new Error(`${options.cliPath} is missing: run \`npm run build\` first`);
  const require = createRequire(import.meta.url);
  const machine = describeMachine(REPO_ROOT, (require('autocannon/package.json') as { version: string }).version);
  if (options.pgUrl) {
    try {
      machine.postgres = await postgresVersion(options.pgUrl);
    } catch (err) {
      throw new Error(`cannot reach PostgreSQL at --db: ${(err as Error).message}`);
    }
    if (scenarios.some((s) => s.id === 'pgbench') && !(await pgbenchAvailable())) throw new Error('pgbench is not on the PATH (it comes with the postgresql-client package)');
  }
  mkdirSync(options.workDir, { recursive: true });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(`boxoffice bench: ${scenarios.length} scenarios, ${options.connections} connections, ${options.warmupSec} s warm-up + ${options.durationSec} s each; work dir ${options.workDir}`);
  const started = performance.now();
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    const t0 = performance.now();
    const row = await scenario.run(options);
    rows.push(row);
    attachRatios(rows);
    log(`${progressLine(row)}  (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  machine.loadEnd = Math.round(os.loadavg()[0]! * 100) / 100;
  attachRatios(rows);
  const targets = evaluateTargets(rows);

  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'RESULTS.md'), resultsMarkdown(machine, options, rows, targets, wallSeconds));
  const { adminToken: _token, ...publicOptions } = options;
  writeFileSync(
    join(outDir, 'results.json'),
    `${JSON.stringify({ machine, options: { ...publicOptions, pgUrl: options.pgUrl ? '(set)' : undefined }, wallSeconds, rows, targets }, null, 2)}\n`,
  );
  writeFileSync(join(outDir, 'chart.svg'), chartSvg(rows, machine));
  if (!options.keep) rmSync(options.workDir, { recursive: true, force: true });

  process.stdout.write(`\n${markdownTable(rows)}\n\n${targetsTable(targets)}\n\n`);
  process.stdout.write(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, commit ${machine.commit}${machine.dirty ? ' (+uncommitted src changes)' : ''}; ${wallSeconds.toFixed(0)} s\n`);
  process.stdout.write(`wrote ${join(outDir, 'RESULTS.md')}, results.json, chart.svg\n`);
  const bad = rows.filter((r) => r.status === 'failed' || r.status === 'error');
  if (bad.length > 0) {
    process.stderr.write(`\nbench FAILED: ${bad.map((r) => `${r.id} (${r.status}: ${r.notes.join('; ')})`).join(', ')}\n`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
