/**
 * One clock for every node (issue 16, item 4): on PostgreSQL the service judges hold expiry on the
 * database's clock, read through each node's own with a measured offset, so a node whose system clock
 * is off neither expires other nodes' holds early nor keeps due holds alive.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TicketService } from '../../src/core/ticket-service.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { describePg, PG_URL, uniqueSchema } from '../helpers/pg.js';

const MINUTE = 60_000;
const event = { name: 'Clock test', date: '2030-06-01T19:30:00Z', totalTickets: 10, holdSeconds: 600 };

describePg('PostgreSQL: deadlines on the database clock', () => {
  const shared = uniqueSchema('clock');
  const stores: PostgresStore[] = [];
  const services: TicketService[] = [];
  /** A node whose system clock is `skewMs` off, as the store and the service see it. */
  async function node(skewMs: number) {
    const store = await PostgresStore.open({ url: PG_URL!, schema: shared.schema, poolSize: 2, clock: { local: () => Date.now() + skewMs } });
    const service = new TicketService(store, { sweepIntervalMs: 0 });
    stores.push(store);
    services.push(service);
    return { store, service };
  }
  beforeAll(async () => {
    await node(0);
  });
  afterAll(async () => {
    for (const service of services) await service.close();
    await shared.drop();
  });

  it('reads the database time through a skewed local clock and reports the skew', async () => {
    const fast = await node(15 * MINUTE);
    expect(Math.abs(fast.store.clock.now().getTime() - Date.now())).toBeLessThan(2000);
    const status = fast.store.clock.status();
    expect(status.status).toBe('skewed');
    expect(Math.abs(status.skewMs! - 15 * MINUTE)).toBeLessThan(2000);
    expect(fast.service.clockStatus()).toEqual(status);
    expect(stores[0]!.clock.status()).toMatchObject({ status: 'ok', toleranceMs: 2000 });
  });

  it('a node 15 minutes fast does not expire another node\'s 600 s hold', async () => {
    const honest = services[0]!;
    const fast = await node(15 * MINUTE);
    const created = await honest.createEvent(event);
    const hold = (await honest.holdTickets(created.id, 3)).value;
    expect((await fast.service.expireHolds()).expired).toBe(0);
    const booking = (await honest.confirmHold(hold.id)).value;
    expect(booking.tickets).toHaveLength(3);
  });

  it('a node 15 minutes slow still expires a due hold', async () => {
    const honest = services[0]!;
    const slow = await node(-15 * MINUTE);
    const created = await honest.createEvent({ ...event, holdSeconds: 1 });
    const hold = (await honest.holdTickets(created.id, 2)).value;
    // Wait on the database's clock, not a fixed sleep: until the hold's deadline has passed there.
    while (slow.store.clock.now().getTime() <= Date.parse(hold.expiresAt)) await new Promise((r) => setTimeout(r, 50));
    expect((await slow.service.expireHolds()).expired).toBe(1);
    // Read the row itself: the honest node's cache hears of the change a moment later.
    expect((await stores[0]!.getEvent(created.id))!.availableTickets).toBe(10);
  });
});
