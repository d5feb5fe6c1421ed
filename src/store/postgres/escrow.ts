import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { slabSize, stealPlan } from '../../core/escrow.js';
import type { Logger } from '../../core/logger.js';
import { EVENT_COLUMNS } from '../rows.js';
import { inTransaction } from './connection.js';

/**
 * Escrow of stock between nodes sharing one database (docs/SCALING.md, "PostgreSQL nodes"). Each
 * node sells from its own row of `event_shares`; only a top-up, a fold or a sweep locks the event's
 * row. Lock order everywhere: event rows by id, then share rows by (event, node); a booking batch
 * takes only its own share rows (by event id), never an event's row, so none of these can deadlock.
 * Event rows are locked FOR NO KEY UPDATE: the key-share lock a booking's or hold's insert takes on
 * its event (the foreign key) must not wait for them while the batch holds its share, or a fold
 * waiting for that share would close a cycle.
 */

/** How long a node's lease lasts without renewal, and how often it is renewed (and the sweeper runs). */
export const LEASE_SECONDS = 10;
export const RENEW_EVERY_MS = 2000;
/**
 * How long a top-up that found no stock anywhere is believed: meanwhile batches on this node refuse
 * from what they have instead of asking again. Stock returned on another node in that time is
 * refused here for at most this long (well inside the 1 s of a "false sold-out").
 */
export const SOLD_OUT_BELIEF_MS = 250;

/**
 * How a batch meets its events' stock (escrow.ts). `share`: the batch only books, holds, confirms,
 * releases and expires; it locks this node's share rows, never an event's row, and may sell only
 * what its shares hold. `event`: anything else (cancellations, check-ins, event edits, doors); it
 * locks the events' rows and folds every share back into them, so the rules that need the whole
 * stock (an edit below sold + held, a cancelled event's zero) see it, under one lock.
 */
export interface BatchEscrow {
  mode: 'share' | 'event';
  nodeId: string;
  /** Tickets the batch's bookings and holds ask for, per event (an upper bound: some may be refused). */
  demand: ReadonlyMap<string, number>;
  /** Events decided on whatever the share holds, without asking for more (no more stock anywhere, or the last try). */
  settled: ReadonlySet<string> | 'all';
}

/** What a batch's share could not cover; the store tops up and tries the batch again. */
export class ShareShortage extends Error {
  /** Rolled back on purpose: the connection is healthy and goes back to the pool. */
  readonly keepConnection = true;
  constructor(readonly needs: ReadonlyMap<string, number>) {
    super("this node's share cannot cover the batch");
  }
}

/** Events with their counts as everyone sees them: the pool plus every node's share. */
export function eventTotalsSelect(schema?: string, extraColumns = ''): string {
  const prefix = schema === undefined ? '' : `${schema}.`;
  const columns = EVENT_COLUMNS.split(', ').map((c) =>
    c === 'available_tickets' ? 'e.available_tickets + coalesce(s.a, 0) AS available_tickets' : c === 'held_tickets' ? 'e.held_tickets + coalesce(s.h, 0) AS held_tickets' : `e.${c}`,
  );
  return `SELECT ${columns.join(', ')}${extraColumns} FROM ${prefix}events e
          LEFT JOIN (SELECT event_id, sum(available)::int AS a, sum(held)::int AS h FROM ${prefix}event_shares GROUP BY event_id) s ON s.event_id = e.id`;
}

/**
 * Gives every share of these events back to the events' rows, which then hold the true counts (so
 * their CHECKs hold). The share rows are deleted, and those of live nodes other than `except` made
 * again, empty: a share batch waiting for its row's lock meanwhile finds it gone and reads again
 * (so it never decides on event columns older than this fold), and after that finds a row to move
 * stock to without a top-up (a release, an expiry). The caller holds the events' row locks; the
 * shares are locked here in (event, node) order. Returns the tickets moved per event.
 */
export async function foldShares(client: pg.PoolClient, eventIds: string[], except = '00000000-0000-0000-0000-000000000000'): Promise<Map<string, { available: number; held: number }>> {
  const { rows: pairs } = await client.query<{ event_id: string; node_id: string }>({
    name: 'lock-shares',
    text: 'SELECT event_id, node_id FROM event_shares WHERE event_id = ANY($1::uuid[]) ORDER BY event_id, node_id FOR UPDATE',
    values: [eventIds],
  });
  const { rows } = await client.query<{ id: string; a: number; h: number }>({
    name: 'fold-shares',
    text: `WITH locked AS (SELECT event_id, node_id, available, held FROM event_shares WHERE event_id = ANY($1::uuid[]) ORDER BY event_id, node_id FOR UPDATE),
           gone AS (DELETE FROM event_shares s USING locked l WHERE s.event_id = l.event_id AND s.node_id = l.node_id RETURNING l.event_id, l.node_id, l.available, l.held),
           sums AS (SELECT event_id, sum(available)::int AS a, sum(held)::int AS h FROM gone GROUP BY event_id)
           UPDATE events e SET available_tickets = e.available_tickets + sums.a, held_tickets = e.held_tickets + sums.h
           FROM sums WHERE e.id = sums.event_id RETURNING e.id, sums.a, sums.h`,
    values: [eventIds],
  });
  if (pairs.length > 0) {
    await client.query({
      name: 'remake-shares',
      text: `INSERT INTO event_shares (event_id, node_id, available) SELECT d.e, d.n, 0 FROM unnest($1::uuid[], $2::uuid[]) AS d(e, n)
             WHERE d.n <> $3 AND EXISTS (SELECT 1 FROM boxoffice_nodes x WHERE x.node_id = d.n AND x.lease_until >= now())`,
      values: [pairs.map((p) => p.event_id), pairs.map((p) => p.node_id), except],
    });
  }
  return new Map(rows.map((r) => [r.id, { available: r.a, held: r.h }]));
}

/** This node's identity, lease, top-ups and sweeps. */
export class Escrow {
  /** Random per process start: a restarted node never inherits a dead one's shares. */
  readonly nodeId = randomUUID();
  private timer: NodeJS.Timeout | undefined;
  private readonly soldOutUntil = new Map<string, number>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    private readonly options: { leaseSeconds?: number; renewEveryMs?: number } = {},
  ) {}

  async start(): Promise<void> {
    await this.renew(this.pool);
    this.timer = setInterval(() => void this.housekeeping(), this.options.renewEveryMs ?? RENEW_EVERY_MS);
    this.timer.unref();
  }

  /** After an event-level write on this node (an edit, a cancellation) stock may be back: ask again. */
  forgetSoldOut(): void {
    this.soldOutUntil.clear();
  }

  /** Events a top-up found sold out a moment ago (see SOLD_OUT_BELIEF_MS). */
  believedSoldOut(): string[] {
    const now = Date.now();
    const ids: string[] = [];
    for (const [id, until] of this.soldOutUntil) {
      if (until > now) ids.push(id);
      else this.soldOutUntil.delete(id);
    }
    return ids;
  }

  /**
   * A short transaction of its own: moves stock to this node's shares so each covers `needs` (its
   * deficit), from the pool in slabs, or, when the pool cannot cover it, from other nodes' shares
   * (a dead node's first). Creates missing share rows. Returns the events that even all the stock
   * there is cannot cover (or that are gone or not on sale): their batch is decided on what it has.
   */
  async topUp(needs: ReadonlyMap<string, number>): Promise<Set<string>> {
    const ids = [...needs.keys()].sort();
    const uncovered = new Set<string>();
    const soldOut = new Set<string>();
    await inTransaction(this.pool, this.logger, async (client) => {
      const { rows: events } = await client.query<{ id: string; pool: number; on_sale: boolean }>({
        name: 'escrow-lock-events',
        text: "SELECT id, available_tickets AS pool, status = 'scheduled' AND sales_open AS on_sale FROM events WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE",
        values: [ids],
      });
      for (const id of ids) if (!events.some((e) => e.id === id)) uncovered.add(id);
      if (events.length === 0) return;
      await this.renew(client);
      const found = events.map((e) => e.id);
      await client.query({
        name: 'escrow-make-shares',
        text: 'INSERT INTO event_shares (event_id, node_id, available) SELECT unnest($1::uuid[]), $2, 0 ON CONFLICT DO NOTHING',
        values: [found, this.nodeId],
      });
      // Nobody else changes this node's shares while it holds their events' locks (steals and folds take them first).
      const { rows: mine } = await client.query<{ event_id: string; available: number; nodes: number }>({
        name: 'escrow-my-shares',
        text: `SELECT s.event_id, s.available, (SELECT count(*)::int FROM boxoffice_nodes WHERE lease_until > now()) AS nodes
               FROM event_shares s WHERE s.event_id = ANY($1::uuid[]) AND s.node_id = $2`,
        values: [found, this.nodeId],
      });
      const nodes = mine[0]?.nodes ?? 1;
      const poolMoves: Array<[string, number]> = [];
      const shareMoves: Array<[string, string, number]> = [];
      for (const event of events) {
        const have = mine.find((m) => m.event_id === event.id)?.available ?? 0;
        const deficit = Math.max(0, needs.get(event.id)! - have);
        if (deficit === 0) continue;
        if (!event.on_sale) {
          uncovered.add(event.id);
          continue;
        }
        const fromPool = slabSize(deficit, event.pool, nodes);
        let got = fromPool;
        if (fromPool > 0) poolMoves.push([event.id, fromPool]);
        if (fromPool < deficit) {
          // The endgame: the pool is (nearly) empty; what other nodes hold is sold from here instead.
          const { rows: others } = await client.query<{ node_id: string; available: number; alive: boolean }>({
            name: 'escrow-lock-others',
            text: `SELECT s.node_id, s.available, coalesce(n.lease_until > now(), false) AS alive FROM event_shares s LEFT JOIN boxoffice_nodes n ON n.node_id = s.node_id
                   WHERE s.event_id = $1 AND s.node_id <> $2 ORDER BY s.node_id FOR UPDATE OF s`,
            values: [event.id, this.nodeId],
          });
          for (const { nodeId, take } of stealPlan(deficit - fromPool, others.map((o) => ({ nodeId: o.node_id, available: o.available, alive: o.alive })))) {
            shareMoves.push([event.id, nodeId, -take]);
            got += take;
          }
        }
        if (got > 0) shareMoves.push([event.id, this.nodeId, got]);
        if (got < deficit) {
          uncovered.add(event.id);
          soldOut.add(event.id);
        }
      }
      if (poolMoves.length > 0) {
        const { rowCount } = await client.query({
          name: 'escrow-take-pool',
          text: 'UPDATE events e SET available_tickets = e.available_tickets - d.n FROM unnest($1::uuid[], $2::int[]) AS d(id, n) WHERE e.id = d.id AND e.available_tickets >= d.n',
          values: [poolMoves.map((m) => m[0]), poolMoves.map((m) => m[1])],
        });
        if (rowCount !== poolMoves.length) throw new Error('a pool changed under its lock: the top-up was rolled back');
      }
      if (shareMoves.length > 0) {
        const { rowCount } = await client.query({
          name: 'escrow-move-shares',
          text: `UPDATE event_shares s SET available = s.available + d.n FROM unnest($1::uuid[], $2::uuid[], $3::int[]) AS d(e, node, n)
                 WHERE s.event_id = d.e AND s.node_id = d.node AND s.available + d.n >= 0`,
          values: [shareMoves.map((m) => m[0]), shareMoves.map((m) => m[1]), shareMoves.map((m) => m[2])],
        });
        if (rowCount !== shareMoves.length) throw new Error('a share changed under its lock: the top-up was rolled back');
      }
    });
    const until = Date.now() + SOLD_OUT_BELIEF_MS;
    for (const id of soldOut) this.soldOutUntil.set(id, until);
    return uncovered;
  }

  /** This node's share of each event it has one of (for the metrics). */
  async shares(): Promise<Array<{ eventId: string; available: number }>> {
    const { rows } = await this.pool.query<{ event_id: string; available: number }>({
      name: 'escrow-shares-of-node',
      text: 'SELECT event_id, available FROM event_shares WHERE node_id = $1 ORDER BY event_id',
      values: [this.nodeId],
    });
    return rows.map((r) => ({ eventId: r.event_id, available: r.available }));
  }

  /** Clean shutdown: this node's shares go back to their events (folded with the others'), its lease ends. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await inTransaction(this.pool, this.logger, async (client) => {
      const { rows } = await client.query<{ id: string }>({
        name: 'escrow-my-events',
        text: 'SELECT id FROM events WHERE id IN (SELECT event_id FROM event_shares WHERE node_id = $1) ORDER BY id FOR NO KEY UPDATE',
        values: [this.nodeId],
      });
      if (rows.length > 0) await foldShares(client, rows.map((r) => r.id), this.nodeId);
      await client.query('DELETE FROM boxoffice_nodes WHERE node_id = $1', [this.nodeId]);
    });
  }

  private async housekeeping(): Promise<void> {
    try {
      await this.renew(this.pool);
      await this.sweep();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'escrow lease renewal or sweep failed; retrying');
    }
  }

  private async renew(q: Pick<pg.Pool, 'query'>): Promise<void> {
    await q.query({
      name: 'escrow-renew',
      text: `INSERT INTO boxoffice_nodes (node_id, started_at, lease_until) VALUES ($1, now(), now() + make_interval(secs => $2))
             ON CONFLICT (node_id) DO UPDATE SET lease_until = excluded.lease_until`,
      values: [this.nodeId, this.options.leaseSeconds ?? LEASE_SECONDS],
    });
  }

  /**
   * Returns the shares of nodes whose lease ran out (SIGKILLed, frozen, cut off) to their events.
   * One node sweeps at a time (an advisory lock); the others skip this round.
   */
  async sweep(): Promise<number> {
    return inTransaction(this.pool, this.logger, async (client) => {
      const { rows: turn } = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext('boxoffice:escrow-sweep:' || current_schema())) AS ok");
      if (!turn[0]?.ok) return 0;
      const { rows } = await client.query<{ id: string }>({
        name: 'escrow-dead-events',
        text: `SELECT id FROM events WHERE id IN (SELECT s.event_id FROM event_shares s LEFT JOIN boxoffice_nodes n ON n.node_id = s.node_id
                 WHERE n.node_id IS NULL OR n.lease_until < now()) ORDER BY id FOR NO KEY UPDATE`,
      });
      if (rows.length > 0) await foldShares(client, rows.map((r) => r.id));
      await client.query('DELETE FROM boxoffice_nodes n WHERE n.lease_until < now() AND NOT EXISTS (SELECT 1 FROM event_shares s WHERE s.node_id = n.node_id)');
      return rows.length;
    });
  }
}
