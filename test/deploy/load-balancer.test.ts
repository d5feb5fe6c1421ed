/**
 * deploy/haproxy.cfg, the worked load-balancer configuration of docs/SCALING.md, run for real: HAProxy
 * (Debian's `haproxy` package) in front of two nodes sharing one PostgreSQL schema, each started with
 * `--trust-proxy 127.0.0.1` as the file's header says. Only the ports in the file are replaced.
 *
 * CI sets BOXOFFICE_REQUIRE_HAPROXY=1 (and installs the package) so this never skips there.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminHeaders, createEvent, postEvent, type EventJson } from '../e2e/booking-load.js';
import { poolFrom } from '../helpers/load.js';
import { PG_URL, describePg, uniqueSchema } from '../helpers/pg.js';
import { rawRequest } from '../helpers/raw-http.js';
import { REPO_ROOT, freePort, killAllProcesses, probe, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const CONFIG = join(REPO_ROOT, 'deploy', 'haproxy.cfg');
const hasHaproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).status === 0;
const requireHaproxy = process.env.BOXOFFICE_REQUIRE_HAPROXY === '1';

/** The shipped file with its example ports (8080 for buyers, 8081… for the nodes) replaced. */
function haproxyConfig(frontPort: number, nodePorts: readonly number[]): string {
  const text = readFileSync(CONFIG, 'utf8');
  const servers = [...text.matchAll(/^\s*server \S+ 127\.0\.0\.1:(\d+)/gm)];
  if (servers.length !== nodePorts.length) throw new Error(`deploy/haproxy.cfg lists ${servers.length} nodes, the test starts ${nodePorts.length}`);
  let out = text.replace(/bind 127\.0\.0\.1:8080\b/, `bind 127.0.0.1:${frontPort}`);
  servers.forEach((match, i) => {
    out = out.replace(`127.0.0.1:${match[1]}`, `127.0.0.1:${nodePorts[i]}`);
  });
  if (!out.includes(`bind 127.0.0.1:${frontPort}`)) throw new Error('deploy/haproxy.cfg no longer binds 127.0.0.1:8080');
  return out;
}

function bookingsMetric(text: string): number {
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('boxoffice_tickets_sold_total')) total += Number(line.split(' ').pop());
  return total;
}

const describeLb = hasHaproxy || requireHaproxy ? describePg : describe.skip;
if (!hasHaproxy && !requireHaproxy) console.warn('[boxoffice] skipping the HAProxy test: install Debian\'s haproxy package to run it');

describeLb('deploy/haproxy.cfg in front of two PostgreSQL nodes', () => {
  const tmp = tempDir();
  const s = uniqueSchema('lb');
  let nodes: ServerProcess[] = [];
  let haproxy: ChildProcess | undefined;
  let haproxyOutput = '';
  let front = '';
  let frontPort = 0;

  beforeAll(async () => {
    if (!hasHaproxy) throw new Error('BOXOFFICE_REQUIRE_HAPROXY=1 but haproxy is not installed (apt-get install -y haproxy)');
    const key = randomBytes(32).toString('base64');
    nodes = await Promise.all(
      [0, 1].map((i) =>
        startServerProcess({
          dataDir: `${tmp.dir}/node${i}`,
          args: ['--db', PG_URL!, '--pg-schema', s.schema, '--trust-proxy', '127.0.0.1', '--log-level', 'warn'],
          env: { BOXOFFICE_SECRET_KEY: key },
        }),
      ),
    );
    frontPort = await freePort();
    const file = join(tmp.dir, 'haproxy.cfg');
    writeFileSync(file, haproxyConfig(frontPort, nodes.map((n) => n.port)));
    haproxy = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    haproxy.stdout!.on('data', (d: Buffer) => (haproxyOutput += d.toString()));
    haproxy.stderr!.on('data', (d: Buffer) => (haproxyOutput += d.toString()));
    front = `http://127.0.0.1:${frontPort}`;
    // Ready once HAProxy's health checks have marked both nodes up (rise 2 × inter 500 ms).
    const deadline = Date.now() + 15_000;
    while ((await probe(`${front}/readyz`)) !== 200) {
      if (haproxy.exitCode !== null || Date.now() > deadline) throw new Error(`haproxy did not come up:\n${haproxyOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);

  afterAll(async () => {
    haproxy?.kill('SIGKILL');
    await killAllProcesses();
    await s.drop();
    tmp.cleanup();
  });

  it('sells through the proxy on both nodes: exact counts, and each node served a share', async () => {
    const event = await createEvent(front, 300);
    const pool = poolFrom(front, '127.0.0.1', 32);
    try {
      const answers = await Promise.all(
        Array.from({ length: 400 }, () =>
          pool.request({ method: 'POST', path: `/reserve?eventId=${event.id}&tickets=1` }).then(async (r) => ({ status: r.statusCode, body: (await r.body.json()) as unknown })),
        ),
      );
      const sold = answers.filter((a) => a.status === 200 || a.status === 201);
      expect(sold).toHaveLength(300);
      expect(answers.filter((a) => a.status === 409)).toHaveLength(100);
      const ids = sold.flatMap((a) => a.body as string[]);
      expect(new Set(ids).size).toBe(300);
    } finally {
      await pool.close();
    }
    const perNode = await Promise.all(nodes.map(async (n) => bookingsMetric(await (await fetch(`${n.url}/metrics`, { headers: adminHeaders() })).text())));
    expect(perNode[0]! + perNode[1]!).toBe(300);
    // leastconn over 32 connections: both nodes take part (a proxy sending everything to one node would fail this).
    expect(Math.min(...perNode)).toBeGreaterThan(0);
    const after = (await (await fetch(`${front}/events/${event.id}`)).json()) as EventJson;
    expect(after.availableTickets).toBe(0);
  });

  it('tells buyers apart behind the proxy (X-Forwarded-For + --trust-proxy): a per-buyer limit applies per buyer, not to the proxy', async () => {
    const event = await postEvent(front, { name: 'limit per buyer behind a proxy', date: '2031-06-01T20:00:00Z', totalTickets: 50, maxHeldPerBuyer: 2 });
    const hold = (from: string, tickets: number) => {
      const body = JSON.stringify({ tickets });
      return rawRequest(frontPort, `POST /events/${event.id}/holds HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, from).answer;
    };
    expect((await hold('127.0.0.2', 2)).status).toBe(201);
    const refused = await hold('127.0.0.2', 1);
    expect(refused.status).toBe(409);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'buyer_limit_reached' });
    // Another buyer, same proxy: its own limit (without forwardfor/--trust-proxy both would be "127.0.0.1").
    expect((await hold('127.0.0.3', 2)).status).toBe(201);
  });

  it('carries the live stream through the proxy (tunnel timeout): a snapshot, then a change made on either node', async () => {
    const event = await createEvent(front, 10);
    const controller = new AbortController();
    const res = await fetch(`${front}/events/stream`, { signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      const deadline = Date.now() + 5_000;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`stream never showed ${pattern}: ${text.slice(-500)}`);
        const { value, done } = await Promise.race([reader.read(), new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`stream never showed ${pattern}: ${text.slice(-500)}`)), deadline - Date.now()))]);
        if (done) throw new Error('stream ended');
        text += Buffer.from(value).toString();
      }
    };
    await readUntil(/"type":"snapshot"/);
    for (const node of nodes) await fetch(`${node.url}/reserve?eventId=${event.id}&tickets=1`, { method: 'POST' });
    // A node answers another node's commit with a fresh snapshot, its own with a change: either carries the count.
    await readUntil(new RegExp(`"id":"${event.id}"[^}]*"availableTickets":8`));
    controller.abort();
  });

  it('takes a node killed with kill -9 out of rotation; the other keeps selling; with none left buyers get a JSON 503', async () => {
    const event = await createEvent(front, 1000);
    nodes[0]!.kill('SIGKILL');
    await nodes[0]!.waitForExit();
    // Health checks every 500 ms, down after 2 failures: within a few seconds every request lands on node 2.
    const deadline = Date.now() + 10_000;
    let streak = 0;
    const statuses: number[] = [];
    while (streak < 20) {
      if (Date.now() > deadline) throw new Error(`never 20 bookings in a row after the kill: ${statuses.join(',')}`);
      const res = await fetch(`${front}/reserve?eventId=${event.id}&tickets=1`, { method: 'POST' });
      statuses.push(res.status);
      await res.arrayBuffer();
      streak = res.status === 200 || res.status === 201 ? streak + 1 : 0;
    }
    // retry-on conn-failure: a request to the dead node before it was marked down went to the live one,
    // so buyers saw no error at all.
    expect(statuses.filter((st) => st >= 500)).toEqual([]);

    nodes[1]!.kill('SIGKILL');
    await nodes[1]!.waitForExit();
    const last = Date.now() + 10_000;
    for (;;) {
      const res = await fetch(`${front}/events`);
      if (res.status === 503) {
        expect(res.headers.get('content-type')).toMatch(/application\/json/);
        expect(res.headers.get('retry-after')).toBe('2');
        expect(await res.json()).toMatchObject({ error: 'service_unavailable', message: expect.stringMatching(/retry/) });
        break;
      }
      await res.arrayBuffer();
      if (Date.now() > last) throw new Error(`no 503 from the proxy with both nodes dead (last ${res.status})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});
