import pg from 'pg';
import { writes } from './writes.js';
import { afterAll, expect, it } from 'vitest';
import { postgresMigrations } from '../../src/store/postgres/migrations.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { PG_URL, describePg, uniqueSchema } from '../helpers/pg.js';
import { newEvent, storeContract } from './contract.js';

const schemas: Array<{ drop: () => Promise<void> }> = [];

describePg('PostgreSQL adapter', () => {
  storeContract('postgres', {
    open: async () => {
      const s = uniqueSchema('contract');
      schemas.push(s);
      return PostgresStore.open({ url: PG_URL!, schema: s.schema, poolSize: 4 });
    },
    reopen: async (store) => {
      const schema = (store as PostgresStore).schema;
      await store.close();
      return PostgresStore.open({ url: PG_URL!, schema, poolSize: 4 });
    },
    cleanup: async () => {
      for (const s of schemas.splice(0)) await s.drop();
    },
  });

  const shared = uniqueSchema('pgspec');
  afterAll(() => shared.drop());

  it('migrates once when several nodes start at the same moment', async () => {
    const stores = await Promise.all(Array.from({ length: 6 }, () => PostgresStore.open({ url: PG_URL!, schema: shared.schema, poolSize: 2 })));
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    const { rows } = await client.query(`SELECT version FROM ${shared.schema}.boxoffice_migrations ORDER BY version`);
    await client.end();
    expect(rows.map((r) => r.version)).toEqual(postgresMigrations.map((m) => m.version));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('tells a node about commits made by another node, and not about its own', async () => {
    const a = await PostgresStore.open({ url: PG_URL!, schema: shared.schema, poolSize: 2 });
    const b = await PostgresStore.open({ url: PG_URL!, schema: shared.schema, poolSize: 2 });
    let seenByA = 0;
    let seenByB = 0;
    const stopA = a.watchExternalChanges(() => seenByA++);
    const stopB = b.watchExternalChanges(() => seenByB++);
    // LISTEN is issued asynchronously; give it a moment before committing.
    await expect.poll(async () => {
      const event = newEvent({ totalTickets: 5 });
      await writes(b).createEvent(event);
      await writes(b).commitBookings([{ eventId: event.id, tickets: 1 }]);
      return seenByA;
    }, { timeout: 5000, interval: 200 }).toBeGreaterThan(0);
    expect(seenByB).toBe(0);
    stopA();
    stopB();
    await a.close();
    await b.close();
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(PostgresStore.open({ url: PG_URL!, schema: 'x; DROP TABLE events' })).rejects.toThrow(/schema must be/);
  });

  it('fails fast with a clear error when the database is unreachable', async () => {
    await expect(PostgresStore.open({ url: 'postgres://postgres@127.0.0.1:1/none', timeoutMs: 1000 })).rejects.toThrow();
  });
});

describePg('PostgreSQL: per-buyer limits across nodes', () => {
  const shared = uniqueSchema('buyers');
  afterAll(() => shared.drop());

  // A new buyer's counter row references its event: inserting it takes a key-share lock on the
  // event row, so two transactions that each inserted one and then asked for the event's row lock
  // deadlocked. The event is locked before the buyers' rows now.
  it('four nodes, each batch with buyers new to the event: no deadlock, every hold decided', async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ url: PG_URL!, schema: shared.schema, poolSize: 4 })));
    const event = newEvent({ totalTickets: 10_000, maxTicketsPerBooking: 10, maxHeldPerBuyer: 10 });
    await writes(nodes[0]!).createEvent(event);
    const results = await Promise.allSettled(
      Array.from({ length: 120 }, (_, i) =>
        writes(nodes[i % 4]!).commitBookings([
          { eventId: event.id, tickets: 1, kind: 'hold', buyer: `new-a-${i}` },
          { eventId: event.id, tickets: 1, kind: 'book', buyer: `new-b-${i}` },
        ]),
      ),
    );
    const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
    expect(failed).toEqual([]);
    expect(results.flatMap((r) => (r.status === 'fulfilled' ? r.value : [])).every((o) => o.ok)).toBe(true);
    expect(await nodes[1]!.getEvent(event.id)).toMatchObject({ availableTickets: 10_000 - 240, heldTickets: 120 });
    await Promise.all(nodes.map((n) => n.close()));
  });

  // Cancelling an event ends its active holds in bulk, after the event's row lock; a confirm locks its
  // hold, then the event. Unless the cancellation locks the holds first, the two deadlock.
  it('confirms racing an event cancellation on other nodes: no deadlock, every hold ends once', async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ url: PG_URL!, schema: shared.schema, poolSize: 4 })));
    const failures: string[] = [];
    for (let round = 0; round < 6; round++) {
      const event = newEvent({ totalTickets: 200, maxTicketsPerBooking: 2, maxHeldPerBuyer: 2 });
      await writes(nodes[0]!).createEvent(event);
      const held = await writes(nodes[1]!).commitBookings(Array.from({ length: 40 }, (_, i) => ({ eventId: event.id, tickets: 2, kind: 'hold' as const, buyer: `r${round}-b${i}` })));
      const holdIds = held.map((h) => (h.ok ? h.hold.id : '')).filter(Boolean);
      const now = new Date().toISOString();
      const results = await Promise.allSettled([
        ...holdIds.map((id, i) => nodes[i % 3]!.write({ now, commands: [{ type: 'confirm', holdId: id }] })),
        nodes[3]!.write({ now, commands: [{ type: 'cancelEvent', eventId: event.id }] }),
      ]);
      for (const r of results) if (r.status === 'rejected') failures.push(String(r.reason));
      const after = await nodes[0]!.getEvent(event.id);
      expect(after).toMatchObject({ availableTickets: 0, heldTickets: 0 });
    }
    expect(failures).toEqual([]);
    await Promise.all(nodes.map((n) => n.close()));
  });

  it('four nodes racing one buyer’s holds never let it past its limit, and never deadlock', async () => {
    const nodes = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open({ url: PG_URL!, schema: shared.schema, poolSize: 4 })));
    const event = newEvent({ totalTickets: 1000, maxTicketsPerBooking: 10, maxHeldPerBuyer: 30 });
    await writes(nodes[0]!).createEvent(event);
    // Each node sends batches of holds for the same two buyers at once (a counter row neither has yet).
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        writes(nodes[i % 4]!).commitBookings([
          { eventId: event.id, tickets: 10, kind: 'hold', buyer: 'mallory' },
          { eventId: event.id, tickets: 10, kind: 'hold', buyer: 'trudy' },
        ]),
      ),
    );
    const flat = results.flat();
    const ok = flat.filter((o) => o.ok).length;
    const limited = flat.filter((o) => !o.ok && o.error.code === 'buyer_limit_reached').length;
    expect([ok, limited]).toEqual([6, 74]);
    expect(await nodes[1]!.getEvent(event.id)).toMatchObject({ availableTickets: 940, heldTickets: 60 });
    await Promise.all(nodes.map((n) => n.close()));
  });
});
