/**
 * Storage's own guards. Decisions read the rows inside the transaction, so a correct decision never
 * asks for a write its rows do not allow; the conditional writes are there for the decision that is
 * wrong (a bug, a missed lock). Each adapter is handed effects that no longer match its rows, as a
 * wrong decision would produce, and must refuse them whole and change nothing.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { noEffects, type Effects } from '../../src/core/effects.js';
import type { Store } from '../../src/core/store.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { inTransaction } from '../../src/store/postgres/connection.js';
import type { BatchEscrow } from '../../src/store/postgres/escrow.js';
import { PostgresRows } from '../../src/store/postgres/postgres-rows.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { SqliteWriter } from '../../src/store/sqlite/sqlite-writer.js';
import { describePg, PG_URL, uniqueSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';
import { newEvent } from './contract.js';
import { writes } from './writes.js';

interface Adapter {
  store: Store;
  /** Applies the effects in one transaction of the adapter's own, as its write path would. */
  apply(effects: Effects): Promise<void>;
  close(): Promise<void>;
}

const NOW = new Date('2030-01-01T12:00:00Z');
const LATER = new Date('2030-01-01T13:00:00Z');
const silent = { debug() {}, info() {}, warn() {}, error() {} };

function guards(name: string, open: () => Promise<Adapter>): void {
  describe(`${name}: effects a wrong decision would produce are refused whole`, () => {
    let adapter: Adapter;
    afterAll(() => adapter?.close());

    async function setUp() {
      adapter ??= await open();
      const w = writes(adapter.store);
      const event = newEvent({ totalTickets: 10, holdSeconds: 60, date: '2030-06-01T00:00:00.000Z' });
      await w.createEvent(event);
      const [held] = await w.commitBookings([{ eventId: event.id, tickets: 2, kind: 'hold' }], NOW);
      const [booked] = await w.commitBookings([{ eventId: event.id, tickets: 3 }], NOW);
      if (!held!.ok || !booked!.ok) throw new Error('set-up refused');
      return { event, holdId: held!.hold.id, booking: booked!.booking, w };
    }
    const effects = (change: Partial<Effects>): Effects => ({ ...noEffects(), ...change });
    async function expectRefused(eventId: string, change: Partial<Effects>) {
      const before = await adapter.store.getEvent(eventId);
      await expect(adapter.apply(effects(change))).rejects.toThrow();
      expect(await adapter.store.getEvent(eventId)).toEqual(before);
    }

    // Each guard alone: with the stock move beside it, the stock guard would refuse for it.
    it('a hold that already ended is not ended again', async () => {
      const { event, holdId, w } = await setUp();
      expect((await w.expireHolds(LATER)).expired).toBe(1);
      await expectRefused(event.id, { endedHolds: [{ id: holdId, status: 'released' }] });
      expect((await adapter.store.getHold(holdId))!.status).toBe('expired');
    });

    it('nor are its tickets returned twice', async () => {
      const { event, w } = await setUp();
      expect((await w.expireHolds(LATER)).expired).toBe(1);
      await expectRefused(event.id, { stock: new Map([[event.id, { available: 2, held: -2 }]]) });
    });

    it('a cancelled ticket is not cancelled again', async () => {
      const { event, booking, w } = await setUp();
      const ticket = booking.tickets[0]!.id;
      expect((await w.cancelBooking(booking.id, [ticket], NOW)).ok).toBe(true);
      await expectRefused(event.id, { cancelledTickets: [{ bookingId: booking.id, eventId: event.id, ticketIds: [ticket], at: LATER.toISOString() }] });
      expect((await adapter.store.getTicket(ticket))!.status).toBe('cancelled');
    });

    it('waiting room: a line changed since it was read is not overwritten (the order is drawn once); positions are not given twice; an entry without a pass is not marked done', async () => {
      const { event } = await setUp();
      const room = newEvent({ totalTickets: 10, date: '2030-06-01T00:00:00.000Z', onSaleAt: '2029-12-31T00:00:00.000Z', waitingRoom: true, queueWindow: 1 });
      await adapter.store.write({ now: NOW.toISOString(), commands: [{ type: 'createEvent', event: room }] });
      const joined = await adapter.store.write({ now: NOW.toISOString(), commands: [{ type: 'joinQueue', eventId: room.id, entryId: crypto.randomUUID(), buyer: 'g' }] });
      const entry = (joined[0] as Extract<(typeof joined)[0], { kind: 'queueEntry' }>).entry;
      const line = (await adapter.store.queueSummary(room.id, NOW.toISOString()))!;
      const stale = { eventId: room.id, version: 2, joined: 5, positioned: 5, openedAt: NOW.toISOString(), serving: 0, paused: false };
      const lineEffects = (expectVersion: number) => ({ queue: { ...noEffects().queue, lines: new Map([[room.id, { line: { ...stale, version: expectVersion + 1 }, expectVersion }]]) } });
      await expectRefused(event.id, lineEffects(line.version - 1));
      expect((await adapter.store.queueSummary(room.id, NOW.toISOString()))!.joined).toBe(1);
      await expectRefused(event.id, { queue: { ...noEffects().queue, positions: [{ id: entry.id, position: 7 }, { id: entry.id, position: 8 }] } });
      await expectRefused(event.id, { queue: { ...noEffects().queue, finished: [{ id: entry.id, at: NOW.toISOString() }] } });
      expect(await adapter.store.getQueueEntry(entry.id)).toMatchObject({ position: 1, state: 'waiting' });
    });

    it('stock never goes below zero, whatever the decision computed', async () => {
      const { event } = await setUp();
      await expectRefused(event.id, { stock: new Map([[event.id, { available: -6, held: 0 }]]) });
    });

    it('stock never exceeds the total', async () => {
      const { event } = await setUp();
      await expectRefused(event.id, { stock: new Map([[event.id, { available: 4, held: 0 }]]) });
    });
  });
}

guards('memory', async () => {
  const store = new MemoryStore();
  return { store, apply: async (e) => store.apply(e), close: () => store.close() };
});

const tmp = tempDir('boxoffice-guards-');
afterAll(() => tmp.cleanup());
guards('SQLite', async () => {
  // Inline: the same SqliteWriter the writer thread runs.
  const store = new SqliteStore(join(tmp.dir, 'guards.db'));
  const writer = (store as unknown as { inline: SqliteWriter }).inline;
  return { store, apply: async (e) => writer.db.transaction(() => writer.apply(e)).immediate(), close: () => store.close() };
});

/** The mode of batches that lock events' rows (stock moves land there, as these guards expect). */
const eventMode = (): BatchEscrow => ({ mode: 'event', nodeId: randomUUID(), demand: new Map(), settled: 'all' });

describePg('PostgreSQL guards', () => {
  const schema = uniqueSchema('guards');
  afterAll(() => schema.drop());
  guards('PostgreSQL', async () => {
    const store = await PostgresStore.open({ url: PG_URL!, schema: schema.schema, poolSize: 2 });
    const pool = new pg.Pool({ connectionString: PG_URL!, max: 1, options: `-c search_path=${schema.schema}` });
    return {
      store,
      // As an event-level batch does: the event's row is locked and every node's share folded into it
      // first, so the row holds the whole stock and its CHECKs guard what is applied.
      apply: (e) =>
        inTransaction(pool, silent, async (client) => {
          const ids = [...e.stock.keys()];
          await new PostgresRows(client, eventMode()).events(ids);
          await new PostgresRows(client, eventMode()).apply(e);
        }),
      close: async () => {
        await pool.end();
        await store.close();
      },
    };
  });
});
