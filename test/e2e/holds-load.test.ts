/**
 * Issue 7 end to end, on the built binary over real sockets: holds that expire by themselves,
 * confirmation, release, cancellation with the booking secret and idempotency keys, under concurrent
 * load, across several PostgreSQL nodes, and across kill -9.
 *
 * Every check compares what clients were told with what the database holds afterwards, read
 * directly (the SQLite file, or PostgreSQL), so a server that answers consistently but stores
 * something else still fails.
 */
import Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Booking, Hold } from '../../src/core/types.js';
import {
  CLIENT_ADDRESSES,
  CLOCK_SLACK_MS,
  Ledger,
  NodeClient,
  checkAgainstStore,
  checkKeyedCopies,
  createHoldEvent,
  getEvent,
  postgresSnapshot,
  runMixedLoad,
  sleep,
  sqliteSnapshot,
  watchExpiry,
  type Answer,
  type TrackedHold,
} from '../helpers/holds-load.js';
import { PG_URL, describePg, uniqueSchema, withPgClient } from '../helpers/pg.js';
import { killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const LOAD_MS = 7_000;
const WORKERS = 64;

/** Sleeps until every acknowledged hold is `marginMs` past its expiry. */
async function waitPastExpiry(ledger: Ledger, marginMs = 2_000): Promise<void> {
  await sleep(ledger.lastExpiry() + marginMs - Date.now());
}

async function heldOn(url: string, eventId: string): Promise<number> {
  return (await getEvent(url, eventId)).heldTickets;
}

function report(name: string, ledger: Ledger, extra: Record<string, unknown> = {}): void {
  console.log(`[holds-load] ${name}: ${JSON.stringify({ ...ledger.summary(), ...extra })}`);
  console.log(`[holds-load] ${name} statuses: ${JSON.stringify(ledger.statuses)}`);
}

/** The load must have gone down every path it claims to test, or a pass would prove nothing. */
function expectEveryPathTaken(ledger: Ledger): void {
  const s = ledger.summary();
  expect(s.holds, 'holds made').toBeGreaterThan(50);
  expect(s.holdsConfirmed, 'holds confirmed in time').toBeGreaterThan(5);
  expect(s.holdsReleased, 'holds released').toBeGreaterThan(3);
  expect(s.holdsExpiredOnConfirmOrRelease, 'confirms/releases after expiry answered 410').toBeGreaterThan(3);
  expect(s.holdsLeftToExpire, 'holds left for the sweeper').toBeGreaterThan(3);
  expect(s.fullCancels, 'whole cancellations').toBeGreaterThan(3);
  expect(s.partialCancels, 'partial cancellations').toBeGreaterThan(3);
  expect(s.replays, 'idempotent replays').toBeGreaterThan(20);
  expect(s.confirmReplays, 'repeated confirms').toBeGreaterThan(0);
  expect(s.keyReuseRefusals, 'key reused for another request').toBeGreaterThan(0);
}

afterEach(() => killAllProcesses());

describe('issue 7 under mixed load on one SQLite server process', () => {
  const tmp = tempDir('boxoffice-e2e-holds-');
  afterAll(async () => {
    await killAllProcesses();
    tmp.cleanup();
  });

  // Fails on: an oversell or a lost ticket (available + held + sold != total, an acknowledged ticket
  // missing or stored with the wrong status, a stored ticket nobody was told about), a hold that never
  // expires (held > 0 or a hold still active at the end) or expires twice (the sum breaks), a confirm
  // or release answered 410 before expiresAt or succeeding after it, a keyed repeat that books again
  // or answers other ids, two bookings sharing a ticket id, any 5xx or dropped connection.
  it('64 connections for 7 s of book/hold/confirm/release/cancel/keyed repeats on 300 tickets with 2 s holds: the database agrees with every answer', async () => {
    const server = await startServerProcess({ dataDir: tmp.dir, args: ['--log-level', 'warn'] });
    const event = await createHoldEvent(server.url, { totalTickets: 300, holdSeconds: 2 });
    const nodes = [new NodeClient(server.url, 0, CLIENT_ADDRESSES, WORKERS / CLIENT_ADDRESSES.length)];
    const ledger = new Ledger();
    try {
      await runMixedLoad({ nodes, eventId: event.id, holdMs: 2_000, durationMs: LOAD_MS, workers: WORKERS, seed: 7, ledger });
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
    await waitPastExpiry(ledger);
    // The sweeper runs every 250 ms; 2 s past the last expiry it is done (the poll only absorbs a busy machine).
    await expect.poll(() => heldOn(server.url, event.id), { timeout: 5_000, interval: 100 }).toBe(0);

    const snap = sqliteSnapshot(`${tmp.dir}/boxoffice.db`);
    report('sqlite', ledger);
    expect([...ledger.violations, ...checkAgainstStore(ledger, snap, [event.id], true)]).toEqual([]);
    expectEveryPathTaken(ledger);
    // The server's own view (its catalog cache) matches the file.
    const seen = await getEvent(server.url, event.id);
    expect(seen.availableTickets).toBe(snap.events.get(event.id)!.available);

    server.kill('SIGTERM');
    expect(await server.waitForExit()).toEqual({ code: 0, signal: null });
  });
});

describePg('issue 7 across PostgreSQL nodes', () => {
  const tmp = tempDir('boxoffice-e2e-holds-pg-');
  const schema = uniqueSchema('holds');
  afterAll(async () => {
    await killAllProcesses();
    await schema.drop();
    tmp.cleanup();
  });

  /**
   * The same key sent at the same moment to two nodes: both transactions race to claim the key row,
   * so one must wait for the other and replay it. Some copies go through POST /reserve on the second
   * node, which must answer the same tickets (a key names one booking whatever the route).
   */
  async function raceKeysAcrossNodes(a: NodeClient, b: NodeClient, eventId: string, keys: number, ledger: Ledger) {
    const sent = { book: 0, hold: 0, bookTickets: 0, holdTickets: 0 };
    const one = async (i: number) => {
      const kind = i % 3 === 2 ? 'hold' : 'book';
      const n = 1 + (i % 3);
      const key = `race-${i}-${randomUUID()}`;
      ledger.keys.add(key);
      const headers = { 'idempotency-key': key };
      const viaReserve = kind === 'book' && i % 2 === 1;
      const path = `/events/${eventId}/${kind === 'hold' ? 'holds' : 'bookings'}`;
      const answers = await Promise.all([
        a.send('POST', path, { headers, body: { tickets: n } }),
        viaReserve ? b.send('POST', `/reserve?eventId=${eventId}&tickets=${n}`, { headers }) : b.send('POST', path, { headers, body: { tickets: n } }),
      ]);
      answers.forEach((x) => ledger.note(`race ${kind}`, x));
      checkKeyedCopies(ledger, key, kind, [kind, viaReserve ? 'reserve' : kind], answers, eventId, n);
      sent[kind]++;
      sent[kind === 'hold' ? 'holdTickets' : 'bookTickets'] += n;
    };
    for (let wave = 0; wave < keys; wave += 6) await Promise.all(Array.from({ length: Math.min(6, keys - wave) }, (_, j) => one(wave + j)));
    return sent;
  }

  // Fails on: anything test 1 fails on, seen across two nodes sharing the database; a key sent to two
  // nodes at once booking or holding twice (more bookings or holds than keys on the race event, or
  // both copies fresh); holds of a node killed with SIGKILL never expiring (heldTickets stays > 0 on
  // the survivors), or expiring before their expiresAt (heldTickets below the holds not yet due, or a
  // hold row 'expired' before its time).
  it('2 loaded nodes + 1 killed with SIGKILL after holding: keys raced across nodes book once, the killed node’s holds expire on time via the others', async () => {
    const sharedSecretKey = randomBytes(32).toString('base64');
    const procs = await Promise.all(
      [0, 1, 2].map((i) =>
        startServerProcess({
          dataDir: `${tmp.dir}/node${i}`,
          args: ['--db', PG_URL!, '--pg-schema', schema.schema, '--db-pool', '6', '--log-level', 'warn'],
          // As documented for several nodes: one booking secret key shared by all (replays on any node).
          env: { BOXOFFICE_SECRET_KEY: sharedSecretKey },
        }),
      ),
    );
    const [a, b, victim] = procs as [ServerProcess, ServerProcess, ServerProcess];
    const main = await createHoldEvent(a.url, { totalTickets: 300, holdSeconds: 2, name: 'mixed' });
    const race = await createHoldEvent(b.url, { totalTickets: 200, holdSeconds: 2, name: 'key race' });
    const orphaned = await createHoldEvent(victim.url, { totalTickets: 60, holdSeconds: 2, name: 'orphaned holds' });
    const clients = [new NodeClient(a.url, 0, CLIENT_ADDRESSES, 8), new NodeClient(b.url, 1, CLIENT_ADDRESSES, 8)];
    const victimClient = new NodeClient(victim.url, 2, ['127.0.0.6'], 8);
    const ledger = new Ledger();

    const killPhase = async () => {
      await sleep(1_500);
      // Holds on the victim, then kill -9 at once: only the database remembers them.
      // Three waves 300 ms apart: expiries spread out, so a sweep that takes holds due "soon" shows.
      const answers: Answer[] = [];
      // Keys answered by the victim just before it died: the final check wants them stored with their result.
      const victimKey = () => {
        const key = `victim-${randomUUID()}`;
        ledger.keys.add(key);
        return key;
      };
      for (let wave = 0; wave < 3; wave++) {
        if (wave > 0) await sleep(300);
        answers.push(
          ...(await Promise.all([
            ...Array.from({ length: 3 }, (_, i) => victimClient.send('POST', `/events/${orphaned.id}/holds`, { body: { tickets: 1 + (i % 3) } })),
            victimClient.send('POST', `/events/${orphaned.id}/holds`, { headers: { 'idempotency-key': victimKey() }, body: { tickets: 2 } }),
            victimClient.send('POST', `/events/${main.id}/holds`, { body: { tickets: 1 } }),
          ])),
        );
      }
      victim.kill('SIGKILL');
      const exit = await victim.waitForExit();
      await victimClient.close();
      const holds: TrackedHold[] = [];
      for (const x of answers) {
        ledger.note('victim hold', x);
        if (ledger.expect('victim hold', x, [201, '409 not_enough_tickets']) && x.status === 201) {
          const h = ledger.addHold(x.body as Hold, 'victim hold');
          if (h && h.eventId === orphaned.id) holds.push(h);
        }
      }
      expect(exit.signal).toBe('SIGKILL');
      expect(holds.length).toBe(12);
      const heldAtKill = holds.reduce((sum, h) => sum + h.tickets, 0);
      // Node B sees the orphaned stock held, then returned by the survivors' sweepers, never early.
      const lastExpiry = Math.max(...holds.map((h) => h.expiresAt));
      // B learns of other nodes' commits within ~100 ms (NOTIFY, coalesced); let that pass first.
      await sleep(200);
      const [viaHttp, early] = await Promise.all([
        watchExpiry(holds, () => heldOn(b.url, orphaned.id), lastExpiry - Date.now() + 10_000),
        // The rows themselves: no hold marked expired before its expiresAt.
        withPgClient(async (c) => {
          const found: string[] = [];
          while (Date.now() < lastExpiry + 10_000) {
            const { rows } = await c.query(`SELECT id, status, expires_at FROM ${schema.schema}.holds WHERE event_id = $1`, [orphaned.id]);
            const after = Date.now();
            for (const r of rows) {
              if (r.status === 'expired' && (r.expires_at as Date).getTime() > after) found.push(`hold ${r.id} expired before ${(r.expires_at as Date).toISOString()}`);
              if (r.status !== 'active' && r.status !== 'expired') found.push(`hold ${r.id} became ${r.status}`);
            }
            if (rows.length === holds.length && rows.every((r) => r.status === 'expired')) break;
            await sleep(50);
          }
          return found;
        }),
      ]);
      return { heldAtKill, viaHttp, early, lastExpiry };
    };

    const [, raced, kill] = await Promise.all([
      runMixedLoad({ nodes: clients, eventId: main.id, holdMs: 2_000, durationMs: LOAD_MS, workers: WORKERS, seed: 11, ledger }),
      sleep(500).then(() => raceKeysAcrossNodes(clients[0]!, clients[1]!, race.id, 24, ledger)),
      killPhase(),
    ]).finally(() => Promise.all(clients.map((n) => n.close())));

    // The killed node's holds: seen held by B, back at 0 after their expiry, never before.
    expect(kill.heldAtKill).toBeGreaterThan(0);
    expect(kill.viaHttp.violations).toEqual([]);
    expect(kill.early).toEqual([]);
    expect(kill.viaHttp.zeroAt, 'heldTickets on node B never came back to 0').toBeDefined();
    expect(kill.viaHttp.zeroAt!).toBeGreaterThanOrEqual(kill.lastExpiry - CLOCK_SLACK_MS);

    await waitPastExpiry(ledger);
    for (const node of [a, b]) {
      for (const e of [main, race, orphaned]) await expect.poll(() => heldOn(node.url, e.id), { timeout: 5_000, interval: 100 }).toBe(0);
    }
    const snap = await postgresSnapshot(PG_URL!, schema.schema);
    report('postgres', ledger, { raced, orphanedHeldAtKill: kill.heldAtKill, orphanedBackMsAfterExpiry: kill.viaHttp.zeroAt! - kill.lastExpiry, polls: kill.viaHttp.samples });
    expect([...ledger.violations, ...checkAgainstStore(ledger, snap, [main.id, race.id, orphaned.id], true)]).toEqual([]);
    expectEveryPathTaken(ledger);

    // Exactly one booking or hold per raced key, with exactly the tickets asked for.
    const onRace = (rows: Iterable<{ eventId: string }>) => [...rows].filter((r) => r.eventId === race.id);
    expect(onRace(snap.bookings.values())).toHaveLength(raced.book);
    expect(onRace(snap.holds.values())).toHaveLength(raced.hold);
    expect(onRace(snap.tickets.values())).toHaveLength(raced.bookTickets);
    expect(snap.events.get(race.id)!.available).toBe(200 - raced.bookTickets);

    // Both survivors report what the database says.
    for (const node of [a, b]) {
      await expect.poll(async () => (await getEvent(node.url, main.id)).availableTickets, { timeout: 3_000, interval: 100 }).toBe(snap.events.get(main.id)!.available);
    }
  });
});

describe('issue 7 across kill -9 on SQLite', () => {
  const tmp = tempDir('boxoffice-e2e-holds-crash-');
  afterAll(async () => {
    await killAllProcesses();
    tmp.cleanup();
  });

  // Fails on: holds lost or forgotten by a crash (not stored, not active after the restart, or their
  // tickets never coming back), stock coming back before expiresAt after a restart, holds that fell due
  // while the server was down staying held, confirmed/released holds changing state, a keyed request
  // acknowledged before a kill booking or holding again (or answering other ids) when retried after
  // it, or a booking secret that no longer cancels.
  it('holds survive kill -9 and expire on time after the restart (also when due while down); keyed answers replay the same ids', async () => {
    const start = () => startServerProcess({ dataDir: tmp.dir, args: ['--log-level', 'warn'] });
    const crash = async (s: ServerProcess, c: NodeClient) => {
      s.kill('SIGKILL');
      expect((await s.waitForExit()).signal).toBe('SIGKILL');
      await c.close();
    };
    let server = await start();
    let client = new NodeClient(server.url, 0, ['127.0.0.2'], 8);
    const slow = await createHoldEvent(server.url, { totalTickets: 60, holdSeconds: 3, name: 'expires after restart' });
    const quick = await createHoldEvent(server.url, { totalTickets: 30, holdSeconds: 1, name: 'expires while down' });
    const ledger = new Ledger();
    const holdOn = async (eventId: string, tickets: number) => {
      const x = await client.send('POST', `/events/${eventId}/holds`, { body: { tickets } });
      ledger.note('hold', x);
      expect(x.status, JSON.stringify(x.body)).toBe(201);
      return ledger.addHold(x.body as Hold, 'hold')!;
    };

    // ---- Crash 1: keyed requests and 1 s holds acknowledged, kill -9, down until the holds are due.
    const keyed = Array.from({ length: 8 }, (_, i) => ({
      key: `crash-${i}-${randomUUID()}`,
      kind: i < 6 ? ('book' as const) : ('hold' as const),
      route: i < 6 ? (i % 2 === 0 ? 'book' : 'reserve') : 'hold',
      tickets: 1 + (i % 2),
    }));
    const sendKeyed = (c: NodeClient, k: (typeof keyed)[number], route = k.route, tickets = k.tickets) =>
      route === 'reserve'
        ? c.send('POST', `/reserve?eventId=${quick.id}&tickets=${tickets}`, { headers: { 'idempotency-key': k.key } })
        : c.send('POST', `/events/${quick.id}/${route === 'hold' ? 'holds' : 'bookings'}`, { headers: { 'idempotency-key': k.key }, body: { tickets } });
    const first = await Promise.all(keyed.map((k) => sendKeyed(client, k)));
    first.forEach((x, i) => {
      const k = keyed[i]!;
      ledger.keys.add(k.key);
      ledger.note('keyed', x);
      checkKeyedCopies(ledger, k.key, k.kind, [k.route], [x], quick.id, k.tickets);
    });
    const quickHolds = [
      ...(await Promise.all(Array.from({ length: 5 }, (_, i) => holdOn(quick.id, 1 + (i % 2))))),
      ...keyed.flatMap((k, i) => (k.kind === 'hold' ? [ledger.holds.get((first[i]!.body as Hold).id)!] : [])),
    ];
    expect(quickHolds).toHaveLength(7);
    await crash(server, client);
    const quickDue = Math.max(...quickHolds.map((h) => h.expiresAt));
    await sleep(quickDue + 100 - Date.now());
    server = await start();
    client = new NodeClient(server.url, 0, ['127.0.0.2'], 8);

    try {
      // Due while nothing ran: GET says expired at once, and the first sweeps return the stock.
      for (const h of quickHolds) {
        const x = await client.send('GET', `/holds/${h.id}`);
        expect([x.status, (x.body as Hold).status], `hold ${h.id}`).toEqual([200, 'expired']);
      }
      await expect.poll(() => heldOn(server.url, quick.id), { timeout: 5_000, interval: 50 }).toBe(0);

      // Keyed requests acknowledged before the kill replay the same answer after it, by either route.
      const replayAll = async (label: string) => {
        for (const [i, k] of keyed.entries()) {
          const copies = [await sendKeyed(client, k)];
          if (k.kind === 'book') copies.push(await sendKeyed(client, k, k.route === 'book' ? 'reserve' : 'book'));
          for (const x of copies) {
            ledger.note(label, x);
            expect(x.replayed, `key ${k.key} ${label}: ${x.status} ${JSON.stringify(x.body)}`).toBe(true);
          }
          checkKeyedCopies(ledger, k.key, k.kind, [k.route, ...copies.map(() => label)], [first[i]!, ...copies], quick.id, k.tickets);
          if (k.route === 'book') expect((copies[0]!.body as Booking).secret).toBe((first[i]!.body as Booking).secret);
        }
        // A different request under an old key is still refused.
        const reuse = await sendKeyed(client, keyed[0]!, 'book', keyed[0]!.tickets + 1);
        expect([reuse.status, reuse.body.error]).toEqual([422, 'idempotency_key_reused']);
      };
      await replayAll('after crash 1');
      // The secret handed out before the crash still cancels.
      const keyedBooking = ledger.bookings.get((first[0]!.body as Booking).id)!;
      const cancel = await client.send('DELETE', `/bookings/${keyedBooking.id}`, { headers: { authorization: `Bearer ${keyedBooking.secret}` } });
      expect(cancel.status, JSON.stringify(cancel.body)).toBe(200);
      for (const id of keyedBooking.tickets.keys()) keyedBooking.tickets.set(id, 'cancelled');

      // ---- Crash 2: 3 s holds (one confirmed, one released), kill -9, restart at once.
      // In waves 250 ms apart: expiries spread out, so a sweep that takes holds due "soon" shows.
      const slowHolds: TrackedHold[] = [];
      for (let wave = 0; wave < 3; wave++) {
        if (wave > 0) await sleep(250);
        slowHolds.push(...(await Promise.all(Array.from({ length: 4 }, (_, i) => holdOn(slow.id, 1 + (i % 3))))));
      }
      const confirmed = await client.send('POST', `/holds/${slowHolds[0]!.id}/confirm`);
      expect(confirmed.status).toBe(201);
      ledger.addBooking(confirmed.body as Booking, 'confirm');
      Object.assign(slowHolds[0]!, { state: 'confirmed', bookingId: (confirmed.body as Booking).id });
      expect((await client.send('DELETE', `/holds/${slowHolds[1]!.id}`)).status).toBe(200);
      slowHolds[1]!.state = 'released';
      const open = slowHolds.slice(2);
      await crash(server, client);
      const killedAt = Date.now();
      server = await start();
      client = new NodeClient(server.url, 0, ['127.0.0.2'], 8);
      const upAt = Date.now();
      const firstExpiry = Math.min(...open.map((h) => h.expiresAt));
      const lastExpiry = Math.max(...open.map((h) => h.expiresAt));

      // Every hold is there in the state it had: active (or expired if its time has come meanwhile).
      for (const h of slowHolds) {
        const x = await client.send('GET', `/holds/${h.id}`);
        ledger.note('get hold after restart', x);
        const allowed =
          h.state === 'open'
            ? [...(x.sentAt < h.expiresAt + CLOCK_SLACK_MS ? ['active'] : []), ...(x.receivedAt > h.expiresAt - CLOCK_SLACK_MS ? ['expired'] : [])]
            : [h.state];
        expect(allowed, `hold ${h.id} (${h.state}) after restart: ${JSON.stringify(x.body)}`).toContain((x.body as Hold).status);
        if (h.bookingId) expect((x.body as Hold).bookingId).toBe(h.bookingId);
      }
      // Before any is due, the event counts exactly the surviving holds as held.
      const counts = await client.send('GET', `/events/${slow.id}`);
      if (counts.receivedAt < firstExpiry - CLOCK_SLACK_MS) {
        const held = open.reduce((sum, h) => sum + h.tickets, 0);
        expect([counts.body.heldTickets, counts.body.availableTickets]).toEqual([held, slow.totalTickets - held - slowHolds[0]!.tickets]);
      }
      // They come back to stock at their expiresAt: never before (checked on every poll, over HTTP
      // and in the file), and surely after.
      const db = new Database(`${tmp.dir}/boxoffice.db`, { readonly: true });
      const rows = db.prepare<[string], { id: string; status: string; expires_at: string }>('SELECT id, status, expires_at FROM holds WHERE event_id = ?');
      const early: string[] = [];
      const watch = await watchExpiry(
        open,
        async () => {
          const held = await heldOn(server.url, slow.id);
          const after = Date.now();
          for (const r of rows.all(slow.id)) if (r.status === 'expired' && Date.parse(r.expires_at) > after) early.push(`hold ${r.id} expired before ${r.expires_at}`);
          return held;
        },
        lastExpiry - Date.now() + 10_000,
      );
      db.close();
      console.log(
        `[holds-load] crash: ${JSON.stringify({
          restartMs: upAt - killedAt,
          // Negative: the restart was slower than the holds, so "active after restart" went unobserved.
          upBeforeFirstExpiryMs: firstExpiry - upAt,
          backMsAfterLastExpiry: watch.zeroAt === undefined ? undefined : watch.zeroAt - lastExpiry,
          polls: watch.samples,
          ...ledger.summary(),
        })}`,
      );
      expect(watch.violations).toEqual([]);
      expect(early).toEqual([]);
      expect(watch.zeroAt, 'held tickets never came back').toBeDefined();
      await replayAll('after crash 2');

      await waitPastExpiry(ledger, 500);
      const snap = sqliteSnapshot(`${tmp.dir}/boxoffice.db`);
      expect([...ledger.violations, ...checkAgainstStore(ledger, snap, [slow.id, quick.id], true)]).toEqual([]);
    } finally {
      await client.close();
    }
    server.kill('SIGTERM');
    expect(await server.waitForExit()).toEqual({ code: 0, signal: null });
  });
});
