/**
 * The booking path measured with a generator that leaves the server the machine: wrk (C, one
 * thread, `apt-get install wrk`) in its own process, instead of autocannon inside this one. Every row
 * of one run starts its own server (`node dist/cli.js serve --headless --bench-routes`, SQLite, fresh
 * data dir) and reports the server's and wrk's CPU shares next to the throughput, so a reader sees
 * which side was the limit. Booking rows are verified: tickets stored == 2xx answers counted by wrk.
 *
 *   npm run bench:wrk                       # ceiling-get, ceiling-post, hot, spread; 8 s each, 64 connections;
 *                                           # each as one process and as `--workers 2` (one writer per machine)
 *   npm run bench:wrk -- --duration 4 --only hot,ceiling-post --rounds 2 --layouts 1,2
 *   npm run bench:wrk -- --db postgres://postgres@127.0.0.1:5432/test --only hot,pg-hot-1n,pg-hot-2n,pg-hot-4n
 *
 * With --db (or $BOXOFFICE_BENCH_PG_URL), PostgreSQL rows run too: 1, 2 and 4 nodes on one fresh schema,
 * one wrk per node (the connections split evenly), the rows' req/s summed and the worst node's p99
 * shown. Their requests carry a random X-Forwarded-For (the nodes run --trust-proxy), as an on-sale's
 * thousands of buyers behind a load balancer would: with one address for every request, the one
 * buyer's counter row is locked by every batch of every node (the `-1buyer` row shows that). The
 * `pg-sellout-4n` row is a correctness row, not a speed one: four nodes sell out one event and the
 * answers "not enough tickets" given while the database still had that stock 1 s later are counted.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { Pool as HttpPool } from 'undici';
import { api, startServer, type RunningServer } from './server.js';
import { readDatabase, type StoreRef } from './verify.js';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '64' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    /** Worker counts to run every SQLite scenario with: 1 is one process, N is `serve --workers N`. */
    layouts: { type: 'string', default: '1,2' },
    db: { type: 'string' },
  },
});
const pgUrl = values.db ?? process.env.BOXOFFICE_BENCH_PG_URL;
const durationSec = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);

interface Scenario {
  id: string;
  title: string;
  /** Events to seed (ticket totals). */
  seed: number[];
  /** The wrk Lua script's request part, given the event ids. */
  request: (ids: string[]) => string;
  books: boolean;
  /** PostgreSQL nodes on one schema (absent: one SQLite process). */
  nodes?: number;
  /** Each request from a random client address (X-Forwarded-For; the nodes trust it). */
  buyers?: 'many' | 'one';
}

/** One client address per request, for the nodes' --trust-proxy. */
const randomBuyer = `["X-Forwarded-For"] = "10." .. math.random(0, 255) .. "." .. math.random(0, 255) .. "." .. math.random(1, 254)`;

const HOT_TOTAL = 10_000_000;
const scenarios: Scenario[] = [
  { id: 'ceiling-get', title: 'GET /healthz (the HTTP stack alone)', seed: [], request: () => `wrk.method = "GET"; wrk.path = "/healthz"`, books: false },
  { id: 'ceiling-post', title: 'POST /noop {"tickets":1} (parsing, admission, a JSON answer)', seed: [], request: () => `wrk.method = "POST"; wrk.path = "/noop"; wrk.body = '{"tickets":1}'; wrk.headers["Content-Type"] = "application/json"`, books: false },
  {
    id: 'hot',
    title: 'POST /reserve?eventId=..&tickets=1 on one event',
    seed: [HOT_TOTAL],
    request: ([id]) => `wrk.method = "POST"; wrk.path = "/reserve?eventId=${id}&tickets=1"`,
    books: true,
  },
  {
    id: 'spread',
    title: 'POST /reserve?…&tickets=1 over 200 events',
    seed: Array.from({ length: 200 }, () => 1_000_000),
    request: (ids) => `local ids = {${ids.map((id) => `"${id}"`).join(',')}}
request = function() return wrk.format("POST", "/reserve?eventId=" .. ids[math.random(#ids)] .. "&tickets=1") end`,
    books: true,
  },
];
if (pgUrl) {
  for (const nodes of [1, 2, 4]) {
    scenarios.push({
      id: `pg-hot-${nodes}n`,
      title: `hot on PostgreSQL, ${nodes} node(s), one schema, a buyer per request`,
      seed: [HOT_TOTAL],
      request: ([id]) => `request = function() return wrk.format("POST", "/reserve?eventId=${id}&tickets=1", {${randomBuyer}}) end`,
      books: true,
      nodes,
      buyers: 'many',
    });
  }
  for (const nodes of [1, 2, 4]) {
    scenarios.push({
      id: `pg-spread-${nodes}n`,
      title: `spread (200 events) on PostgreSQL, ${nodes} node(s), a buyer per request`,
      seed: Array.from({ length: 200 }, () => 1_000_000),
      request: (ids) => `local ids = {${ids.map((id) => `"${id}"`).join(',')}}
request = function() return wrk.format("POST", "/reserve?eventId=" .. ids[math.random(#ids)] .. "&tickets=1", {${randomBuyer}}) end`,
      books: true,
      nodes,
      buyers: 'many',
    });
  }
  scenarios.push({
    id: 'pg-hot-4n-1buyer',
    title: 'hot on PostgreSQL, 4 nodes, every request from one address',
    seed: [HOT_TOTAL],
    request: ([id]) => `wrk.method = "POST"; wrk.path = "/reserve?eventId=${id}&tickets=1"`,
    books: true,
    nodes: 4,
    buyers: 'one',
  });
}

/** CPU seconds of a process and its children (the workers of `--workers N`), from /proc. */
function treeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // Gone already: its own figure below throws the same way.
  }
  return cpuSeconds(pid) + children.reduce((sum, child) => sum + treeCpuSeconds(child), 0);
}

/** CPU seconds (user + system) a process and its threads used so far, from /proc. */
function cpuSeconds(pid: number): number {
  // Fields after "(comm) ": state is [0], utime [11], stime [12], in clock ticks.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}
let ticks: number | undefined;
function clockTicks(): number {
  ticks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  return ticks;
}

interface WrkResult {
  requests: number;
  non2xx: number;
  socketErrors: number;
  rps: number;
  p50: number;
  p99: number;
  wrkCpu: number;
  wallSec: number;
}

/** Runs wrk to its end under bash's `time`, which gives wrk's own CPU seconds. */
function runWrk(url: string, script: string, conns = connections): Promise<WrkResult> {
  const file = join(os.tmpdir(), `boxoffice-wrk-${randomBytes(4).toString('hex')}.lua`);
  writeFileSync(file, script);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-c', `TIMEFORMAT='CPU %U %S %R'; time wrk -t1 -c${conns} -d${durationSec}s --latency -s ${file} ${url}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', (code) => {
      rmSync(file, { force: true });
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
      const ms = (re: RegExp) => {
        const m = re.exec(out);
        if (!m) return NaN;
        const v = Number(m[1]);
        return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
      };
      const cpu = /CPU ([\d.]+) ([\d.]+) ([\d.]+)/.exec(out);
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolvePromise({
        requests: num(/(\d+) requests in/),
        non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
        socketErrors: errors ? errors.slice(1).reduce((s, v) => s + Number(v), 0) : 0,
        rps: num(/Requests\/sec:\s+([\d.]+)/),
        p50: ms(/50%\s+([\d.]+)(us|ms|s)/),
        p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
        wrkCpu: cpu ? Number(cpu[1]) + Number(cpu[2]) : NaN,
        wallSec: cpu ? Number(cpu[3]) : durationSec,
      });
    });
  });
}

async function startNodes(s: Scenario, dataDir: string, adminToken: string, workers = 1): Promise<{ servers: RunningServer[]; store: StoreRef; drop: () => Promise<void> }> {
  const cliPath = join(REPO_ROOT, 'dist', 'cli.js');
  if (!s.nodes) {
    const server = await startServer({ cliPath, dataDir, adminToken, args: workers > 1 ? ['--workers', String(workers)] : [] });
    return { servers: [server], store: { kind: 'sqlite', file: join(dataDir, 'boxoffice.db') }, drop: async () => {} };
  }
  const schema = `wrk_${s.id.replace(/[^a-z0-9]/g, '_')}_${randomBytes(3).toString('hex')}`;
  const args = ['--db', pgUrl!, '--pg-schema', schema, ...(s.buyers === 'many' ? ['--trust-proxy'] : [])];
  const servers: RunningServer[] = [];
  // One after the other: they share the schema's migration lock anyway.
  for (let i = 0; i < s.nodes; i++) servers.push(await startServer({ cliPath, dataDir: join(dataDir, `node${i}`), adminToken, args }));
  const drop = async () => {
    const client = new pg.Client({ connectionString: pgUrl });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  };
  return { servers, store: { kind: 'postgres', url: pgUrl!, schema }, drop };
}

async function runScenario(s: Scenario, workers: number): Promise<string> {
  const dataDir = mkdtempSync(join(os.tmpdir(), `boxoffice-wrk-${s.id}-`));
  const adminToken = `bench-${randomBytes(16).toString('hex')}`;
  let servers: RunningServer[] = [];
  let drop = async () => {};
  try {
    const started = await startNodes(s, dataDir, adminToken, workers);
    servers = started.servers;
    drop = started.drop;
    const ids: string[] = [];
    for (const [i, total] of s.seed.entries()) {
      const res = await api(servers[0]!.url, 'POST', '/events', { token: adminToken, body: { name: `wrk ${i}`, date: '2030-06-01T20:00:00Z', totalTickets: total, maxTicketsPerBooking: 10 } });
      if (res.status !== 201) throw new Error(`seeding answered ${res.status}: ${res.text}`);
      ids.push((res.json as { id: string }).id);
    }
    const serverCpuBefore = servers.map((v) => treeCpuSeconds(v.pid));
    // One wrk per node, the connections split between them, all at once.
    const parts = await Promise.all(servers.map((v) => runWrk(v.url, s.request(ids), Math.max(1, Math.round(connections / servers.length)))));
    const serverCpu = servers.reduce((sum, v, i) => sum + treeCpuSeconds(v.pid) - serverCpuBefore[i]!, 0);
    const r: WrkResult = {
      requests: parts.reduce((n, p) => n + p.requests, 0),
      non2xx: parts.reduce((n, p) => n + p.non2xx, 0),
      socketErrors: parts.reduce((n, p) => n + p.socketErrors, 0),
      rps: parts.reduce((n, p) => n + p.rps, 0),
      p50: Math.max(...parts.map((p) => p.p50)),
      p99: Math.max(...parts.map((p) => p.p99)),
      wrkCpu: parts.reduce((n, p) => n + p.wrkCpu, 0),
      wallSec: Math.max(...parts.map((p) => p.wallSec)),
    };
    let verdict = '';
    if (s.books) {
      const db = await readDatabase(started.store, ids);
      const sold = [...db.values()].reduce((sum, e) => sum + e.sold, 0);
      const invariantOk = [...db.values()].every((e) => e.available + e.sold === e.total);
      const ok2xx = r.requests - r.non2xx;
      // wrk cuts its sockets at the deadline: requests on the wire then may commit unanswered (at most one per connection).
      const unanswered = sold - ok2xx;
      verdict =
        unanswered >= 0 && unanswered <= connections && r.non2xx === 0 && invariantOk
          ? `verified: ${sold} sold, ${ok2xx} × 2xx (${unanswered} cut at the deadline)`
          : `CHECK FAILED: ${sold} sold, ${ok2xx} × 2xx, ${r.non2xx} non-2xx, invariant ${invariantOk ? 'ok' : 'BROKEN'}`;
    }
    const share = (cpu: number) => `${Math.round((cpu / r.wallSec) * 100)} %`;
    const layout = s.nodes ? `${s.nodes} node${s.nodes > 1 ? 's' : ''}` : workers > 1 ? `--workers ${workers}` : '1 process';
    return `| ${s.id} | ${layout} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${share(serverCpu)} | ${share(r.wrkCpu)} | ${r.socketErrors} | ${verdict} |`;
  } finally {
    for (const v of servers) await v.stop();
    await drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Four nodes sell out one event of 20,000 tickets (requests of 1–4 tickets, 64 sockets, undici in
 * this process: a correctness row, its speed is not the point). A false sold-out: a 409
 * not_enough_tickets for n tickets while the database still had n available 1 s later (nothing
 * returns stock here, so it was there the whole second).
 */
async function sellOutRow(): Promise<string> {
  const s: Scenario = { id: 'pg-sellout-4n', title: '', seed: [20_000], request: () => '', books: true, nodes: 4, buyers: 'many' };
  const dataDir = mkdtempSync(join(os.tmpdir(), 'boxoffice-wrk-sellout-'));
  const adminToken = `bench-${randomBytes(16).toString('hex')}`;
  const started = await startNodes(s, dataDir, adminToken);
  const samples: Array<{ at: number; available: number }> = [];
  const answers: Array<{ status: number; error?: string; n: number; at: number; tickets: number }> = [];
  try {
    const res = await api(started.servers[0]!.url, 'POST', '/events', { token: adminToken, body: { name: 'sell-out', date: '2030-06-01T20:00:00Z', totalTickets: 20_000, maxTicketsPerBooking: 10 } });
    const eventId = (res.json as { id: string }).id;
    const { schema } = started.store as { schema: string };
    const db = new pg.Client({ connectionString: pgUrl });
    await db.connect();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await db.query(`SELECT e.available_tickets + coalesce((SELECT sum(available)::int FROM ${schema}.event_shares s WHERE s.event_id = e.id), 0) AS a FROM ${schema}.events e WHERE e.id = $1`, [eventId]);
        samples.push({ at: Date.now(), available: rows[0].a as number });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const pools = started.servers.map((v) => new HttpPool(v.url, { connections: 16 }));
    const t0 = Date.now();
    let firstRefusal = 0;
    await Promise.all(
      Array.from({ length: 64 }, async (_, w) => {
        for (let i = 0; Date.now() - t0 < 60_000 && !(firstRefusal && Date.now() - firstRefusal > 1500); i++) {
          const n = 1 + ((w + i) % 4);
          const r = await pools[w % pools.length]!.request({ method: 'POST', path: `/events/${eventId}/bookings`, headers: { 'content-type': 'application/json', 'x-forwarded-for': `10.1.${w}.${(i % 250) + 1}` }, body: JSON.stringify({ tickets: n }) });
          const body = (await r.body.json()) as { error?: string; tickets?: unknown[] };
          answers.push({ status: r.statusCode, error: body.error, n, at: Date.now(), tickets: body.tickets?.length ?? 0 });
          if (r.statusCode === 409 && !firstRefusal) firstRefusal = Date.now();
        }
      }),
    );
    const soldOutMs = (firstRefusal || Date.now()) - t0;
    await new Promise((r) => setTimeout(r, 1100));
    sampling = false;
    await sampler;
    await db.end();
    await Promise.all(pools.map((p) => p.close()));
    const falseSoldOuts = answers.filter((a) => a.status === 409 && a.error === 'not_enough_tickets' && (samples.find((x) => x.at >= a.at + 1000)?.available ?? 0) >= a.n).length;
    const refusals = answers.filter((a) => a.status === 409).length;
    const other = answers.filter((a) => a.status !== 201 && a.status !== 409).length;
    const acked = answers.reduce((n, a) => n + a.tickets, 0);
    const stored = [...(await readDatabase(started.store, [eventId])).values()][0]!;
    const ok = stored.sold === acked && stored.available + stored.sold === stored.total && other === 0;
    return `| pg-sellout-4n | 4 nodes | ${Math.round((acked / soldOutMs) * 1000).toLocaleString('en-US')} tickets/s | | | | | 0 | ${ok ? 'verified' : 'CHECK FAILED'}: ${stored.sold} of ${stored.total} sold, ${stored.available} left, ${refusals} × 409, **${falseSoldOuts} false sold-out(s)**, ${other} other |`;
  } finally {
    for (const v of started.servers) await v.stop();
    await started.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const only = values.only?.split(',').map((v) => v.trim());
const chosen = scenarios.filter((s) => !only || only.includes(s.id));
console.log(`wrk -t1 -c${connections} -d${durationSec}s; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const layouts = values.layouts.split(',').map(Number);
console.log('\n| scenario | layout | req/s | p50 ms | p99 ms | server CPU | wrk CPU | socket errors | check |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (let round = 1; round <= rounds; round++) {
  // PostgreSQL rows are their own layouts (nodes); the SQLite ones run once per worker count.
  for (const s of chosen) for (const workers of s.nodes ? [1] : layouts) console.log(await runScenario(s, workers));
  if (pgUrl && (!only || only.includes('pg-sellout-4n'))) console.log(await sellOutRow());
}
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
