/**
 * Escrow on PostgreSQL at the store level (docs/SCALING.md, "PostgreSQL nodes"): what a booking batch
 * locks, where stock moves, and that sold out means sold out everywhere.
 */
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { PG_URL, describePg, uniqueSchema } from '../helpers/pg.js';
import { newEvent } from './contract.js';
import { writes } from './writes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describePg('PostgreSQL escrow (store)', () => {
  const s = uniqueSchema('escrow_store');
  afterAll(() => s.drop());

  // What made nodes queue: every batch locked the event's row until its COMMIT. Here another
  // transaction holds that row (as a top-up or an event edit on another node does) and bookings
  // and holds from this node's share still commit. Waiting for it would end in 'blocked'.
  it('a booking or hold batch takes no lock on its event row', async () => {
    const store = await PostgresStore.open({ url: PG_URL!, schema: s.schema, poolSize: 4 });
    const event = newEvent({ totalTickets: 1000, maxTicketsPerBooking: 10 });
    await writes(store).createEvent(event);
    expect((await writes(store).commitBookings([{ eventId: event.id, tickets: 1 }]))[0]!.ok).toBe(true);
    const other = new pg.Client({ connectionString: PG_URL! });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM ${s.schema}.events WHERE id = $1 FOR NO KEY UPDATE`, [event.id]);
      const done = writes(store).commitBookings([
        { eventId: event.id, tickets: 2 },
        { eventId: event.id, tickets: 3, kind: 'hold' },
      ]);
      const outcome = await Promise.race([done, sleep(3000).then(() => 'blocked' as const)]);
      expect(outcome).not.toBe('blocked');
      expect((outcome as Array<{ ok: boolean }>).every((o) => o.ok)).toBe(true);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
    expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 1000 - 6, heldTickets: 3 });
    await store.close();
  });

  it('sold out on one node only when the pool and every share are empty; a clean stop gives the share back', async () => {
    const [a, b] = await Promise.all([0, 1].map(() => PostgresStore.open({ url: PG_URL!, schema: s.schema, poolSize: 2 })));
    const event = newEvent({ totalTickets: 40, maxTicketsPerBooking: 10 });
    await writes(a!).createEvent(event);
    // a takes a slab; then b sells everything, a's share included.
    expect((await writes(a!).commitBookings([{ eventId: event.id, tickets: 1 }]))[0]!.ok).toBe(true);
    const shares = await sharesOf(event.id);
    expect(shares.some((x) => x.available > 0)).toBe(true);
    const sold = await writes(b!).commitBookings(Array.from({ length: 13 }, () => ({ eventId: event.id, tickets: 3 })));
    expect(sold.every((o) => o.ok)).toBe(true);
    const refused = await writes(b!).commitBookings([{ eventId: event.id, tickets: 1 }]);
    expect(refused[0]!.ok).toBe(false);
    expect(JSON.stringify(refused[0])).toContain('not_enough_tickets');
    expect(await b!.getEvent(event.id)).toMatchObject({ availableTickets: 0, heldTickets: 0 });
    // A share with stock goes back to the pool when its node stops.
    const other = newEvent({ totalTickets: 50 });
    await writes(a!).createEvent(other);
    await writes(a!).commitBookings([{ eventId: other.id, tickets: 1 }]);
    expect((await sharesOf(other.id)).length).toBe(1);
    await a!.close();
    expect(await sharesOf(other.id)).toEqual([]);
    expect(await b!.getEvent(other.id)).toMatchObject({ availableTickets: 49 });
    await b!.close();
  });

  async function sharesOf(eventId: string): Promise<Array<{ available: number }>> {
    const c = new pg.Client({ connectionString: PG_URL! });
    await c.connect();
    try {
      return (await c.query(`SELECT available FROM ${s.schema}.event_shares WHERE event_id = $1`, [eventId])).rows;
    } finally {
      await c.end();
    }
  }
});
