import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writes } from './writes.js';
import { buyersContract } from './contract-buyers.js';
import { holdsContract } from './contract-holds.js';
import { checkinContract } from './contract-checkin.js';
import { lifecycleContract } from './contract-lifecycle.js';
import { queueContract } from './contract-queue.js';
import { hashSecret } from '../../src/core/identity.js';
import type { StoredBooking } from '../../src/core/effects.js';
import type { Store } from '../../src/core/store.js';
import type { Seen } from './writes.js';
import { EVENT_LIFECYCLE_DEFAULTS } from '../../src/core/types.js';
import type { Booking, Event } from '../../src/core/types.js';

export interface StoreHarness {
  /** A fresh, empty store. */
  open(): Promise<Store>;
  /** Closes `store` and opens the same storage again; omit for stores that do not persist. */
  reopen?(store: Store): Promise<Store>;
  cleanup?(): Promise<void> | void;
}

let counter = 0;
export function newEvent(overrides: Partial<Event> = {}): Event {
  counter++;
  const total = overrides.totalTickets ?? 10;
  return {
    id: crypto.randomUUID(),
    name: `Event ${counter}`,
    date: new Date(Date.UTC(2027, 0, 1) + counter * 60_000).toISOString(),
    totalTickets: total,
    availableTickets: total,
    heldTickets: 0,
    offlineCheckIn: false,
    checkedInTickets: 0,
    maxTicketsPerBooking: 100,
    holdSeconds: 600,
    maxHeldPerBuyer: overrides.maxTicketsPerBooking ?? 100,
    maxTicketsPerBuyer: total,
    ...EVENT_LIFECYCLE_DEFAULTS,
    ...overrides,
  };
}

/** A booking as anyone may read it back: no secret, no hash. */
export function readable(booking: StoredBooking | Booking | undefined): Booking | undefined {
  if (!booking) return undefined;
  const { secret: _secret, secretHash: _hash, ...rest } = booking as StoredBooking;
  return rest;
}

export function booked(outcome: Seen | undefined): Booking {
  if (!outcome?.ok || !outcome.booking) throw new Error(`expected a booking, got ${JSON.stringify(outcome)}`);
  return outcome.booking;
}

/**
 * The behaviour every storage adapter must share. Each adapter's test file calls this once; an
 * adapter that passes it can back the service without the service knowing which one it is.
 */
export function storeContract(name: string, harness: StoreHarness): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await harness.open();
    });
    afterEach(async () => {
      await store.close();
      await harness.cleanup?.();
    });

    it('creates, gets and lists events ordered by date', async () => {
      const later = newEvent({ date: '2027-06-01T20:00:00.000Z', name: 'Later' });
      const sooner = newEvent({ date: '2027-03-01T20:00:00.000Z', name: 'Sooner', totalTickets: 3, maxTicketsPerBooking: 2 });
      await writes(store).createEvent(later);
      await writes(store).createEvent(sooner);
      expect(await store.getEvent(sooner.id)).toEqual(sooner);
      expect(await store.getEvent(crypto.randomUUID())).toBeUndefined();
      expect((await store.listEvents()).map((e) => e.name)).toEqual(['Sooner', 'Later']);
    });

    it('refuses a second event with the same id', async () => {
      const event = newEvent();
      await writes(store).createEvent(event);
      await expect(writes(store).createEvent({ ...event, name: 'Copy' })).rejects.toThrow();
      expect((await store.getEvent(event.id))?.name).toBe(event.name);
    });

    it('a booking decrements availability and stores its tickets', async () => {
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const [outcome] = await writes(store).commitBookings([{ eventId: event.id, tickets: 3 }]);
      expect(outcome?.ok).toBe(true);
      if (!outcome?.ok) return;
      const booking = booked(outcome);
      expect(outcome.counts).toEqual({ eventId: event.id, availableTickets: 7, heldTickets: 0 });
      expect(booking.tickets).toHaveLength(3);
      expect((await store.getEvent(event.id))?.availableTickets).toBe(7);
      expect(await store.countTickets(event.id)).toBe(3);
      for (const ticket of booking.tickets) {
        expect(await store.getTicket(ticket.id)).toEqual({ id: ticket.id, eventId: event.id, bookingId: booking.id, status: 'valid' });
      }
      const stored = await store.getBooking(booking.id);
      expect(readable(stored)).toEqual(readable(booking));
      // Only a hash of the secret is kept.
      expect(booking.secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(stored?.secretHash).toBe(hashSecret(booking.secret!));
      expect(JSON.stringify(stored)).not.toContain(booking.secret);
    });

    it('not enough tickets leaves the inventory unchanged', async () => {
      const event = newEvent({ totalTickets: 4 });
      await writes(store).createEvent(event);
      await writes(store).commitBookings([{ eventId: event.id, tickets: 3 }]);
      const [outcome] = await writes(store).commitBookings([{ eventId: event.id, tickets: 2 }]);
      expect(outcome?.ok).toBe(false);
      if (outcome?.ok !== false) return;
      expect(outcome.error.code).toBe('not_enough_tickets');
      expect(outcome.error.message).toBe('Not enough tickets available: requested 2, 1 left');
      expect((await store.getEvent(event.id))?.availableTickets).toBe(1);
      expect(await store.countTickets(event.id)).toBe(3);
    });

    it('an unknown event is refused, without disturbing the rest of the batch', async () => {
      const event = newEvent({ totalTickets: 5 });
      await writes(store).createEvent(event);
      const outcomes = await writes(store).commitBookings([
        { eventId: crypto.randomUUID(), tickets: 1 },
        { eventId: event.id, tickets: 2 },
      ]);
      expect(outcomes[0]?.ok === false && outcomes[0].error.code).toBe('event_not_found');
      expect(outcomes[1]?.ok).toBe(true);
      expect((await store.getEvent(event.id))?.availableTickets).toBe(3);
    });

    it('decides a batch in arrival order, each request with its own result', async () => {
      const a = newEvent({ totalTickets: 5 });
      const b = newEvent({ totalTickets: 2 });
      await writes(store).createEvent(a);
      await writes(store).createEvent(b);
      const outcomes = await writes(store).commitBookings([
        { eventId: a.id, tickets: 3 },
        { eventId: b.id, tickets: 2 },
        { eventId: a.id, tickets: 3 }, // only 2 left: refused
        { eventId: a.id, tickets: 2 }, // fits exactly
        { eventId: b.id, tickets: 1 }, // sold out
      ]);
      expect(outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual([
        'ok',
        'ok',
        'not_enough_tickets',
        'ok',
        'not_enough_tickets',
      ]);
      expect((await store.getEvent(a.id))?.availableTickets).toBe(0);
      expect((await store.getEvent(b.id))?.availableTickets).toBe(0);
      expect(await store.countTickets(a.id)).toBe(5);
      expect(await store.countTickets(b.id)).toBe(2);
    });

    it('ticket and booking ids are UUIDv4 and unique across batches', async () => {
      const event = newEvent({ totalTickets: 500 });
      await writes(store).createEvent(event);
      const ids = new Set<string>();
      for (let round = 0; round < 5; round++) {
        const outcomes = await writes(store).commitBookings(Array.from({ length: 20 }, () => ({ eventId: event.id, tickets: 5 })));
        for (const o of outcomes) {
          expect(o.ok).toBe(true);
          const booking = booked(o);
          ids.add(booking.id);
          for (const t of booking.tickets) ids.add(t.id);
        }
      }
      expect(ids.size).toBe(100 + 500);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect((await store.getEvent(event.id))?.availableTickets).toBe(0);
    });

    it('unknown tickets and bookings are not found', async () => {
      expect(await store.getTicket(crypto.randomUUID())).toBeUndefined();
      expect(await store.getBooking(crypto.randomUUID())).toBeUndefined();
      expect(await store.countTickets(crypto.randomUUID())).toBe(0);
    });

    if (harness.reopen) {
      it('keeps events, bookings and tickets across close and reopen', async () => {
        const event = newEvent({ totalTickets: 8 });
        await writes(store).createEvent(event);
        const outcomes = await writes(store).commitBookings([
          { eventId: event.id, tickets: 2 },
          { eventId: event.id, tickets: 3 },
        ]);
        store = await harness.reopen!(store);
        expect((await store.getEvent(event.id))?.availableTickets).toBe(3);
        expect(await store.countTickets(event.id)).toBe(5);
        for (const o of outcomes) {
          const booking = booked(o);
          expect(readable(await store.getBooking(booking.id))).toEqual(readable(booking));
          for (const t of booking.tickets) expect((await store.getTicket(t.id))?.bookingId).toBe(booking.id);
        }
        const [next] = await writes(store).commitBookings([{ eventId: event.id, tickets: 4 }]);
        expect(next?.ok === false && next.error.message).toBe('Not enough tickets available: requested 4, 3 left');
      });
    }

    buyersContract(() => store);

    checkinContract(() => store);

    lifecycleContract(() => store);
    queueContract(
      () => store,
      harness.reopen,
      (s) => {
        store = s;
      },
    );

    holdsContract(
      () => store,
      harness.reopen && ((s) => harness.reopen!(s)),
      (s) => {
        store = s;
      },
    );
  });
}
