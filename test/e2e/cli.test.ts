/**
 * The built binary as a user runs it: flag errors, port conflicts, graceful shutdown under load,
 * the generated admin token, the log file, and the throwaway in-memory store.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, killAllProcesses, runCli, spawnCli, startServerProcess, probe } from '../helpers/server-process.js';
import { rawRequest } from '../helpers/raw-http.js';
import { tempDir } from '../helpers/tmp.js';
import { adminHeaders, call, checkAfterRestart, createEvent, runBookingLoad, summarize, type EventJson } from './booking-load.js';

const temps: Array<{ cleanup: () => void }> = [];
function freshDir(): string {
  const tmp = tempDir('boxoffice-e2e-cli-');
  temps.push(tmp);
  return tmp.dir;
}

afterEach(killAllProcesses);
afterAll(async () => {
  await killAllProcesses();
  for (const tmp of temps) tmp.cleanup();
});

/**
 * The process failed the way a person can act on: non-zero exit, nothing on stdout, and exactly one
 * line on stderr saying what is wrong (commander may add its generic "run with --help" hint), no stack.
 */
function expectOneLineFailure(result: Awaited<ReturnType<typeof runCli>>, pattern: RegExp): string {
  const context = `exit ${result.code}/${result.signal}${result.timedOut ? ' (timed out: it started instead of failing)' : ''}\nstderr:\n${result.stderr}`;
  expect(result.timedOut, context).toBe(false);
  expect(result.signal, context).toBeNull();
  expect(result.code, context).not.toBe(0);
  expect(result.code, context).not.toBeNull();
  expect(result.stdout, context).toBe('');
  expect(result.stderr, context).not.toMatch(/^\s+at\s/m);
  expect(result.stderr, context).not.toMatch(/node:internal|\.js:\d+|\.ts:\d+|Error:/);
  const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(pattern);
  return lines[0]!;
}

describe('bad flags: one clear line on stderr, non-zero exit', () => {
  const serve = (dataDir: string, ...args: string[]) => ['serve', '--headless', '--data-dir', dataDir, ...args];

  it('--port 70000', async () => {
    const result = await runCli(serve(freshDir(), '--port', '70000'));
    expectOneLineFailure(result, /port.*70000.*0 to 65535/);
  });

  it('--port abc', async () => {
    const result = await runCli(serve(freshDir(), '--port', 'abc'));
    expectOneLineFailure(result, /port.*'abc'.*whole number/);
  });

  it('an unknown flag --frobnicate', async () => {
    const result = await runCli(serve(freshDir(), '--port', '0', '--frobnicate'));
    expectOneLineFailure(result, /unknown option '--frobnicate'/);
  });

  it('--trust-proxy with something that is neither a hop count nor an address', async () => {
    const result = await runCli(serve(freshDir(), '--port', '0', '--trust-proxy', 'proxy.example'));
    expectOneLineFailure(result, /trust-proxy.*hop count or proxy addresses.*proxy\.example/);
  });

  it('--log-level loud', async () => {
    const result = await runCli(serve(freshDir(), '--port', '0', '--log-level', 'loud'));
    const line = expectOneLineFailure(result, /log-level.*'loud'/);
    expect(line).toMatch(/debug/);
  });

  it('--log-frequency weekly, and --log-files 1 (pino-roll keeps at least one file besides the live one)', async () => {
    const weekly = await runCli(serve(freshDir(), '--port', '0', '--log-frequency', 'weekly'));
    expect(expectOneLineFailure(weekly, /log-frequency.*'weekly'/)).toMatch(/daily, hourly, or an interval/);
    expectOneLineFailure(await runCli(serve(freshDir(), '--port', '0', '--log-files', '1')), /log-files.*'1'.*from 2 to 1000/);
  });

  it('--data-dir below a regular file (cannot be created)', async () => {
    const dir = freshDir();
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const dataDir = join(file, 'data');
    const result = await runCli(serve(dataDir, '--port', '0'));
    expectOneLineFailure(result, new RegExp(`data dir.*${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    expect(readFileSync(file, 'utf8')).toBe('x');
    expect(readdirSync(dir)).toEqual(['not-a-dir']);
  });

  // A token a client cannot send after "Bearer " would start a server nobody can administer.
  it.each([
    ['a space', 'organiser token 2026 with spaces', /BOXOFFICE_ADMIN_TOKEN must be visible ASCII.*U\+0020 at character 10/],
    ['a non-ASCII letter', 'jeton-secret-de-l\u2019organisateur', /BOXOFFICE_ADMIN_TOKEN must be visible ASCII.*U\+2019/],
    ['a control character', 'token-with-a-tab\there-0123', /BOXOFFICE_ADMIN_TOKEN must be visible ASCII.*U\+0009/],
    ['too few characters', 'short', /BOXOFFICE_ADMIN_TOKEN must be at least 16 characters/],
  ])('BOXOFFICE_ADMIN_TOKEN with %s', async (_what, token, pattern) => {
    const dataDir = freshDir();
    const result = await runCli(serve(dataDir, '--port', '0'), { adminToken: token });
    expectOneLineFailure(result, pattern);
    expect(readdirSync(dataDir)).not.toContain('boxoffice.db');
  });

  it('BOXOFFICE_METRICS_TOKEN with a space', async () => {
    const result = await runCli(serve(freshDir(), '--port', '0'), { env: { BOXOFFICE_METRICS_TOKEN: 'prometheus scrape token 01' } });
    expectOneLineFailure(result, /BOXOFFICE_METRICS_TOKEN must be visible ASCII.*U\+0020/);
  });

  it('a port already in use: says so, and the running server is unharmed', async () => {
    const first = await startServerProcess({ dataDir: freshDir() });
    const result = await runCli(['serve', '--headless', '--port', String(first.port), '--data-dir', freshDir()]);
    expectOneLineFailure(result, new RegExp(`port ${first.port}\\b.*already in use`));
    expect(await probe(`${first.url}/healthz`)).toBe(200);
    expect(first.exited()).toBeUndefined();
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM during concurrent bookings: exit 0, no 500, every acknowledged ticket kept after restart', async () => {
    const dataDir = freshDir();
    const server = await startServerProcess({ dataDir });
    const event = await createEvent(server.url, 2_000);
    const exit = server.waitForExit();
    const report = await runBookingLoad({
      url: server.url,
      eventId: event.id,
      connections: 32,
      seed: 7,
      shouldTrigger: ({ ackedTickets, inFlight, elapsedMs }) =>
        (inFlight >= 4 && ((elapsedMs >= 1_000 && ackedTickets >= 300) || ackedTickets >= 700)) || elapsedMs > 10_000,
      trigger: () => server.kill('SIGTERM'),
      until: exit,
      maxDurationMs: 25_000,
    });
    const exitInfo = await exit;
    const summary = JSON.stringify(summarize(report));
    console.log(`graceful: ${report.attempts.length} requests ${summary}; in flight at SIGTERM ${report.inFlightAtTrigger}`);

    expect(report.triggered, summary).toBe(true);
    expect(report.inFlightAtTrigger, 'requests were in flight at SIGTERM').toBeGreaterThan(0);
    expect(exitInfo, server.stderr()).toEqual({ code: 0, signal: null });
    expect(server.stderr()).toMatch(/shutting down/);
    expect(server.stderr()).toMatch(/stopped/);

    // Every answer is a booking or a clean 503 shutting_down; connections may drop only once shutdown began.
    const bad = report.attempts.filter((a) => {
      if (a.error !== undefined) return a.errorBeforeTrigger;
      if (a.status === 200 || a.status === 201) return false;
      return !(a.status === 503 && (a.body as { error?: string } | undefined)?.error === 'shutting_down');
    });
    expect(bad, summary).toEqual([]);
    expect(report.attempts.filter((a) => a.status !== undefined && a.status >= 500 && a.status !== 503)).toEqual([]);

    const restarted = await startServerProcess({ dataDir });
    const facts = await checkAfterRestart(restarted, event, report.acknowledged);
    console.log(`graceful: acknowledged ${facts.acknowledgedTickets} tickets, stored ${facts.stored}, available ${facts.available}`);
    // Unlike kill -9, a graceful stop answers every booking it committed: nothing is stored that the client was not told.
    expect(facts.stored, 'bookings committed during shutdown whose answer was lost').toBe(facts.acknowledgedTickets);
    restarted.kill('SIGTERM');
    expect(await restarted.waitForExit()).toEqual({ code: 0, signal: null });
  });
});

describe('without BOXOFFICE_ADMIN_TOKEN', () => {
  it('generates a 0600 token file, uses it, reuses it on restart, and never logs it', async () => {
    const dataDir = freshDir();
    const tokenFile = join(dataDir, 'admin-token');
    const logFile = join(dataDir, 'logs', 'server.log');
    const start = () => startServerProcess({ dataDir, adminToken: null, args: ['--log-level', 'trace'] });

    const first = await start();
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const content = readFileSync(tokenFile, 'utf8');
    const token = content.trim();
    expect(token.length).toBeGreaterThanOrEqual(16);

    expect((await createEvent(first.url, 10, token)).totalTickets).toBe(10);
    const wrong = await call(first.url, 'POST', '/events', {
      headers: adminHeaders(`${token}x`),
      body: { name: 'nope', date: '2027-06-01T19:30:00Z', totalTickets: 5 },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['content-type']).toMatch(/^application\/json/);
    expect(wrong.body).toMatchObject({ error: 'unauthorized', message: expect.any(String) });
    const none = await call(first.url, 'POST', '/events', {
      headers: { 'content-type': 'application/json' },
      body: { name: 'nope', date: '2027-06-01T19:30:00Z', totalTickets: 5 },
    });
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ error: 'unauthorized' });
    first.kill('SIGTERM');
    expect(await first.waitForExit()).toEqual({ code: 0, signal: null });

    const second = await start();
    expect(readFileSync(tokenFile, 'utf8')).toBe(content);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const events = await call(second.url, 'GET', '/events');
    expect((events.body as EventJson[]).map((e) => e.totalTickets)).toEqual([10]);
    expect((await createEvent(second.url, 20, token)).totalTickets).toBe(20);
    second.kill('SIGTERM');
    expect(await second.waitForExit()).toEqual({ code: 0, signal: null });

    // The log file: JSON lines with level/time/msg from both runs, naming the token file, never the token.
    const log = readFileSync(logFile, 'utf8');
    const records = log
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`not a JSON line in server.log: ${line}`);
        }
        expect(typeof record.level, line).toBe('number');
        expect(typeof record.time, line).toBe('number');
        expect(typeof record.msg, line).toBe('string');
        return record;
      });
    expect(records.filter((r) => String(r.msg).startsWith('boxoffice listening on'))).toHaveLength(2);
    expect(records.filter((r) => String(r.msg).startsWith('admin token generated'))).toHaveLength(1);
    expect(records.filter((r) => r.msg === 'event created')).toHaveLength(2);
    expect(log).toContain(tokenFile);
    expect(log).not.toContain(token);

    // stderr is for a person: readable lines, not JSON, and no token either.
    for (const [run, stderr] of [
      ['first', first.stderr()],
      ['second', second.stderr()],
    ] as const) {
      expect(stderr, run).toMatch(/INFO.*boxoffice listening on http:\/\/127\.0\.0\.1:\d+/);
      expect(stderr, run).toContain(tokenFile);
      expect(stderr, run).not.toContain(token);
      const lines = stderr.split('\n').filter((line) => line.trim() !== '');
      expect(lines.length, run).toBeGreaterThan(0);
      for (const line of lines) expect(line.trimStart().startsWith('{'), `${run} run stderr line looks like JSON: ${line}`).toBe(false);
    }
    await expect.poll(() => first.stderr(), { timeout: 5000 }).toMatch(/admin token generated/);
    expect(second.stderr()).not.toMatch(/admin token generated/);
  });
});

describe('--db :memory:', () => {
  it('creates and books without writing a database file (and forgets everything on restart)', async () => {
    const dataDir = freshDir();
    const server = await startServerProcess({ dataDir, args: ['--db', ':memory:'] });
    // Log lines reach stderr from pino's transport thread, a moment after the server answers.
    await expect.poll(() => server.stderr(), { timeout: 5000 }).toMatch(/memory \(not durable\)/);
    const event = await createEvent(server.url, 10);

    const reserved = await call(server.url, 'POST', `/reserve?eventId=${event.id}&tickets=3`);
    expect(reserved.status).toBe(200);
    expect(reserved.body).toHaveLength(3);
    const booked = await call(server.url, 'POST', `/events/${event.id}/bookings`, {
      headers: { 'content-type': 'application/json' },
      body: { tickets: 2 },
    });
    expect(booked.status).toBe(201);
    const booking = booked.body as { id: string; tickets: Array<{ id: string }> };
    expect(booking.tickets).toHaveLength(2);
    for (const id of [...(reserved.body as string[]), ...booking.tickets.map((t) => t.id)]) {
      const ticket = await call(server.url, 'GET', `/tickets/${id}`);
      expect(ticket.status).toBe(200);
      expect(ticket.body).toMatchObject({ id, eventId: event.id });
    }
    const after = await call(server.url, 'GET', `/events/${event.id}`);
    expect((after.body as EventJson).availableTickets).toBe(5);
    const soldOut = await call(server.url, 'POST', `/reserve?eventId=${event.id}&tickets=6`);
    expect(soldOut.status).toBe(409);
    expect(soldOut.body).toMatchObject({ error: 'not_enough_tickets' });

    server.kill('SIGTERM');
    expect(await server.waitForExit()).toEqual({ code: 0, signal: null });
    expect(readdirSync(dataDir).filter((name) => name.includes('.db'))).toEqual([]);

    const again = await startServerProcess({ dataDir, args: ['--db', ':memory:'] });
    expect((await call(again.url, 'GET', `/events/${event.id}`)).status).toBe(404);
    expect((await call(again.url, 'GET', '/events')).body).toEqual([]);
    again.kill('SIGTERM');
    expect(await again.waitForExit()).toEqual({ code: 0, signal: null });
    expect(readdirSync(dataDir).filter((name) => name.includes('.db'))).toEqual([]);
  });
});

describe('the metrics token and --bench-routes reach the server', () => {
  it('BOXOFFICE_METRICS_TOKEN reads /metrics and nothing else; /noop only with --bench-routes', async () => {
    const metricsToken = 'prometheus-scrape-token-0123';
    const server = await startServerProcess({ dataDir: freshDir(), benchRoutes: false, env: { BOXOFFICE_METRICS_TOKEN: metricsToken } });
    expect((await call(server.url, 'GET', '/metrics')).status).toBe(401);
    const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toMatch(/^boxoffice_/m);
    const create = await call(server.url, 'POST', '/events', { headers: adminHeaders(metricsToken), body: { name: 'x', date: '2027-06-01T19:30:00Z', totalTickets: 5 } });
    expect(create.status).toBe(401);
    expect((await call(server.url, 'POST', '/noop', { body: { tickets: 1 } })).status).toBe(404);
    server.kill('SIGTERM');
    await server.waitForExit();

    const bench = await startServerProcess({ dataDir: freshDir(), args: ['--bench-routes'], benchRoutes: false });
    expect((await call(bench.url, 'POST', '/noop', { headers: { 'content-type': 'application/json' }, body: { tickets: 1 } })).status).toBe(200);
    bench.kill('SIGTERM');
    await bench.waitForExit();
  });
});

describe('admission flags reach the server', () => {
  it('--max-connections-per-client and --trust-proxy: a second socket from one address is answered 429, a forwarded client behind the local proxy is keyed on the entry the proxy appended', async () => {
    const server = await startServerProcess({
      dataDir: freshDir(),
      args: ['--max-connections-per-client', '1', '--max-inflight-per-client', '1', '--max-uploads-per-client', '1', '--trust-proxy'],
    });
    const first = rawRequest(server.port, '', '127.0.0.2');
    await new Promise((r) => first.socket.once('connect', r));
    const second = rawRequest(server.port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.2');
    const refused = await second.answer;
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'too_many_requests' });
    first.socket.destroy();

    // Through the proxy (127.0.0.1, exempt from the socket allowance): two uploads from one client.
    const upload = (forwarded: string) =>
      rawRequest(server.port, `POST /noop HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${forwarded}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n`);
    const uploads = [upload('1.1.1.1, 10.0.0.9'), upload('2.2.2.2, 10.0.0.9')];
    const status = await Promise.race(uploads.map((u) => u.answer.then((a) => a.status)));
    expect(status).toBe(429);
    for (const u of uploads) u.socket.destroy();
    server.kill('SIGTERM');
    await server.waitForExit();
  });
});

describe('stream flags reach the server', () => {
  it('--max-streams-per-client and --max-streams: the stream beyond either is answered 429 too_many_streams', async () => {
    const server = await startServerProcess({ dataDir: freshDir(), args: ['--max-streams-per-client', '1', '--max-streams', '2', '--stream-idle-timeout', '5'] });
    const stream = (from: string) => rawRequest(server.port, 'GET /events/stream HTTP/1.1\r\nHost: x\r\n\r\n', from);
    const opened = [stream('127.0.0.2')];
    expect((await opened[0]!.answer).status).toBe(200);
    const sameAddress = await stream('127.0.0.2').answer;
    expect(sameAddress.status).toBe(429);
    expect(JSON.parse(sameAddress.body)).toMatchObject({ error: 'too_many_streams' });
    opened.push(stream('127.0.0.3'));
    expect((await opened[1]!.answer).status).toBe(200);
    const overall = await stream('127.0.0.4').answer;
    expect(overall.status).toBe(429);
    expect(JSON.parse(overall.body)).toMatchObject({ error: 'too_many_streams' });
    for (const o of opened) o.socket.destroy();
    server.kill('SIGTERM');
    await server.waitForExit();
  });

  it('a bad --stream-idle-timeout is one clear line', async () => {
    const result = await runCli(['serve', '--data-dir', freshDir(), '--stream-idle-timeout', '0']);
    expectOneLineFailure(result, /stream-idle-timeout must be a whole number from 1 to 86400/);
  });
});

describe('environment variables for every serve flag (BOXOFFICE_…; the flag wins)', () => {
  it('serve --help names a BOXOFFICE_ variable for every flag', async () => {
    const help = await runCli(['serve', '--help']);
    expect(help.code).toBe(0);
    const flags = [...help.stdout.matchAll(/^ {2}(--[a-z][a-z-]*)/gm)].map((m) => m[1]!).filter((flag) => flag !== '--help');
    expect(flags.length).toBeGreaterThan(20);
    const text = help.stdout.replace(/\s+/g, ' ');
    for (const flag of flags) expect(text, flag).toContain(`env: BOXOFFICE_${flag.slice(2).replace(/-/g, '_').toUpperCase()})`);
  });

  it('BOXOFFICE_PORT, BOXOFFICE_DATA_DIR and BOXOFFICE_BENCH_ROUTES configure a server started with no flags', async () => {
    const port = await freePort();
    const dataDir = join(freshDir(), 'from-env');
    const child = spawnCli(['serve', '--headless'], { env: { BOXOFFICE_PORT: String(port), BOXOFFICE_DATA_DIR: dataDir, BOXOFFICE_BENCH_ROUTES: 'true', BOXOFFICE_BUYER_RATE: '0' } });
    await expect.poll(() => probe(`http://127.0.0.1:${port}/healthz`), { timeout: 15_000, interval: 50 }).toBe(200);
    expect(existsSync(join(dataDir, 'boxoffice.db')), child.stderr()).toBe(true);
    expect((await call(`http://127.0.0.1:${port}`, 'POST', '/noop', { headers: { 'content-type': 'application/json' }, body: { tickets: 1 } })).status).toBe(200);
    child.kill('SIGTERM');
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('the flag wins over the variable (a bad variable is not even read), and 0 turns an on/off variable off', async () => {
    const server = await startServerProcess({ dataDir: freshDir(), benchRoutes: false, env: { BOXOFFICE_PORT: 'not-a-port', BOXOFFICE_DATA_DIR: '/proc/nowhere', BOXOFFICE_BENCH_ROUTES: '0' } });
    expect((await call(server.url, 'POST', '/noop', { headers: { 'content-type': 'application/json' }, body: { tickets: 1 } })).status).toBe(404);
    expect(existsSync(join(server.dataDir, 'boxoffice.db'))).toBe(true);
  });

  it('a bad value in a variable is one clear line naming the variable', async () => {
    const dir = freshDir();
    // No --headless flag here: the flag would win and BOXOFFICE_HEADLESS would not be read.
    const bad = (env: Record<string, string>) => runCli(['serve', '--data-dir', dir], { env });
    expectOneLineFailure(await bad({ BOXOFFICE_PORT: 'abc' }), /BOXOFFICE_PORT.*whole number/);
    expectOneLineFailure(await bad({ BOXOFFICE_MAX_INFLIGHT: '0' }), /BOXOFFICE_MAX_INFLIGHT.*max-inflight must be a whole number/);
    expectOneLineFailure(await bad({ BOXOFFICE_LOG_LEVEL: 'loud' }), /'loud' from env 'BOXOFFICE_LOG_LEVEL'.*choices/);
    expectOneLineFailure(await bad({ BOXOFFICE_HEADLESS: 'maybe' }), /'maybe' from env 'BOXOFFICE_HEADLESS'/);
    expectOneLineFailure(await bad({ BOXOFFICE_CORS_ORIGIN: 'https://x.example/path' }), /BOXOFFICE_CORS_ORIGIN.*cors-origin must be an origin/);
  });
});
