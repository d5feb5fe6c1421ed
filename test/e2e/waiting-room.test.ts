import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PG_URL, describePg, uniqueSchema, withPgClient } from '../helpers/pg.js';
import { admin, buyerAddress, call, createRoomEvent, entryOf, followLine, joinAs, patiently } from '../helpers/queue-buyers.js';
import { killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The waiting room end to end (issue 13), on the built server over real sockets: buyers from
 * distinct loopback addresses join before the sale, the order is drawn when it opens, each buyer
 * follows the line on the event stream (one message per change, not one per buyer), fetches its
 * pass when the stream says its turn came, and books with it. Then kill -9 mid-line, and three
 * PostgreSQL nodes sharing one line.
 */
afterEach(() => killAllProcesses());

type Entry = { id: string; token: string; position: number | null; state: string; pass: string | null };

interface Shopper {
  i: number;
  entry: Entry;
  url: string;
}

/** One buyer's turn: wait for the stream to reach its position, take the pass, book one ticket. */
async function shop(s: Shopper, eventId: string, line: ReturnType<typeof followLine>, log: { booked: number[]; soldOut: number[]; lastBookedAt: number }) {
  const position = s.entry.position!;
  const update = await line.until((u) => u.open && (u.serving >= position || u.soldOut));
  if (update.serving < position) {
    log.soldOut.push(s.i);
    return;
  }
  const status = await entryOf(s.url, eventId, s.entry, s.i);
  if (status.body.state !== 'admitted') {
    if (status.body.state === 'sold_out') log.soldOut.push(s.i);
    return;
  }
  const booked = await patiently(s.url, 'POST', `/events/${eventId}/bookings`, { from: buyerAddress(s.i), body: { tickets: 1 }, headers: { 'admission-pass': status.body.pass } });
  expect(booked.status, JSON.stringify(booked.body)).toBe(201);
  log.booked.push(position);
  log.lastBookedAt = Math.max(log.lastBookedAt, Date.now());
}

describe('waiting room end to end (SQLite)', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('2,000 buyers from distinct addresses join before the sale; admitted once each in position order; sells out exactly; the rest told within 1 s', async () => {
    const TICKETS = 1500;
    const BUYERS = 2000;
    const node = await startServerProcess({ dataDir: `${tmp.dir}/big`, args: ['--log-level', 'warn', '--max-connections-per-client', '0'] });
    // Far enough ahead for the joins on a slow machine; once all have joined, the sale is moved to
    // a second from then (as an organiser may), instead of idling out a fixed 12 s. The sale opening
    // at the time set when the event was created is the other two tests' case.
    let onSaleAt = new Date(Date.now() + 120_000);
    const eventId = await createRoomEvent(node.url, TICKETS, onSaleAt);
    const line = followLine(node.url, eventId);
    try {
      const joined: Entry[] = new Array(BUYERS);
      for (let from = 0; from < BUYERS; from += 250) {
        await Promise.all(Array.from({ length: 250 }, async (_, k) => {
          const res = await joinAs(node.url, eventId, from + k);
          expect(res.status, JSON.stringify(res.body)).toBe(201);
          joined[from + k] = res.body;
        }));
      }
      expect(Date.now(), 'every join before the sale (the machine was too slow)').toBeLessThan(onSaleAt.getTime());
      expect(joined.every((e) => e.position === null && e.state === 'waiting')).toBe(true);
      onSaleAt = new Date(Date.now() + 1000);
      const moved = await call(node.url, 'PATCH', `/events/${eventId}`, { headers: admin, body: { onSaleAt: onSaleAt.toISOString() } });
      expect(moved.status, JSON.stringify(moved.body)).toBe(200);

      await line.until((u) => u.open);
      const shoppers: Shopper[] = await Promise.all(
        joined.map(async (entry, i) => {
          const res = await entryOf(node.url, eventId, entry, i);
          return { i, url: node.url, entry: res.body };
        }),
      );
      const odd = shoppers.filter((s) => typeof s.entry.position !== 'number').map((s) => s.entry);
      expect(odd.slice(0, 3), `${odd.length} entries without a position`).toEqual([]);
      expect(shoppers.map((s) => s.entry.position).sort((a, b) => a! - b!)).toEqual(Array.from({ length: BUYERS }, (_, k) => k + 1));

      const log = { booked: [] as number[], soldOut: [] as number[], lastBookedAt: 0 };
      await Promise.all(shoppers.map((s) => shop(s, eventId, line, log)));
      expect(log.booked.length).toBe(TICKETS);
      expect([...log.booked].sort((a, b) => a - b)).toEqual(Array.from({ length: TICKETS }, (_, k) => k + 1));
      expect(log.soldOut.length).toBe(BUYERS - TICKETS);
      const soldOut = line.updates.find((u) => u.update.soldOut)!;
      expect(soldOut.at - log.lastBookedAt, 'sold out on the stream within 1 s of the last booking').toBeLessThan(1000);
      // And each of them, asking, is told so.
      const left = shoppers.filter((s) => s.entry.position! > TICKETS).slice(0, 50);
      for (const s of left) expect((await entryOf(node.url, eventId, s.entry, s.i)).body.state).toBe('sold_out');
      expect((await call(node.url, 'GET', `/events/${eventId}`)).body).toMatchObject({ availableTickets: 0, heldTickets: 0 });
    } finally {
      line.close();
    }
    // Admission order is position order, from the database itself.
    node.kill('SIGTERM');
    await node.waitForExit();
    const db = new Database(`${tmp.dir}/big/boxoffice.db`, { readonly: true });
    const rows = db.prepare('SELECT position, state, admitted_at FROM queue_entries WHERE event_id = ? ORDER BY position').all(eventId) as Array<{ position: number; state: string; admitted_at: string | null }>;
    const tickets = (db.prepare('SELECT count(*) AS n FROM tickets WHERE event_id = ?').get(eventId) as { n: number }).n;
    db.close();
    expect(tickets).toBe(TICKETS);
    expect(rows.filter((r) => r.state === 'done').map((r) => r.position)).toEqual(Array.from({ length: TICKETS }, (_, k) => k + 1));
    expect(rows.filter((r) => r.state !== 'done').every((r) => r.state === 'waiting' && r.admitted_at === null)).toBe(true);
    const times = rows.filter((r) => r.admitted_at).map((r) => r.admitted_at!);
    expect(times).toEqual([...times].sort());
  }, 120_000);

  it('kill -9 mid-line and restart: every position, the serving counter and unused passes are as they were', async () => {
    const dataDir = `${tmp.dir}/crash`;
    let node: ServerProcess = await startServerProcess({ dataDir, args: ['--log-level', 'warn', '--max-connections-per-client', '0'] });
    const eventId = await createRoomEvent(node.url, 100, new Date(Date.now() + 4000));
    const joined: Entry[] = await Promise.all(Array.from({ length: 300 }, async (_, i) => (await joinAs(node.url, eventId, i)).body));
    await expect.poll(async () => (await call(node.url, 'GET', `/events/${eventId}/queue`, { headers: admin })).body.serving, { timeout: 15_000, interval: 200 }).toBeGreaterThan(0);
    const before = await Promise.all(joined.map(async (e, i) => (await entryOf(node.url, eventId, e, i)).body));
    const admitted = before.filter((e) => e.state === 'admitted');
    expect(admitted.length).toBeGreaterThan(10);
    // Some use their pass, then the server dies mid-line.
    for (const e of admitted.slice(0, 5)) {
      const i = joined.findIndex((j) => j.id === e.id);
      expect((await call(node.url, 'POST', `/events/${eventId}/bookings`, { from: buyerAddress(i), body: { tickets: 1 }, headers: { 'admission-pass': e.pass } })).status).toBe(201);
    }
    node.kill('SIGKILL');
    expect((await node.waitForExit()).signal).toBe('SIGKILL');

    node = await startServerProcess({ dataDir, args: ['--log-level', 'warn', '--max-connections-per-client', '0'] });
    const after = await Promise.all(joined.map(async (e, i) => (await entryOf(node.url, eventId, e, i)).body));
    expect(after.map((e) => e.position)).toEqual(before.map((e) => e.position));
    for (const e of admitted.slice(0, 5)) expect(after.find((a) => a.id === e.id)!.state).toBe('done');
    // A pass issued before the crash still works after it, once: the key and the entry are in the file.
    const waitingPass = admitted[5]!;
    const i = joined.findIndex((j) => j.id === waitingPass.id);
    const book = () => call(node.url, 'POST', `/events/${eventId}/bookings`, { from: buyerAddress(i), body: { tickets: 1 }, headers: { 'admission-pass': waitingPass.pass! } });
    expect((await book()).status).toBe(201);
    expect((await book()).body.error).toBe('admission_expired');
    expect((await call(node.url, 'GET', `/events/${eventId}`)).body.availableTickets).toBe(94);
  }, 60_000);
});

describePg('waiting room end to end: three PostgreSQL nodes share one line', () => {
  const tmp = tempDir();
  const schemas: Array<{ drop: () => Promise<void> }> = [];
  afterAll(async () => {
    await killAllProcesses();
    for (const s of schemas) await s.drop();
    tmp.cleanup();
  });

  it('buyers join through different nodes and poll others: consistent positions, admitted once each, sells out exactly', async () => {
    const s = uniqueSchema('queue');
    schemas.push(s);
    const nodes = await Promise.all(
      [0, 1, 2].map((n) => startServerProcess({ readyTimeoutMs: 40_000, dataDir: `${tmp.dir}/pg${n}`, args: ['--db', PG_URL!, '--pg-schema', s.schema, '--db-pool', '4', '--log-level', 'warn', '--max-connections-per-client', '0'] })),
    );
    const TICKETS = 200;
    const BUYERS = 300;
    const eventId = await createRoomEvent(nodes[0]!.url, TICKETS, new Date(Date.now() + 6000));
    const line = followLine(nodes[0]!.url, eventId);
    try {
      const joined: Entry[] = await Promise.all(Array.from({ length: BUYERS }, async (_, i) => (await joinAs(nodes[i % 3]!.url, eventId, i)).body));
      // A repeat join through another node finds the same entry (one line, shared).
      expect((await joinAs(nodes[1]!.url, eventId, 0)).body.id).toBe(joined[0]!.id);
      await line.until((u) => u.open);
      const seen = await Promise.all(joined.map(async (e, i) => Promise.all(nodes.map(async (n) => (await entryOf(n.url, eventId, e, i)).body.position as number))));
      for (const positions of seen) expect(new Set(positions).size).toBe(1);
      expect(seen.map((p) => p[0]!).sort((a, b) => a - b)).toEqual(Array.from({ length: BUYERS }, (_, k) => k + 1));

      const log = { booked: [] as number[], soldOut: [] as number[], lastBookedAt: 0 };
      await Promise.all(joined.map((entry, i) => shop({ i, url: nodes[(i + 1) % 3]!.url, entry: { ...entry, position: seen[i]![0]! } }, eventId, line, log)));
      expect([...log.booked].sort((a, b) => a - b)).toEqual(Array.from({ length: TICKETS }, (_, k) => k + 1));
      expect(log.soldOut.length).toBe(BUYERS - TICKETS);
    } finally {
      line.close();
    }
    const check = await withPgClient(async (c) => ({
      tickets: (await c.query(`SELECT count(*)::int AS n FROM ${s.schema}.tickets WHERE event_id = $1`, [eventId])).rows[0].n as number,
      done: (await c.query(`SELECT count(*)::int AS n FROM ${s.schema}.queue_entries WHERE event_id = $1 AND state = 'done'`, [eventId])).rows[0].n as number,
      drawn: (await c.query(`SELECT count(*)::int AS n FROM ${s.schema}.queue_lines WHERE event_id = $1 AND opened_at IS NOT NULL`, [eventId])).rows[0].n as number,
    }));
    expect(check).toEqual({ tickets: TICKETS, done: TICKETS, drawn: 1 });
  }, 90_000);
});
