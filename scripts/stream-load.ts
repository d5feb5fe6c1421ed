/**
 * Issue 15 item 6 bench: live streams with a big catalogue and subscribers that never read.
 *
 *   npm run bench:streams                                   # this checkout's dist/cli.js
 *   node --import tsx scripts/stream-load.ts --cli /path/to/other/dist/cli.js --label before
 *
 * Starts the built server as a user does (`node dist/cli.js serve --headless`, fresh data dir, SQLite),
 * creates 10,000 events (~4 MB of GET /events), then opens 1,000 `GET /events/stream` subscribers
 * that read the response headers and nothing more, spread over 125 loopback addresses (8 each, the
 * default per-address stream quota). Meanwhile it asks /healthz in a loop and samples the server's
 * RSS; at the end it prints one table row: RSS before and peak (VmHWM), /healthz p50/p99/max, and
 * what the subscribers got.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Agent, request } from 'undici';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] ? args[at + 1]! : fallback;
};
const CLI = resolve(flag('cli', 'dist/cli.js'));
const LABEL = flag('label', 'this build');
const EVENTS = Number(flag('events', '10000'));
const SUBSCRIBERS = Number(flag('subscribers', '1000'));
const PER_ADDRESS = 8;
const HOLD_MS = Number(flag('hold-ms', '15000'));
const TOKEN = 'stream-bench-admin-token-0123456789';
const PORT = 20_000 + Math.floor(Math.random() * 20_000);
const URL_ = `http://127.0.0.1:${PORT}`;

/** The /healthz loop, run in a worker thread. */
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const { request } = require('node:http');
const agent = new (require('node:http').Agent)({ keepAlive: true, maxSockets: 1 });
const latencies = []; let failures = 0; let running = true;
parentPort.once('message', () => (running = false));
const once = () => new Promise((done) => {
  const started = performance.now();
  const req = request(workerData.url, { agent }, (res) => {
    res.resume();
    res.on('end', () => { if (res.statusCode !== 200) failures++; latencies.push(performance.now() - started); done(); });
  });
  req.on('error', () => { failures++; latencies.push(performance.now() - started); done(); });
  req.end();
});
(async () => {
  while (running) { await once(); await new Promise((r) => setTimeout(r, 20)); }
  parentPort.postMessage({ latencies, failures });
})();
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const memory = (pid: number, field: 'VmRSS' | 'VmHWM'): number => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
};
const mb = (bytes: number) => `${Math.round(bytes / 1e6).toLocaleString('en')} MB`;
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'boxoffice-streams-'));
  const profile = args.includes('--cpu-prof') ? ['--cpu-prof', '--cpu-prof-dir', dataDir + '-prof'] : [];
  const server = spawn(process.execPath, [...profile, CLI, 'serve', '--headless', '--port', String(PORT), '--data-dir', dataDir, '--log-level', 'warn'], {
    env: { ...process.env, BOXOFFICE_ADMIN_TOKEN: TOKEN },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const agent = new Agent({ connections: 32 });
  const sockets: Socket[] = [];
  try {
    for (let i = 0; ; i++) {
      if (i > 200) throw new Error('the server did not start');
      try {
        if ((await request(`${URL_}/healthz`, { dispatcher: agent })).statusCode === 200) break;
      } catch {
        await sleep(50);
      }
    }
    const pad = 'x'.repeat(300);
    for (let i = 0; i < EVENTS; i += 100) {
      await Promise.all(
        Array.from({ length: Math.min(100, EVENTS - i) }, async (_, j) => {
          const res = await request(`${URL_}/events`, {
            method: 'POST',
            dispatcher: agent,
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ name: `Event ${i + j} ${pad}`.slice(0, 200), date: '2027-06-01T20:00:00Z', totalTickets: 1000 }),
          });
          await res.body.dump();
          if (res.statusCode !== 201) throw new Error(`create event: ${res.statusCode}`);
        }),
      );
    }
    const list = await request(`${URL_}/events`, { dispatcher: agent });
    const listBytes = (await list.body.arrayBuffer()).byteLength;
    await sleep(1000);
    const rssBefore = memory(server.pid!, 'VmRSS');

    // /healthz in a loop on one keep-alive connection, from a worker thread so that this process
    // opening a thousand sockets does not count as the server's latency.
    const prober = new Worker(PROBER, { eval: true, workerData: { url: `${URL_}/healthz` } });
    const health = new Promise<{ latencies: number[]; failures: number }>((done) => prober.once('message', done));

    const statuses = new Map<string, number>();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: SUBSCRIBERS }, (_, i) =>
        new Promise<void>((done) => {
          const address = `127.0.${1 + Math.floor(i / PER_ADDRESS / 250)}.${1 + (Math.floor(i / PER_ADDRESS) % 250)}`;
          const socket = connect({ host: '127.0.0.1', port: PORT, localAddress: address });
          sockets.push(socket);
          socket.on('error', () => done());
          socket.once('connect', () => socket.write('GET /events/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n'));
          // The status line, then never another byte read.
          socket.once('data', (chunk: Buffer) => {
            socket.pause();
            const status = /^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1', 0, 20))?.[1] ?? 'other';
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            done();
          });
          socket.once('close', () => done());
        }),
      ),
    );
    const openedMs = performance.now() - started;
    await sleep(HOLD_MS);
    prober.postMessage('stop');
    const { latencies, failures: healthFailures } = await health;
    await prober.terminate();
    const peak = memory(server.pid!, 'VmHWM');
    const metrics = await request(`${URL_}/metrics`, { dispatcher: agent, headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await metrics.body.text();
    const pick = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).map((l) => l.replace(/^boxoffice_/, '')).join(', ') || 'n/a';

    const sorted = [...latencies].sort((a, b) => a - b);
    const row = {
      build: LABEL,
      events: EVENTS,
      'list bytes': listBytes,
      subscribers: SUBSCRIBERS,
      'answered (status: count)': [...statuses].map(([s, n]) => `${s}: ${n}`).join(', '),
      'opened in': `${Math.round(openedMs)} ms`,
      'RSS before': mb(rssBefore),
      'peak RSS (VmHWM)': mb(peak),
      'healthz p50': `${quantile(sorted, 0.5).toFixed(1)} ms`,
      'healthz p99': `${quantile(sorted, 0.99).toFixed(1)} ms`,
      'healthz max': `${(sorted.at(-1) ?? NaN).toFixed(1)} ms`,
      'healthz tries / failed': `${latencies.length} / ${healthFailures}`,
      'server metrics': `${pick(/^boxoffice_streams_(open|dropped_total)/)}; ${pick(/^boxoffice_stream_snapshot_encodes_total/)}; ${pick(/^boxoffice_nodejs_eventloop_lag_(max|p99)_seconds/)}`,
    };
    console.table(row);
  } finally {
    for (const s of sockets) s.destroy();
    await agent.close().catch(() => {});
    // SIGTERM first: a graceful stop (and a CPU profile, with --cpu-prof) if it comes within 10 s.
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]))) server.kill('SIGKILL');
    if (profile.length) console.log(`CPU profile in ${profile[2]}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
