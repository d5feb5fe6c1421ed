import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import { TicketService } from '../../src/core/ticket-service.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newEvent } from '../store/contract.js';
import { writes } from '../store/writes.js';

/** A store whose reads answer in the reverse order they were asked, like a pool of connections might. */
function reversingReads(inner: Store): Store & { release(): void } {
  const held: Array<() => void> = [];
  const store = Object.create(inner) as Store & { release(): void };
  store.getEvent = (id) =>
    new Promise((resolve, reject) => {
      held.push(() => inner.getEvent(id).then(resolve, reject));
    });
  store.release = () => {
    while (held.length) held.pop()!();
  };
  return store;
}

describe('TicketService', () => {
  it('keeps arrival order even when the store answers reads out of order', async () => {
    const inner = new MemoryStore();
    const event = newEvent({ totalTickets: 5 });
    await writes(inner).createEvent(event);
    const store = reversingReads(inner);
    const service = new TicketService(store);
    const first = service.book(event.id, 5).then((p) => p.value);
    const second = service.book(event.id, 3).then((p) => p.value);
    store.release();
    expect((await first).tickets).toHaveLength(5);
    await expect(second).rejects.toMatchObject({ code: 'not_enough_tickets', message: 'Not enough tickets available: requested 3, 0 left' });
  });

  it('serves reads from its caches and keeps them exact after bookings', async () => {
    const store = new MemoryStore();
    const service = new TicketService(store, { cacheSize: 1 });
    const a = await service.createEvent({ name: 'A', date: '2027-01-01T00:00:00Z', totalTickets: 4 });
    const b = await service.createEvent({ name: 'B', date: '2027-01-02T00:00:00Z', totalTickets: 4 });
    const bodyBefore = await service.listEventsJson();
    expect(await service.listEventsJson()).toBe(bodyBefore);
    await service.book(a.id, 3).then((p) => p.value);
    await service.book(b.id, 1).then((p) => p.value);
    // LRU of one: a's entry was evicted and must be re-read, b's was updated in place.
    expect((await service.getEvent(a.id)).availableTickets).toBe(1);
    expect((await service.getEvent(b.id)).availableTickets).toBe(3);
    expect(JSON.parse(await service.listEventsJson())).toEqual(await store.listEvents());
  });

  it('tells change listeners about new events and availability, not about refusals', async () => {
    const service = new TicketService(new MemoryStore());
    const changes: unknown[] = [];
    service.onChange((c) => changes.push(c));
    const e = await service.createEvent({ name: 'A', date: '2027-01-01T00:00:00Z', totalTickets: 2 });
    await service.book(e.id, 2).then((p) => p.value);
    await expect(service.book(e.id, 1).then((p) => p.value)).rejects.toMatchObject({ code: 'not_enough_tickets' });
    expect(changes).toEqual([
      { eventId: e.id, created: e },
      { eventId: e.id, availableTickets: 0, heldTickets: 0 },
    ]);
  });

  it('close lets bookings already accepted finish, then refuses new ones as shutting_down', async () => {
    const service = new TicketService(new SqliteStore(':memory:'));
    const e = await service.createEvent({ name: 'A', date: '2027-01-01T00:00:00Z', totalTickets: 2 });
    const queued = service.book(e.id, 1).then((p) => p.value);
    const closing = service.close();
    expect((await queued).tickets).toHaveLength(1);
    await closing;
    await expect(service.book(e.id, 1).then((p) => p.value)).rejects.toMatchObject({ code: 'shutting_down' });
  });

  it('a storage failure surfaces as storage_unavailable, never as an internal error', async () => {
    const store = new MemoryStore();
    const broken = Object.create(store) as Store;
    broken.listEvents = async () => {
      throw new Error('connection reset');
    };
    const service = new TicketService(broken);
    await expect(service.listEvents()).rejects.toMatchObject({ code: 'storage_unavailable', status: 503 });
  });
});
