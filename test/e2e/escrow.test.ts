/**
 * PostgreSQL escrow (issue 12 items 2 and 3): several nodes on one database sell one event from
 * their own shares. Real processes, real sockets. A "false sold-out" is a 409 `not_enough_tickets`
 * answered for n tickets while the database still had n or more available tickets 1 s later (in
 * these tests nothing returns stock, so availability only falls: the stock was there the whole second).
 */
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { afterAll, afterEach, expect, it } from 'vitest';
import { eventTotalsSelect } from '../../src/store/postgres/escrow.js';
import { createEventVia } from '../helpers/load.js';
import { PG_URL, describePg, uniqueSchema, withPgClient } from '../helpers/pg.js';
import { TEST_ADMIN_TOKEN, killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

interface Answer {
  status: number;
  error?: string;
  tickets: number;
  ids: string[];
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => killAllProcesses());

describePg('PostgreSQL escrow across nodes', () => {
  const schemas: Array<{ drop: () => Promise<void> }> = [];
  const tmp = tempDir();
  const key = randomBytes(32).toString('base64');
  afterAll(async () => {
    await killAllProcesses();
    for (const s of schemas) await s.drop();
    tmp.cleanup();
  });

  function startNode(schema: string, i: number, env: Record<string, string> = {}): Promise<ServerProcess> {
    return startServerProcess({
      dataDir: `${tmp.dir}/${schema}-node${i}`,
      args: ['--db', PG_URL!, '--pg-schema', schema, '--db-pool', '6', '--log-level', 'warn'],
      env: { BOXOFFICE_SECRET_KEY: key, ...env },
      // Several nodes migrating one new schema at once, on a shared 2-core machine, can take a while.
      readyTimeoutMs: 45_000,
    });
  }

  /** Books until `stop()` says so, round-robin over the nodes, `perNode` sockets each, 1–`max` tickets a request. */
  function bookUntil(urls: string[], eventId: string, opts: { perNode: number; max: number; stop: () => boolean; answers?: Answer[] }): Promise<Answer[]> {
    const pools = urls.map((u) => new Pool(u, { connections: opts.perNode }));
    const answers: Answer[] = opts.answers ?? [];
    const worker = async (w: number) => {
      for (let i = 0; !opts.stop(); i++) {
        const n = 1 + ((w + i) % opts.max);
        try {
          const res = await pools[w % pools.length]!.request({ method: 'POST', path: `/events/${eventId}/bookings`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickets: n }) });
          const body = (await res.body.json()) as { error?: string; tickets?: Array<{ id: string }> };
          answers.push({ status: res.statusCode, error: body.error, tickets: n, ids: body.tickets?.map((t) => t.id) ?? [], at: Date.now() });
        } catch (err) {
          answers.push({ status: 0, error: (err as Error).message, tickets: n, ids: [], at: Date.now() });
        }
      }
    };
    return Promise.all(Array.from({ length: urls.length * opts.perNode }, (_, w) => worker(w))).then(async () => {
      await Promise.all(pools.map((p) => p.close().catch(() => {})));
      return answers;
    });
  }

  /** Samples the event's available stock (pool + every share) every 20 ms until stopped. */
  function sampler(schema: string, eventId: string) {
    const samples: Array<{ at: number; available: number }> = [];
    let running = true;
    const done = withPgClient(async (c) => {
      while (running) {
        const { rows } = await c.query(`SELECT available_tickets AS a FROM (${eventTotalsSelect(schema)}) e WHERE id = $1`, [eventId]);
        samples.push({ at: Date.now(), available: rows[0].a as number });
        await sleep(20);
      }
    });
    return {
      samples,
      stop: async () => {
        running = false;
        await done;
      },
    };
  }

  function falseSoldOuts(answers: Answer[], samples: Array<{ at: number; available: number }>): Answer[] {
    return answers.filter((a) => {
      if (a.status !== 409 || a.error !== 'not_enough_tickets') return false;
      const later = samples.find((s) => s.at >= a.at + 1000);
      return later !== undefined && later.available >= a.tickets;
    });
  }

  /** available + held + sold == total, with available and held summed over the pool and every share, checked in SQL. */
  async function invariant(schema: string, eventId: string) {
    return withPgClient(async (c) => {
      const { rows } = await c.query(
        `SELECT e.total_tickets AS total, e.available_tickets AS available, e.held_tickets AS held,
                (SELECT count(*)::int FROM ${schema}.tickets t WHERE t.event_id = e.id AND t.cancelled_at IS NULL) AS sold,
                (SELECT coalesce(sum(tickets), 0)::int FROM ${schema}.holds h WHERE h.event_id = e.id AND h.status = 'active') AS active_holds
         FROM (${eventTotalsSelect(schema)}) e WHERE e.id = $1`,
        [eventId],
      );
      const r = rows[0] as { total: number; available: number; held: number; sold: number; active_holds: number };
      expect(r.available + r.held + r.sold).toBe(r.total);
      expect(r.held).toBe(r.active_holds);
      return r;
    });
  }

  async function storedOf(schema: string, ids: string[]): Promise<number> {
    return withPgClient(async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${schema}.tickets WHERE id = ANY($1::uuid[])`, [ids])).rows[0].n as number);
  }

  /** Answers by status and error code, for failure messages. */
  const tally = (answers: Answer[]) => {
    const counts: Record<string, number> = {};
    for (const a of answers) counts[`${a.status} ${a.error ?? ''}`] = (counts[`${a.status} ${a.error ?? ''}`] ?? 0) + 1;
    return JSON.stringify(counts);
  };

  /** Sells until the answers acknowledged `tickets`; then on `rest` only until 1.5 s after the first sold-out answer. */
  async function race(all: ServerProcess[], rest: ServerProcess[], eventId: string, firstPart: number, between?: () => Promise<void>) {
    const answers: Answer[] = [];
    const sold = () => answers.reduce((n, a) => n + a.ids.length, 0);
    await bookUntil(all.map((n) => n.url), eventId, { perNode: 12, max: 4, answers, stop: () => sold() >= firstPart });
    await between?.();
    const started = Date.now();
    const soldOutAt = () => answers.find((a) => a.status === 409 && a.at >= started)?.at ?? 0;
    await bookUntil(rest.map((n) => n.url), eventId, { perNode: 16, max: 4, answers, stop: () => Date.now() - started > 20_000 || (soldOutAt() > 0 && Date.now() - soldOutAt() > 1500) });
    return answers;
  }

  /** This schema's shares by node, for the event. */
  const sharesOf = (schema: string, eventId: string) =>
    withPgClient(async (c) => (await c.query(`SELECT node_id, available FROM ${schema}.event_shares WHERE event_id = $1`, [eventId])).rows as Array<{ node_id: string; available: number }>);

  // Half-way, the load balancer sends nothing more to two of the four nodes: the stock their shares
  // hold must be sold by the other two (taken from their shares once the pool is empty).
  it('4 nodes race one event to its sell-out, two of them idle at the end: exact counts, every acknowledged ticket stored, no false sold-out', async () => {
    const s = uniqueSchema('escrow_race');
    schemas.push(s);
    const nodes = await Promise.all([0, 1, 2, 3].map((i) => startNode(s.schema, i)));
    const TOTAL = 3000;
    const eventId = await createEventVia(nodes[0]!.url, TOTAL, TEST_ADMIN_TOKEN);
    const watch = sampler(s.schema, eventId);
    let stranded = 0;
    const answers = await race(nodes, nodes.slice(0, 2), eventId, TOTAL / 2, async () => {
      stranded = (await sharesOf(s.schema, eventId)).length;
    });
    await sleep(1100);
    await watch.stop();
    expect(stranded).toBeGreaterThanOrEqual(3);
    expect(answers.filter((a) => a.status !== 201 && a.status !== 409), tally(answers)).toHaveLength(0);
    const ids = answers.flatMap((a) => a.ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await storedOf(s.schema, ids)).toBe(ids.length);
    const r = await invariant(s.schema, eventId);
    expect(r.sold).toBe(ids.length);
    // Sold out: nothing is left that a 1-ticket request (one in four) could still take.
    expect(r.available, tally(answers)).toBe(0);
    expect(falseSoldOuts(answers, watch.samples), tally(answers)).toEqual([]);
  });

  it('kill -9 of a node holding a share mid-load: nothing acknowledged is lost, the others sell its stock at once, and its share is gone within 15 s', async () => {
    const s = uniqueSchema('escrow_kill');
    schemas.push(s);
    const nodes = await Promise.all([0, 1, 2].map((i) => startNode(s.schema, i)));
    const TOTAL = 2000;
    const eventId = await createEventVia(nodes[0]!.url, TOTAL, TEST_ADMIN_TOKEN);
    const watch = sampler(s.schema, eventId);
    let killedAt = 0;
    let before: Array<{ node_id: string; available: number }> = [];
    const answers = await race(nodes, nodes.slice(0, 2), eventId, TOTAL / 2, async () => {
      before = await sharesOf(s.schema, eventId);
      nodes[2]!.kill('SIGKILL');
      killedAt = Date.now();
      await nodes[2]!.waitForExit();
    });
    await sleep(1100);
    await watch.stop();
    const ids = answers.flatMap((a) => a.ids);
    expect(new Set(ids).size).toBe(ids.length);
    // Answers the dead node never sent are socket errors; nothing else failed.
    expect(answers.filter((a) => a.status !== 201 && a.status !== 409 && a.status !== 0), tally(answers)).toHaveLength(0);
    expect(await storedOf(s.schema, ids)).toBe(ids.length);
    const r = await invariant(s.schema, eventId);
    expect(r.available, tally(answers)).toBe(0);
    expect(falseSoldOuts(answers, watch.samples), tally(answers)).toEqual([]);
    // The lease runs out (10 s) and the next sweep (every 2 s) deletes what is left of the dead node's share.
    expect(before.length).toBe(3);
    await expect
      .poll(async () => (await withPgClient(async (c) => (await c.query(`SELECT count(*)::int AS n FROM ${s.schema}.boxoffice_nodes`)).rows[0].n as number)), { timeout: 15_000 - (Date.now() - killedAt), interval: 250 })
      .toBe(2);
    expect((await sharesOf(s.schema, eventId)).length).toBeLessThanOrEqual(2);
    await invariant(s.schema, eventId);
  });

  it('a node whose database sessions are terminated while it holds stock answers 503, recovers, and loses nothing', async () => {
    const s = uniqueSchema('escrow_term');
    schemas.push(s);
    const app = `bo_escrow_term_${process.pid}`;
    const nodes = await Promise.all([startNode(s.schema, 0, { PGAPPNAME: app }), startNode(s.schema, 1)]);
    const TOTAL = 20_000;
    const eventId = await createEventVia(nodes[0]!.url, TOTAL, TEST_ADMIN_TOKEN);
    const answers: Answer[] = [];
    let stop = false;
    const load = bookUntil(nodes.map((n) => n.url), eventId, { perNode: 12, max: 4, answers, stop: () => stop });
    await expect.poll(async () => (await sharesOf(s.schema, eventId)).length, { timeout: 10_000, interval: 100 }).toBe(2);
    let terminated = 0;
    for (let round = 0; round < 4; round++) {
      terminated += await withPgClient(async (c) => (await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1', [`${app}%`])).rowCount ?? 0);
      await sleep(200);
    }
    await sleep(500);
    stop = true;
    await load;
    expect(terminated).toBeGreaterThan(0);
    for (const a of answers) expect([201, 503], tally(answers)).toContain(a.status);
    const ids = answers.flatMap((a) => a.ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(await storedOf(s.schema, ids)).toBe(ids.length);
    const r = await invariant(s.schema, eventId);
    expect(r.sold).toBe(ids.length);
    // The cut-off node heals by itself: it books again, from its share.
    await expect
      .poll(async () => (await fetch(`${nodes[0]!.url}/events/${eventId}/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tickets":1}' })).status, { timeout: 10_000, interval: 200 })
      .toBe(201);
    await invariant(s.schema, eventId);
    // Each node shows its own share of the event's stock in its metrics (issue 12 item 4).
    const shares = await sharesOf(s.schema, eventId);
    for (const node of nodes) {
      const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).text();
      const line = text.split('\n').find((l) => l.startsWith('boxoffice_event_stock_share_tickets{') && l.includes(`event="${eventId}"`));
      expect(line).toBeDefined();
      const [, nodeId, value] = /node="([^"]+)"\} (\d+)/.exec(line!)!;
      expect(shares.find((x) => x.node_id === nodeId)?.available).toBe(Number(value));
    }
  });
});
