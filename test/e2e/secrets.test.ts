/**
 * Issue 16, items 1 and 2, from the outside against the built server (`npm run build` first): an
 * Idempotency-Key or a hold id gives another client nothing of a buyer's; no booking secret is on
 * disk (database, WAL, logs); every file the server writes is private; replays survive a restart.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolFrom } from '../helpers/load.js';
import { killAllProcesses, runCli, startServerProcess, TEST_ADMIN_TOKEN, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: any };

async function call(pool: Pool, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await pool.request({ method: method as 'GET', path, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe('secrets: keys and hold ids nobody else can use, nothing secret at rest, private files', () => {
  const tmp = tempDir('boxoffice-e2e-secrets-');
  // A directory the server creates itself, so its mode is the server's doing.
  const dataDir = join(tmp.dir, 'data');
  let server: ServerProcess;
  let buyer: Pool;
  let thief: Pool;
  let eventId: string;
  /** Every secret a client was given, and every hold id, to look for on disk. */
  const secrets: string[] = [];
  const holdIds: string[] = [];
  const key = `order-${crypto.randomUUID()}`;
  const otherKey = crypto.randomUUID();
  let keyed: Answer;
  let holdId: string;
  let confirmed: Answer;

  const connect = (s: ServerProcess) => {
    buyer = poolFrom(s.url, '127.0.0.1', 4);
    thief = poolFrom(s.url, '127.0.0.2', 4);
  };

  beforeAll(async () => {
    server = await startServerProcess({ dataDir });
    connect(server);
    const created = await call(buyer, 'POST', '/events', { headers: admin, body: { name: 'Secrets', date: '2027-06-01T20:00:00Z', totalTickets: 100, maxTicketsPerBooking: 10 } });
    expect(created.status).toBe(201);
    eventId = created.body.id;
  });
  afterAll(async () => {
    await buyer?.close();
    await thief?.close();
    await killAllProcesses();
    tmp.cleanup();
  });

  it('a buyer books and confirms; repeats from the buyer answer the same secret', async () => {
    keyed = await call(buyer, 'POST', `/events/${eventId}/bookings`, { headers: { 'idempotency-key': key }, body: { tickets: 2 } });
    expect(keyed.status).toBe(201);
    const again = await call(buyer, 'POST', `/events/${eventId}/bookings`, { headers: { 'idempotency-key': key }, body: { tickets: 2 } });
    expect([again.status, again.headers['idempotent-replayed'], again.body]).toEqual([201, 'true', keyed.body]);
    secrets.push(keyed.body.secret);

    const hold = await call(buyer, 'POST', `/events/${eventId}/holds`, { headers: { 'idempotency-key': crypto.randomUUID() }, body: { tickets: 3 } });
    expect(hold.status).toBe(201);
    holdId = hold.body.id;
    holdIds.push(holdId);
    confirmed = await call(buyer, 'POST', `/holds/${holdId}/confirm`);
    expect(confirmed.status).toBe(201);
    const repeated = await call(buyer, 'POST', `/holds/${holdId}/confirm`);
    expect([repeated.status, repeated.body.secret]).toEqual([200, confirmed.body.secret]);
    secrets.push(confirmed.body.secret);
    for (const k of [otherKey, ...Array.from({ length: 4 }, () => crypto.randomUUID())]) {
      const b = await call(buyer, 'POST', `/events/${eventId}/bookings`, { headers: { 'idempotency-key': k }, body: { tickets: 1 } });
      secrets.push(b.body.secret);
    }
    expect(secrets.every((s) => typeof s === 'string' && s.length >= 32)).toBe(true);
  });

  it("another address sending the buyer's key gets a booking of its own: not the buyer's, not its secret, and cannot cancel it", async () => {
    const stolen = await call(thief, 'POST', `/events/${eventId}/bookings`, { headers: { 'idempotency-key': key }, body: { tickets: 2 } });
    // Treated as the thief's own new request: the same answer as for a key never seen.
    expect(stolen.status).toBe(201);
    expect(stolen.headers['idempotent-replayed']).toBeUndefined();
    expect(stolen.body.id).not.toBe(keyed.body.id);
    expect(stolen.body.secret).not.toBe(keyed.body.secret);
    expect(JSON.stringify(stolen.body)).not.toContain(keyed.body.id);
    // A key the buyer used, sent for another request, tells the thief nothing either (no 422).
    const probe = await call(thief, 'POST', `/events/${eventId}/holds`, { headers: { 'idempotency-key': otherKey }, body: { tickets: 1 } });
    expect([probe.status, probe.headers['idempotent-replayed']]).toEqual([201, undefined]);
    // The thief's secret does not cancel the buyer's booking.
    const cancel = await call(thief, 'DELETE', `/bookings/${keyed.body.id}`, { headers: { authorization: `Bearer ${stolen.body.secret}` } });
    expect(cancel.status).toBe(403);
    expect((await call(buyer, 'GET', `/bookings/${keyed.body.id}`)).body.tickets.every((t: { status: string }) => t.status === 'valid')).toBe(true);
  });

  it('a short or unsafe key is refused with a 400 that says what a key must be', async () => {
    for (const bad of ['order-1', 'has spaces in this key', 'quote"0123456789abcdef', '<b>0123456789abcdef</b>']) {
      const res = await call(buyer, 'POST', `/events/${eventId}/bookings`, { headers: { 'idempotency-key': bad }, body: { tickets: 1 } });
      expect([res.status, res.body.error], bad).toEqual([400, 'invalid_request']);
      expect(res.body.message).toMatch(/16 to 200 characters/);
    }
  });

  it('someone who only knows a hold id gets no secret, before or after the buyer confirms', async () => {
    const hold = await call(buyer, 'POST', `/events/${eventId}/holds`, { body: { tickets: 1 } });
    holdIds.push(hold.body.id);
    const first = await call(thief, 'POST', `/holds/${hold.body.id}/confirm`);
    expect(first.status).toBe(201);
    expect(first.body.secret).toBeUndefined();
    const mine = await call(buyer, 'POST', `/holds/${hold.body.id}/confirm`);
    expect(mine.status).toBe(200);
    expect(mine.body.secret).toEqual(expect.any(String));
    secrets.push(mine.body.secret);
    const stillNot = await call(thief, 'POST', `/holds/${holdId}/confirm`);
    expect([stillNot.status, stillNot.body.secret]).toEqual([200, undefined]);
  });

  it('no secret in the database, its WAL or the logs; no hold id in the logs', async () => {
    const log = join(dataDir, 'logs', 'server.log');
    // The log is written by pino's thread: wait for the last confirmation's line.
    for (let i = 0; i < 200 && !readFileSync(log, 'utf8').includes('hold confirmed'); i++) await new Promise((r) => setTimeout(r, 25));
    const files = ['boxoffice.db', 'boxoffice.db-wal', 'boxoffice.db-shm', 'logs/server.log'].map((f) => join(dataDir, f));
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of secrets) expect(bytes.includes(secret), `${file} holds a booking secret`).toBe(false);
    }
    const logText = readFileSync(log, 'utf8');
    expect(logText).toContain('hold confirmed');
    for (const id of holdIds) expect(logText.includes(id), `the log names hold ${id}`).toBe(false);
  });

  it('every file the server wrote is 0600, every directory it made 0700', () => {
    const modes: Record<string, string> = {};
    const walk = (dir: string) => {
      modes[dir] = (statSync(dir).mode & 0o777).toString(8);
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else modes[path] = (statSync(path).mode & 0o777).toString(8);
      }
    };
    walk(dataDir);
    for (const name of ['boxoffice.db', 'boxoffice.db-wal', 'boxoffice.db-shm', 'secret.key', 'logs/server.log']) expect(modes).toHaveProperty([join(dataDir, name)]);
    for (const [path, mode] of Object.entries(modes)) expect(`${path} ${mode}`).toBe(`${path} ${statSync(path).isDirectory() ? '700' : '600'}`);
  });

  it('after a restart the buyer still gets the same secret on a replay and a repeated confirm (the key file persists)', async () => {
    const exit = server.waitForExit();
    server.kill('SIGTERM');
    await exit;
    await buyer.close();
    await thief.close();
    server = await startServerProcess({ dataDir });
    connect(server);
    const again = await call(buyer, 'POST', `/events/${eventId}/bookings`, { headers: { 'idempotency-key': key }, body: { tickets: 2 } });
    expect([again.status, again.headers['idempotent-replayed'], again.body.secret]).toEqual([201, 'true', keyed.body.secret]);
    const repeated = await call(buyer, 'POST', `/holds/${holdId}/confirm`);
    expect([repeated.status, repeated.body.secret]).toEqual([200, confirmed.body.secret]);
    // And the secret still cancels.
    const cancel = await call(buyer, 'DELETE', `/bookings/${keyed.body.id}`, { headers: { authorization: `Bearer ${keyed.body.secret}` } });
    expect(cancel.status).toBe(200);
  });

  it('refuses to start, with one line, when BOXOFFICE_SECRET_KEY is too short', async () => {
    const result = await runCli(['serve', '--headless', '--port', '0', '--data-dir', join(tmp.dir, 'other')], { env: { BOXOFFICE_SECRET_KEY: 'c2hvcnQ=' } });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/BOXOFFICE_SECRET_KEY must hold at least 32 random bytes/);
  });
});
