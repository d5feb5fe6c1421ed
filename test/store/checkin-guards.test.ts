/**
 * Storage enforces "one admission per ticket" on its own: a decision made blind to an earlier
 * admission (here a RowAccess that hides admissions, as a bug in the plan would) must not get a
 * second one stored. Each adapter's apply refuses and the whole batch rolls back.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from '../../src/core/commands.js';
import type { StoredDoor } from '../../src/core/effects.js';
import { systemIdentity } from '../../src/core/identity.js';
import { silentLogger } from '../../src/core/logger.js';
import type { AsyncRowAccess, RowAccess, Store } from '../../src/core/store.js';
import { runWrite, runWriteAsync } from '../../src/core/write-plan.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { createPool, inTransaction } from '../../src/store/postgres/connection.js';
import { PostgresRows } from '../../src/store/postgres/postgres-rows.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { openDatabase, SqliteWriter } from '../../src/store/sqlite/sqlite-writer.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { PG_URL, describePg, uniqueSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';
import { booked, newEvent } from './contract.js';
import { writes } from './writes.js';

async function admittedOnce(store: Store): Promise<{ eventId: string; again: Command }> {
  const event = newEvent({ totalTickets: 1 });
  await writes(store).createEvent(event);
  const ticket = booked((await writes(store).commitBookings([{ eventId: event.id, tickets: 1 }]))[0]).tickets[0]!;
  const door: StoredDoor = { id: crypto.randomUUID(), eventId: event.id, name: 'North door', tokenHash: 'ab'.repeat(32), createdAt: new Date().toISOString() };
  await store.write({ now: new Date().toISOString(), commands: [{ type: 'createDoor', door }] });
  const scan = (nonce: string): Command => ({ type: 'checkin', eventId: event.id, ticketId: ticket.id, doorId: door.id, key: { key: `scan:${door.id}:${nonce}`, fingerprint: `scan:${ticket.id}` } });
  const [first] = await store.write({ now: new Date().toISOString(), commands: [scan('first-nonce-0123456789')] });
  expect(first).toMatchObject({ ok: true, scan: { outcome: 'admitted' } });
  return { eventId: event.id, again: scan('second-nonce-0123456789') };
}

const blind = <T extends RowAccess | AsyncRowAccess>(access: T): T =>
  new Proxy(access, {
    get: (target, prop, receiver) => (prop === 'admissions' ? () => [] : (Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown).bind(target)),
  }) as T;

describe('a second admission of a ticket is refused by storage, whatever the decision', () => {
  it('memory', async () => {
    const store = new MemoryStore();
    const { eventId, again } = await admittedOnce(store);
    expect(() => runWrite({ now: new Date().toISOString(), commands: [again] }, blind(store), systemIdentity)).toThrow(/already admitted/);
    expect((await store.getEvent(eventId))!.checkedInTickets).toBe(1);
    expect((await store.scans(eventId, 10)).recent).toHaveLength(1);
  });

  it('sqlite', async () => {
    const tmp = tempDir();
    const path = join(tmp.dir, 'guard.db');
    const store = new SqliteStore(path);
    const { eventId, again } = await admittedOnce(store);
    const writer = new SqliteWriter(openDatabase(path));
    const tx = writer.db.transaction(() => runWrite({ now: new Date().toISOString(), commands: [again] }, blind(writer), systemIdentity));
    expect(() => tx.immediate()).toThrow(/already admitted/);
    writer.db.close();
    expect((await store.getEvent(eventId))!.checkedInTickets).toBe(1);
    expect((await store.scans(eventId, 10)).recent).toHaveLength(1);
    await store.close();
    tmp.cleanup();
  });
});

describePg('a second admission is refused by PostgreSQL, whatever the decision', () => {
  const s = uniqueSchema('guard');
  afterAll(() => s.drop());
  it('postgres', async () => {
    const store = await PostgresStore.open({ url: PG_URL!, schema: s.schema, poolSize: 2 });
    const { eventId, again } = await admittedOnce(store);
    const pool = createPool({ url: PG_URL!, schema: s.schema, poolSize: 1, timeoutMs: 5000, logger: silentLogger });
    await expect(
      inTransaction(pool, silentLogger, (client) => runWriteAsync({ now: new Date().toISOString(), commands: [again] }, blind(new PostgresRows(client, { mode: 'event', nodeId: randomUUID(), demand: new Map(), settled: 'all' })), systemIdentity)),
    ).rejects.toThrow(/rolled back/);
    await pool.end();
    expect((await store.getEvent(eventId))!.checkedInTickets).toBe(1);
    expect((await store.scans(eventId, 10)).recent).toHaveLength(1);
    await store.close();
  });
});
