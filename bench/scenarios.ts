/**
 * The scenarios, each one row of the table. Every HTTP scenario starts its own server process(es)
 * with a fresh data dir (and, on PostgreSQL, a fresh schema), seeds events through the API, runs a
 * short warm-up, then the measured run, reads the server's peak RSS, verifies the invariant for
 * booking scenarios, and stops the server.
 */
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { emptyTally, mergeTally, runLoad, type LoadResult, type RequestDef } from './load.js';
import { CHECKIN_DOORS, CHECKIN_TICKETS, runCheckin } from './checkin.js';
import { runPgbench } from './pgbench.js';
import { runQueue } from './queue.js';
import { api, startServer, type ProcessMemory, type RunningServer } from './server.js';
import { forEachLimit, judge, readDatabase, readThroughApi, type DbEventRow, type StoreRef, type VerifyReport } from './verify.js';

export interface BenchOptions {
  connections: number;
  durationSec: number;
  warmupSec: number;
  quick: boolean;
  pgUrl: string | undefined;
  only: string[] | undefined;
  noGroupCommit: boolean;
  logLevel: string | undefined;
  cpuProfDir: string | undefined;
  keep: boolean;
  cliPath: string;
  workDir: string;
  runId: string;
  adminToken: string;
  /** Buyers of the `queue` row. */
  queueBuyers: number;
}

export type RowKind = 'ceiling' | 'read' | 'book' | 'mixed' | 'textbook' | 'checkin' | 'queue';
export type RowStatus = 'ok' | 'warning' | 'failed' | 'error';

export interface Row {
  id: string;
  title: string;
  store: 'sqlite' | 'postgres' | 'none';
  layout: string;
  kind: RowKind;
  /** Row id of the matching ceiling, or 'blend' (mixed: 90 % GET ceiling, 10 % POST ceiling). */
  ceiling: string | undefined;
  status: RowStatus;
  connections: number;
  rps: number;
  responses: number;
  sent: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  max: number;
  statuses: Record<string, number>;
  statusesByKind: Record<string, Record<string, number>>;
  errors: number;
  /** Peak resident memory (VmHWM) per server process, and their sum. */
  rss: ProcessMemory[];
  peakRssBytes: number;
  verify: VerifyReport | undefined;
  notes: string[];
  extra: Record<string, number | string | boolean>;
  command: string;
  /** Filled in by the report: rps / matching ceiling rps. */
  ratio?: number | undefined;
}

interface SeedSpec {
  count: number;
  total: number;
}

interface Layout {
  workers?: number;
  nodes?: number;
  maxBatch?: number;
}

interface HttpScenario {
  id: string;
  title: string;
  store: 'sqlite' | 'postgres';
  kind: RowKind;
  ceiling: string | undefined;
  layout: Layout;
  /** Events to create before the run; ids come back in this order. */
  seed: SeedSpec[];
  /** The request list of client i in the measured run (and in the warm-up unless warmup is given). */
  requests: (ids: string[], client: number) => RequestDef[];
  warmup?: (ids: string[], client: number) => RequestDef[];
  /** Ends the measured run early (sellout). */
  stopWhen?: LoadStop;
  /** Longest measured run, when it is meant to end through stopWhen rather than after --duration. */
  maxDurationSec?: (o: BenchOptions) => number;
  /** After the run: notes and extra numbers for the row. */
  describe?: (measured: LoadResult, ids: string[]) => { notes: string[]; extra: Record<string, number | string | boolean> };
  /** Probe before measuring: a 404 turns the row into a warning instead of a failure. */
  requiresRoute?: { method: 'GET' | 'POST'; path: string; body?: string };
}

type LoadStop = (elapsedMs: number, tally: LoadResult['tally']) => boolean;

export interface Scenario {
  id: string;
  title: string;
  store: 'sqlite' | 'postgres' | 'none';
  run(options: BenchOptions): Promise<Row>;
}

const BOOKING_BODY = JSON.stringify({ tickets: 1 });
const LIST_EVENTS = 1000;
const SELLOUT_TICKETS = 10_000;
const PLENTY = 10_000_000;
const PER_SPREAD_EVENT = 1_000_000;

const book = (eventId: string): RequestDef => ({ kind: 'book', method: 'POST', path: `/events/${eventId}/bookings`, body: BOOKING_BODY, eventId });
const reserve = (eventId: string): RequestDef => ({ kind: 'book', method: 'POST', path: `/reserve?eventId=${eventId}&tickets=1`, eventId });
const list: RequestDef = { kind: 'list', method: 'GET', path: '/events' };
const health: RequestDef = { kind: 'health', method: 'GET', path: '/healthz' };
const noop: RequestDef = { kind: 'noop', method: 'POST', path: '/noop', body: BOOKING_BODY };

/** Deterministic per-client shuffles, so runs are comparable. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** 90 % list / 10 % book, each client starting at a different point of the cycle. */
function mixedCycle(hotId: string, client: number): RequestDef[] {
  const cycle: RequestDef[] = [...Array.from({ length: 9 }, () => list), book(hotId)];
  const offset = client % cycle.length;
  return [...cycle.slice(offset), ...cycle.slice(0, offset)];
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function sqliteScenarios(): HttpScenario[] {
  const s = 'sqlite' as const;
  return [
    {
      id: 'ceiling-get',
      title: 'ceiling: GET /healthz',
      store: s,
      kind: 'ceiling',
      ceiling: 'ceiling-get',
      layout: {},
      seed: [],
      requests: () => [health],
    },
    {
      id: 'ceiling-post',
      title: 'ceiling: POST /noop {"tickets":1}',
      store: s,
      kind: 'ceiling',
      ceiling: 'ceiling-post',
      layout: {},
      seed: [],
      requests: () => [noop],
      requiresRoute: { method: 'POST', path: '/noop', body: BOOKING_BODY },
    },
    {
      id: 'list',
      title: `list: GET /events (${fmtInt(LIST_EVENTS)} events)`,
      store: s,
      kind: 'read',
      ceiling: 'ceiling-get',
      layout: {},
      seed: [{ count: LIST_EVENTS, total: PER_SPREAD_EVENT }],
      requests: () => [list],
    },
    hotScenario('hot', 'hot: POST /events/:id/bookings, one event', s, 'ceiling-post', {}),
    hotScenario('hot-nogc', 'hot, no group commit (--max-batch 1)', s, 'ceiling-post', { maxBatch: 1 }),
    {
      id: 'hot-seed',
      title: 'hot-seed: POST /reserve?eventId=..&tickets=1',
      store: s,
      kind: 'book',
      ceiling: 'ceiling-post',
      layout: {},
      seed: [{ count: 1, total: PLENTY }],
      requests: (ids) => [reserve(ids[0]!)],
    },
    spreadScenario('spread', `spread: bookings over ${fmtInt(LIST_EVENTS)} events`, s, 'ceiling-post', {}),
    selloutScenario('sellout', s, {}),
    {
      id: 'mixed',
      title: `mixed: 90 % list / 10 % book (${fmtInt(LIST_EVENTS)} events)`,
      store: s,
      kind: 'mixed',
      ceiling: 'blend',
      layout: {},
      seed: [{ count: LIST_EVENTS, total: PER_SPREAD_EVENT }],
      requests: (ids, client) => mixedCycle(ids[0]!, client),
    },
  ];
}

function postgresScenarios(): HttpScenario[] {
  const p = 'postgres' as const;
  const ceiling = (id: string, title: string, layout: Layout): HttpScenario => ({
    id,
    title,
    store: p,
    kind: 'ceiling',
    ceiling: id,
    layout,
    seed: [],
    requests: () => [noop],
    requiresRoute: { method: 'POST', path: '/noop', body: BOOKING_BODY },
  });
  return [
    ceiling('ceiling-post-w2', 'ceiling: POST /noop, --workers 2', { workers: 2 }),
    ceiling('ceiling-post-4n', 'ceiling: POST /noop, 4 processes', { nodes: 4 }),
    hotScenario('pg-hot', 'hot on PostgreSQL, 1 process', p, 'ceiling-post', {}),
    hotScenario('pg-hot-nogc', 'hot on PostgreSQL, no group commit', p, 'ceiling-post', { maxBatch: 1 }),
    spreadScenario('pg-spread', 'spread on PostgreSQL, 1 process', p, 'ceiling-post', {}),
    hotScenario('pg-hot-w2', 'hot on PostgreSQL, --workers 2', p, 'ceiling-post-w2', { workers: 2 }),
    spreadScenario('pg-spread-w2', 'spread on PostgreSQL, --workers 2', p, 'ceiling-post-w2', { workers: 2 }),
    hotScenario('pg-hot-4n', 'hot on PostgreSQL, 4 processes, one schema', p, 'ceiling-post-4n', { nodes: 4 }),
    spreadScenario('pg-spread-4n', 'spread on PostgreSQL, 4 processes, one schema', p, 'ceiling-post-4n', { nodes: 4 }),
  ];
}

function hotScenario(id: string, title: string, store: 'sqlite' | 'postgres', ceiling: string, layout: Layout): HttpScenario {
  return { id, title, store, kind: 'book', ceiling, layout, seed: [{ count: 1, total: PLENTY }], requests: (ids) => [book(ids[0]!)] };
}

function spreadScenario(id: string, title: string, store: 'sqlite' | 'postgres', ceiling: string, layout: Layout): HttpScenario {
  return {
    id,
    title,
    store,
    kind: 'book',
    ceiling,
    layout,
    seed: [{ count: LIST_EVENTS, total: PER_SPREAD_EVENT }],
    requests: (ids, client) => shuffled(ids.map(book), client + 1),
  };
}

function selloutScenario(id: string, store: 'sqlite' | 'postgres', layout: Layout): HttpScenario {
  return {
    id,
    title: `sellout: race for ${fmtInt(SELLOUT_TICKETS)} tickets`,
    store,
    kind: 'book',
    ceiling: 'ceiling-post',
    layout,
    // ids[0] is raced for; ids[1] takes the warm-up, so the race starts at 10,000.
    seed: [
      { count: 1, total: SELLOUT_TICKETS },
      { count: 1, total: PLENTY },
    ],
    warmup: (ids) => [book(ids[1]!)],
    requests: (ids) => [book(ids[0]!)],
    // The race runs until the event is gone (at most 60 s, or --duration if longer); once the first
    // 409 arrived, one more second of refusals is measured, then it stops.
    maxDurationSec: (o) => Math.max(o.durationSec, 60),
    stopWhen: (elapsedMs, tally) => tally.first409Ms !== undefined && elapsedMs > tally.first409Ms + 1000,
    describe: (measured, ids) => {
      const sold = measured.tally.booked2xxByEvent.get(ids[0]!) ?? 0;
      const soldOut = sold === SELLOUT_TICKETS;
      const refusals = measured.tally.byKind.book?.['409'] ?? 0;
      const lastSaleMs = measured.tally.last2xxBookMs ?? 0;
      const afterMs = measured.elapsedMs - lastSaleMs;
      const notes = soldOut
        ? [
            `sold out in ${(lastSaleMs / 1000).toFixed(2)} s (${fmtInt(sold / (lastSaleMs / 1000))} bookings/s)`,
            `then ${fmtInt(refusals)} × 409 in ${(afterMs / 1000).toFixed(2)} s (${fmtInt(refusals / Math.max(afterMs / 1000, 0.001))}/s)`,
          ]
        : [`NOT sold out within the run: ${fmtInt(sold)} of ${fmtInt(SELLOUT_TICKETS)} sold`];
      return { notes, extra: { soldOut, sold, timeToSellOutMs: lastSaleMs, refusalsAfter: refusals, refusalsPerSecond: refusals / Math.max(afterMs / 1000, 0.001) } };
    },
  };
}

/** Every scenario in table order; PostgreSQL ones only with a URL. `--no-group-commit` adds twins. */
export function allScenarios(options: BenchOptions): Scenario[] {
  let http = sqliteScenarios();
  if (options.pgUrl) http = [...http, ...postgresScenarios()];
  if (options.noGroupCommit) {
    const twins: HttpScenario[] = [];
    for (const s of http) {
      twins.push(s);
      const id = `${s.id}-nogc`;
      if (s.kind !== 'book' && s.kind !== 'mixed') continue;
      if (s.layout.maxBatch === 1 || http.some((o) => o.id === id)) continue;
      twins.push({ ...s, id, title: `${s.title}, no group commit`, layout: { ...s.layout, maxBatch: 1 } });
    }
    http = twins;
  }
  const scenarios: Scenario[] = http.map((s) => ({ id: s.id, title: s.title, store: s.store, run: (o) => runHttpScenario(s, o) }));
  const checkinTitle = `checkin: ${CHECKIN_DOORS} doors race over ${fmtInt(CHECKIN_TICKETS)} tickets (POST /events/:id/checkins)`;
  scenarios.splice(scenarios.findIndex((s) => s.id === 'hot') + 1, 0, {
    id: 'checkin',
    title: checkinTitle,
    store: 'sqlite',
    run: (o) => runCheckin(o, blankRow({ id: 'checkin', title: checkinTitle, store: 'sqlite', kind: 'checkin', ceiling: 'ceiling-post' }, '1 process', o.connections)),
  });
  const queueTitle = `queue: ${fmtInt(options.queueBuyers)} buyers join the waiting room before the sale, then all are admitted and book`;
  scenarios.splice(scenarios.findIndex((s) => s.id === 'checkin') + 1, 0, {
    id: 'queue',
    title: queueTitle,
    store: 'sqlite',
    run: (o) => runQueue(o, blankRow({ id: 'queue', title: queueTitle, store: 'sqlite', kind: 'queue', ceiling: 'ceiling-post' }, '1 process', o.connections)),
  });
  if (options.pgUrl) {
    scenarios.push({ id: 'pgbench', title: 'textbook transaction, pgbench, 32 clients', store: 'postgres', run: (o) => runTextbook(o) });
  }
  if (!options.only) return scenarios;
  const only = options.only;
  const unknown = only.filter((want) => !scenarios.some((s) => matches(s.id, want)));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.id).join(', ')}`);
  return scenarios.filter((s) => only.some((want) => matches(s.id, want)));
}

function matches(id: string, pattern: string): boolean {
  if (pattern.endsWith('*')) return id.startsWith(pattern.slice(0, -1));
  return id === pattern;
}

function layoutText(layout: Layout): string {
  const parts = [layout.nodes ? `${layout.nodes} processes` : layout.workers ? `--workers ${layout.workers}` : '1 process'];
  if (layout.maxBatch) parts.push(`--max-batch ${layout.maxBatch}`);
  return parts.join(', ');
}

function blankRow(s: { id: string; title: string; store: Row['store']; kind: RowKind; ceiling: string | undefined }, layout: string, connections: number): Row {
  return {
    id: s.id,
    title: s.title,
    store: s.store,
    layout,
    kind: s.kind,
    ceiling: s.ceiling,
    status: 'ok',
    connections,
    rps: 0,
    responses: 0,
    sent: 0,
    elapsedMs: 0,
    p50: 0,
    p99: 0,
    p999: 0,
    mean: 0,
    max: 0,
    statuses: {},
    statusesByKind: {},
    errors: 0,
    rss: [],
    peakRssBytes: 0,
    verify: undefined,
    notes: [],
    extra: {},
    command: '',
  };
}

async function seedEvents(base: string, token: string, seed: SeedSpec[]): Promise<{ ids: string[]; totals: number[] }> {
  const specs: number[] = seed.flatMap((s) => Array.from({ length: s.count }, () => s.total));
  const ids: string[] = new Array(specs.length);
  await forEachLimit(specs, 8, async (total, i) => {
    const minute = String(i % 60).padStart(2, '0');
    const hour = String(Math.floor(i / 60) % 24).padStart(2, '0');
    const res = await api(base, 'POST', '/events', {
      token,
      body: { name: `Bench event ${String(i).padStart(4, '0')}`, date: `2030-06-01T${hour}:${minute}:00.000Z`, totalTickets: total },
    });
    if (res.status !== 201) throw new Error(`seeding: POST /events answered ${res.status} ${res.text.slice(0, 200)}`);
    ids[i] = (res.json as { id: string }).id;
  });
  return { ids, totals: specs };
}

/**
 * SQLite databases holding just the seeded events, by seed spec. Seeding 1,000 events through the API
 * costs 1,000 fsync'd inserts (seconds); the first scenario that seeds them and writes nothing else
 * (`list`) leaves its file here, and later scenarios with the same events (`spread`, `mixed`) start
 * from a copy of it instead of seeding again.
 */
const seededTemplates = new Map<string, { file: string; ids: string[]; totals: number[] }>();
const seedKey = (seed: SeedSpec[]) => JSON.stringify(seed);

async function runHttpScenario(s: HttpScenario, o: BenchOptions): Promise<Row> {
  const nodes = s.layout.nodes ?? 1;
  const row = blankRow(s, layoutText(s.layout), o.connections);
  const dir = join(o.workDir, s.id);
  const schema = s.store === 'postgres' ? `bench_${s.id.replace(/[^a-z0-9]/g, '_')}_${o.runId}`.slice(0, 40) : undefined;
  const args: string[] = [];
  if (s.store === 'postgres') args.push('--db', o.pgUrl!, '--pg-schema', schema!);
  if (s.layout.workers) args.push('--workers', String(s.layout.workers));
  if (s.layout.maxBatch) args.push('--max-batch', String(s.layout.maxBatch));
  // The server admits at most max-inflight/8 requests in flight per client address (64 by default),
  // and every connection comes from 127.0.0.1: above 64 connections, raise the limit so the run
  // measures bookings rather than 429s.
  if (o.connections > 64) args.push('--max-inflight', String(o.connections * 8));
  row.command = `node dist/cli.js serve --headless --port P --data-dir D ${args.join(' ').replace(o.pgUrl ?? '\u0000', '$PG_URL')}${nodes > 1 ? `  (×${nodes}, one port each)` : ''}`;
  const storeRef: StoreRef =
    s.store === 'postgres' ? { kind: 'postgres', url: o.pgUrl!, schema: schema! } : { kind: 'sqlite', file: join(dir, 'boxoffice.db') };

  const servers: RunningServer[] = [];
  let dbWhileRunning: Map<string, DbEventRow> | undefined;
  let apiAvailable = new Map<string, number>();
  const problems: string[] = [];
  const total = emptyTally();
  let lostAnswers = 0;
  let ids: string[] = [];
  let totals: number[] = [];
  const template = s.store === 'sqlite' && nodes === 1 && s.seed.length > 0 ? seededTemplates.get(seedKey(s.seed)) : undefined;
  if (template) {
    mkdirSync(dir, { recursive: true });
    copyFileSync(template.file, join(dir, 'boxoffice.db'));
    if (existsSync(`${template.file}-wal`)) copyFileSync(`${template.file}-wal`, join(dir, 'boxoffice.db-wal'));
    ({ ids, totals } = template);
  }
  try {
    // Nodes start one after the other: they share the schema's migration lock anyway.
    for (let i = 0; i < nodes; i++) {
      servers.push(
        await startServer({
          cliPath: o.cliPath,
          dataDir: nodes > 1 ? join(dir, `node${i}`) : dir,
          adminToken: o.adminToken,
          args,
          logLevel: o.logLevel,
          nodeArgs: o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(o.cpuProfDir, s.id)] : [],
        }),
      );
    }
    const urls = servers.map((server) => server.url);
    if (s.requiresRoute) {
      const r = s.requiresRoute;
      const res = await api(urls[0]!, r.method, r.path, r.body !== undefined ? { body: JSON.parse(r.body) } : {});
      if (res.status === 404) {
        row.status = 'warning';
        row.notes.push(`${r.method} ${r.path} answered 404: this server has no no-op POST route yet, so there is no POST ceiling`);
        return row;
      }
    }
    if (!template) ({ ids, totals } = await seedEvents(urls[0]!, o.adminToken, s.seed));
    if (o.warmupSec > 0) {
      const warm = await runLoad({ urls, connections: o.connections, durationSec: o.warmupSec, requestsFor: (c) => (s.warmup ?? s.requests)(ids, c) });
      mergeTally(total, warm.tally);
      lostAnswers += warm.errors;
    }
    const measured = await runLoad({ urls, connections: o.connections, durationSec: s.maxDurationSec?.(o) ?? o.durationSec, requestsFor: (c) => s.requests(ids, c), ...(s.stopWhen ? { stopWhen: s.stopWhen } : {}) });
    mergeTally(total, measured.tally);
    lostAnswers += measured.errors;
    Object.assign(row, {
      rps: measured.rps,
      responses: measured.responses,
      sent: measured.sent,
      elapsedMs: measured.elapsedMs,
      p50: measured.p50,
      p99: measured.p99,
      p999: measured.p999,
      mean: measured.mean,
      max: measured.max,
      statuses: measured.statuses,
      statusesByKind: measured.tally.byKind,
      errors: measured.errors,
    });
    row.extra.bytesPerResponse = Math.round(measured.bytesPerResponse);
    if (measured.bytesPerResponse > 10_000) row.notes.push(`${(measured.bytesPerResponse / 1024).toFixed(0)} KiB per answer on average`);
    if (measured.errors > 0) row.notes.push(`${fmtInt(measured.errors)} socket errors/timeouts`);
    if (s.describe) {
      const d = s.describe(measured, ids);
      row.notes.push(...d.notes);
      Object.assign(row.extra, d.extra);
    }
    row.rss = servers.flatMap((server) => server.peakRss());
    row.peakRssBytes = row.rss.reduce((sum, p) => sum + p.hwmBytes, 0);

    if (s.kind === 'book' || s.kind === 'mixed') {
      dbWhileRunning = await readDatabase(storeRef, ids);
      const expected = new Map([...dbWhileRunning].map(([id, r]) => [id, r.available]));
      // Ask the last process: on several nodes its caches had to learn of the others' commits.
      apiAvailable = await readThroughApi(
        {
          baseUrl: urls[urls.length - 1]!,
          events: ids.map((id, i) => ({ id, total: totals[i]! })),
          booked2xxByEvent: total.booked2xxByEvent,
          lostAnswers,
          sampleBookingBody: total.sampleBookingBody,
        },
        problems,
        expected,
      );
    }
  } catch (err) {
    row.status = 'error';
    row.notes.push(`error: ${(err as Error).message.split('\n')[0]}`);
    process.stderr.write(`[${s.id}] ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }

  if (row.status === 'ok' && s.kind === 'read' && s.store === 'sqlite' && nodes === 1 && s.seed.length > 0 && !template) {
    // A read-only scenario left exactly the seeded events behind (the server stopped cleanly, so the
    // WAL is checkpointed into the file).
    const file = join(o.workDir, 'templates', `${s.id}.db`);
    mkdirSync(join(o.workDir, 'templates'), { recursive: true });
    if (existsSync(join(dir, 'boxoffice.db-wal'))) copyFileSync(join(dir, 'boxoffice.db-wal'), `${file}-wal`);
    copyFileSync(join(dir, 'boxoffice.db'), file);
    seededTemplates.set(seedKey(s.seed), { file, ids, totals });
  }
  if (row.status !== 'error' && (s.kind === 'book' || s.kind === 'mixed')) {
    try {
      // Read the database again after the server stopped: what a clean shutdown left on disk.
      const db = await readDatabase(storeRef, ids);
      for (const [id, before] of dbWhileRunning ?? new Map<string, DbEventRow>()) {
        const after = db.get(id);
        if (!after || after.sold !== before.sold || after.available !== before.available) {
          problems.push(`event ${id.slice(0, 8)} changed after the load ended: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
        }
      }
      row.verify = judge({ baseUrl: '', events: ids.map((id, i) => ({ id, total: totals[i]! })), booked2xxByEvent: total.booked2xxByEvent, lostAnswers }, apiAvailable, db, problems);
      if (!row.verify.ok) {
        row.status = 'failed';
        row.notes.push(`INVARIANT VIOLATED: ${row.verify.problems.slice(0, 3).join('; ')}${row.verify.problems.length > 3 ? ` (+${row.verify.problems.length - 3} more)` : ''}`);
      }
    } catch (err) {
      row.status = 'error';
      row.notes.push(`verification error: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  if (schema && !o.keep) await dropSchema(o.pgUrl!, schema);
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
  return row;
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } catch (err) {
    process.stderr.write(`could not drop schema ${schema}: ${(err as Error).message}\n`);
  } finally {
    await client.end().catch(() => {});
  }
}

async function runTextbook(o: BenchOptions): Promise<Row> {
  const row = blankRow({ id: 'pgbench', title: 'textbook: BEGIN; SELECT … FOR UPDATE; UPDATE; INSERT; COMMIT', store: 'postgres', kind: 'textbook', ceiling: undefined }, 'pgbench -c 32 -j 2', 32);
  try {
    const r = await runPgbench({
      url: o.pgUrl!,
      schema: `bench_textbook_${o.runId}`.slice(0, 40),
      dir: join(o.workDir, 'pgbench'),
      clients: 32,
      warmupSec: Math.max(1, o.warmupSec),
      durationSec: o.durationSec,
    });
    Object.assign(row, { rps: r.tps, responses: r.transactions, sent: r.transactions, elapsedMs: r.elapsedMs, p50: r.p50, p99: r.p99, p999: r.p999, mean: r.mean });
    row.statuses = { commit: r.transactions, ...(r.failed ? { failed: r.failed } : {}) };
    row.command = r.command.replace(o.pgUrl!, '$PG_URL');
    row.notes.push('one booking per transaction; the hot row lock serialises commits');
    row.verify = { ok: r.verify.ok, problems: r.verify.problems, checkedEvents: 1, answered2xx: r.verify.committed, ticketsStored: r.verify.sold, available: r.verify.available, total: r.verify.total };
    if (!r.verify.ok) {
      row.status = 'failed';
      row.notes.push(`INVARIANT VIOLATED: ${r.verify.problems.join('; ')}`);
    }
  } catch (err) {
    row.status = 'error';
    row.notes.push(`error: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!o.keep) rmSync(join(o.workDir, 'pgbench'), { recursive: true, force: true });
  return row;
}
