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
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { api, startServer, type RunningServer } from './server.js';
import { readDatabase } from './verify.js';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '64' },
    only: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    /** Worker counts to run every scenario with: 1 is one process, N is `serve --workers N`. */
    layouts: { type: 'string', default: '1,2' },
  },
});
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
}

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
function runWrk(url: string, script: string): Promise<WrkResult> {
  const file = join(os.tmpdir(), `boxoffice-wrk-${randomBytes(4).toString('hex')}.lua`);
  writeFileSync(file, script);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', ['-c', `TIMEFORMAT='CPU %U %S %R'; time wrk -t1 -c${connections} -d${durationSec}s --latency -s ${file} ${url}`], { stdio: ['ignore', 'pipe', 'pipe'] });
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

async function runScenario(s: Scenario, workers: number): Promise<string> {
  const dataDir = mkdtempSync(join(os.tmpdir(), `boxoffice-wrk-${s.id}-`));
  const adminToken = `bench-${randomBytes(16).toString('hex')}`;
  let server: RunningServer | undefined;
  try {
    server = await startServer({ cliPath: join(REPO_ROOT, 'dist', 'cli.js'), dataDir, adminToken, args: workers > 1 ? ['--workers', String(workers)] : [] });
    const ids: string[] = [];
    for (const [i, total] of s.seed.entries()) {
      const res = await api(server.url, 'POST', '/events', { token: adminToken, body: { name: `wrk ${i}`, date: '2030-06-01T20:00:00Z', totalTickets: total, maxTicketsPerBooking: 10 } });
      if (res.status !== 201) throw new Error(`seeding answered ${res.status}: ${res.text}`);
      ids.push((res.json as { id: string }).id);
    }
    const serverCpuBefore = treeCpuSeconds(server.pid);
    const r = await runWrk(server.url, s.request(ids));
    const serverCpu = treeCpuSeconds(server.pid) - serverCpuBefore;
    let verdict = '';
    if (s.books) {
      const db = await readDatabase({ kind: 'sqlite', file: join(dataDir, 'boxoffice.db') }, ids);
      const sold = [...db.values()].reduce((sum, e) => sum + e.sold, 0);
      const ok2xx = r.requests - r.non2xx;
      // wrk cuts its sockets at the deadline: requests on the wire then may commit unanswered (at most one per connection).
      const unanswered = sold - ok2xx;
      verdict = unanswered >= 0 && unanswered <= connections && r.non2xx === 0 ? `verified: ${sold} sold, ${ok2xx} × 2xx (${unanswered} cut at the deadline)` : `CHECK FAILED: ${sold} sold, ${ok2xx} × 2xx, ${r.non2xx} non-2xx`;
    }
    const share = (cpu: number) => `${Math.round((cpu / r.wallSec) * 100)} %`;
    const layout = workers > 1 ? `--workers ${workers}` : '1 process';
    return `| ${s.id} | ${layout} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${share(serverCpu)} | ${share(r.wrkCpu)} | ${r.socketErrors} | ${verdict} |`;
  } finally {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const only = values.only?.split(',').map((v) => v.trim());
const chosen = scenarios.filter((s) => !only || only.includes(s.id));
console.log(`wrk -t1 -c${connections} -d${durationSec}s; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}); load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const layouts = values.layouts.split(',').map(Number);
console.log('\n| scenario | layout | req/s | p50 ms | p99 ms | server CPU | wrk CPU | socket errors | check |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (let round = 1; round <= rounds; round++) for (const s of chosen) for (const workers of layouts) console.log(await runScenario(s, workers));
console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
