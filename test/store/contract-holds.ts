import { describe, expect, it } from 'vitest';
import { writes } from './writes.js';
import type { Store } from '../../src/core/store.js';
import type { Seen } from './writes.js';
import type { Event, Hold } from '../../src/core/types.js';
import { booked, newEvent, readable } from './contract.js';

/** available + held + sold == total, read from the event row and counted from the ticket rows. */
export async function expectInvariant(store: Store, event: Event): Promise<void> {
  const now = await store.getEvent(event.id);
  const sold = await store.countTickets(event.id);
  expect(now!.availableTickets).toBeGreaterThanOrEqual(0);
  expect(now!.heldTickets).toBeGreaterThanOrEqual(0);
  expect(now!.availableTickets + now!.heldTickets + sold).toBe(event.totalTickets);
}

function held(outcome: Seen | undefined): Hold {
  if (!outcome?.ok || !outcome.hold) throw new Error(`expected a hold, got ${JSON.stringify(outcome)}`);
  return outcome.hold;
}

const after = (iso: string, ms: number) => new Date(Date.parse(iso) + ms);

/**
 * Holds, expiry, cancellation and idempotency keys: the part of the contract added with holds.
 * Time is injected: creation uses the real clock, and every later step is given `now` explicitly,
 * so expiry is tested at exact instants without waiting.
 */
export function holdsContract(getStore: () => Store, reopen?: (store: Store) => Promise<Store>, setStore?: (s: Store) => void): void {
  describe('holds', () => {
    it('a hold moves tickets from available to held, with an expiry fixed by the event', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10, holdSeconds: 90 });
      await writes(store).createEvent(event);
      const before = Date.now();
      const [outcome] = await writes(store).commitBookings([{ eventId: event.id, tickets: 4, kind: 'hold' }]);
      const hold = held(outcome);
      expect(hold).toMatchObject({ eventId: event.id, tickets: 4, status: 'active' });
      expect(Date.parse(hold.expiresAt) - Date.parse(hold.createdAt)).toBe(90_000);
      expect(Date.parse(hold.createdAt)).toBeGreaterThanOrEqual(before - 1000);
      expect(outcome?.counts).toEqual({ eventId: event.id, availableTickets: 6, heldTickets: 4 });
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 6, heldTickets: 4 });
      expect(await store.getHold(hold.id)).toEqual(hold);
      expect(await store.nextHoldExpiry()).toBe(hold.expiresAt);
      await expectInvariant(store, event);
    });

    it('holds and bookings share one FIFO decision: a hold can take the last tickets', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 5 });
      await writes(store).createEvent(event);
      const outcomes = await writes(store).commitBookings([
        { eventId: event.id, tickets: 3, kind: 'hold' },
        { eventId: event.id, tickets: 3 },
        { eventId: event.id, tickets: 2 },
        { eventId: event.id, tickets: 1, kind: 'hold' },
      ]);
      expect(outcomes.map((o) => (o.ok ? (o.hold ? 'hold' : 'booking') : o.error.code))).toEqual(['hold', 'not_enough_tickets', 'booking', 'not_enough_tickets']);
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 0, heldTickets: 3 });
      await expectInvariant(store, event);
    });

    it('confirming turns held tickets into a booking; a repeat confirm answers the same booking', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const hold = held((await writes(store).commitBookings([{ eventId: event.id, tickets: 3, kind: 'hold' }]))[0]);
      const confirmed = await writes(store).confirmHold(hold.id, after(hold.createdAt, 1000));
      expect(confirmed.ok).toBe(true);
      if (!confirmed.ok) return;
      expect(confirmed.replayed).toBe(false);
      expect(confirmed.booking.tickets).toHaveLength(3);
      expect(confirmed.booking.secret).toBeTruthy();
      expect(confirmed.counts).toEqual({ eventId: event.id, availableTickets: 7, heldTickets: 0 });
      expect(await store.getHold(hold.id)).toMatchObject({ status: 'confirmed', bookingId: confirmed.booking.id });
      expect(await store.countTickets(event.id)).toBe(3);
      const again = await writes(store).confirmHold(hold.id, after(hold.createdAt, 2000));
      expect(again.ok && again.replayed).toBe(true);
      expect(again.ok && readable(again.booking)).toEqual(readable(confirmed.booking));
      // A buyer whose first answer was lost still learns the secret.
      expect(again.ok && again.booking.secret).toBe(confirmed.booking.secret);
      expect(await store.nextHoldExpiry()).toBeUndefined();
      await expectInvariant(store, event);
    });

    it('confirming at or after expiresAt is refused as hold_expired and returns the tickets', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10, holdSeconds: 60 });
      await writes(store).createEvent(event);
      const hold = held((await writes(store).commitBookings([{ eventId: event.id, tickets: 4, kind: 'hold' }]))[0]);
      const late = await writes(store).confirmHold(hold.id, new Date(hold.expiresAt));
      expect(late.ok === false && late.error.code).toBe('hold_expired');
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 10, heldTickets: 0 });
      expect((await store.getHold(hold.id))?.status).toBe('expired');
      // Nothing is left for the sweeper: the hold is not expired twice.
      expect(await writes(store).expireHolds(after(hold.expiresAt, 5000))).toEqual({ expired: 0, counts: [] });
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 10, heldTickets: 0 });
      const again = await writes(store).confirmHold(hold.id, after(hold.expiresAt, 9000));
      expect(again.ok === false && again.error.code).toBe('hold_expired');
      await expectInvariant(store, event);
    });

    it('releasing returns the tickets; a repeat release is harmless; a released hold cannot be confirmed', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const hold = held((await writes(store).commitBookings([{ eventId: event.id, tickets: 4, kind: 'hold' }]))[0]);
      const released = await writes(store).releaseHold(hold.id, after(hold.createdAt, 1000));
      expect(released.ok && released.hold.status).toBe('released');
      expect(released.counts).toEqual({ eventId: event.id, availableTickets: 10, heldTickets: 0 });
      const twice = await writes(store).releaseHold(hold.id, after(hold.createdAt, 2000));
      expect(twice.ok && twice.hold.status).toBe('released');
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 10, heldTickets: 0 });
      const confirm = await writes(store).confirmHold(hold.id, after(hold.createdAt, 3000));
      expect(confirm.ok === false && confirm.error.code).toBe('hold_released');
      await expectInvariant(store, event);
    });

    it('a confirmed hold cannot be released, and unknown holds are not found', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const hold = held((await writes(store).commitBookings([{ eventId: event.id, tickets: 2, kind: 'hold' }]))[0]);
      await writes(store).confirmHold(hold.id, after(hold.createdAt, 10));
      const release = await writes(store).releaseHold(hold.id, after(hold.createdAt, 20));
      expect(release.ok === false && release.error.code).toBe('hold_confirmed');
      const unknown = crypto.randomUUID();
      expect(await store.getHold(unknown)).toBeUndefined();
      const c = await writes(store).confirmHold(unknown, new Date());
      expect(c.ok === false && c.error.code).toBe('not_found');
      const r = await writes(store).releaseHold(unknown, new Date());
      expect(r.ok === false && r.error.code).toBe('not_found');
      await expectInvariant(store, event);
    });

    it('expireHolds returns exactly the holds whose time is up, once', async () => {
      const store = getStore();
      const short = newEvent({ totalTickets: 10, holdSeconds: 30 });
      const long = newEvent({ totalTickets: 10, holdSeconds: 300 });
      await writes(store).createEvent(short);
      await writes(store).createEvent(long);
      const outcomes = await writes(store).commitBookings([
        { eventId: short.id, tickets: 2, kind: 'hold' },
        { eventId: short.id, tickets: 3, kind: 'hold' },
        { eventId: long.id, tickets: 4, kind: 'hold' },
      ]);
      const [a, b, c] = outcomes.map(held);
      expect(await store.nextHoldExpiry()).toBe(a!.expiresAt);
      expect(await writes(store).expireHolds(after(a!.expiresAt, -1))).toEqual({ expired: 0, counts: [] });
      const first = await writes(store).expireHolds(new Date(b!.expiresAt));
      expect(first.expired).toBe(2);
      expect(first.counts).toEqual([{ eventId: short.id, availableTickets: 10, heldTickets: 0 }]);
      expect((await store.getHold(a!.id))?.status).toBe('expired');
      expect((await store.getHold(c!.id))?.status).toBe('active');
      expect(await store.nextHoldExpiry()).toBe(c!.expiresAt);
      expect((await writes(store).expireHolds(new Date(b!.expiresAt))).expired).toBe(0);
      expect(await store.getEvent(long.id)).toMatchObject({ availableTickets: 6, heldTickets: 4 });
      const second = await writes(store).expireHolds(after(c!.expiresAt, 1));
      expect(second).toEqual({ expired: 1, counts: [{ eventId: long.id, availableTickets: 10, heldTickets: 0 }] });
      await expectInvariant(store, short);
      await expectInvariant(store, long);
    });

    it('a release after expiry is refused as hold_expired, and the stock is returned once', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 6, holdSeconds: 10 });
      await writes(store).createEvent(event);
      const hold = held((await writes(store).commitBookings([{ eventId: event.id, tickets: 6, kind: 'hold' }]))[0]);
      const r = await writes(store).releaseHold(hold.id, after(hold.expiresAt, 1));
      expect(r.ok === false && r.error.code).toBe('hold_expired');
      expect(r.counts).toEqual({ eventId: event.id, availableTickets: 6, heldTickets: 0 });
      const r2 = await writes(store).releaseHold(hold.id, after(hold.expiresAt, 2));
      expect(r2.ok === false && r2.error.code).toBe('hold_expired');
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 6, heldTickets: 0 });
    });

    if (reopen) {
      it('holds survive a restart and still expire afterwards', async () => {
        let store = getStore();
        const event = newEvent({ totalTickets: 10, holdSeconds: 30 });
        await writes(store).createEvent(event);
        const hold = held((await writes(store).commitBookings([{ eventId: event.id, tickets: 5, kind: 'hold' }]))[0]);
        store = await reopen(store);
        setStore!(store);
        expect(await store.getHold(hold.id)).toEqual(hold);
        expect(await store.nextHoldExpiry()).toBe(hold.expiresAt);
        expect((await writes(store).expireHolds(new Date(hold.expiresAt))).expired).toBe(1);
        expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 10, heldTickets: 0 });
      });
    }
  });

  describe('cancellation', () => {
    it('cancelling a booking invalidates every ticket and returns them to stock', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const booking = booked((await writes(store).commitBookings([{ eventId: event.id, tickets: 3 }]))[0]);
      const cancelled = await writes(store).cancelBooking(booking.id, undefined, new Date());
      expect(cancelled.ok).toBe(true);
      if (!cancelled.ok) return;
      expect(cancelled.booking.tickets.map((t) => t.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
      expect(cancelled.booking).not.toHaveProperty('secret');
      expect(cancelled.booking).not.toHaveProperty('secretHash');
      expect(cancelled.counts).toEqual({ eventId: event.id, availableTickets: 10, heldTickets: 0 });
      for (const t of booking.tickets) expect((await store.getTicket(t.id))?.status).toBe('cancelled');
      expect(readable(await store.getBooking(booking.id))).toEqual(cancelled.booking);
      expect(await store.countTickets(event.id)).toBe(0);
      const twice = await writes(store).cancelBooking(booking.id, undefined, new Date());
      expect(twice.ok === false && twice.error.code).toBe('already_cancelled');
      await expectInvariant(store, event);
    });

    it('partial cancellation takes back exactly the listed tickets, and refuses foreign or cancelled ones whole', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const booking = booked((await writes(store).commitBookings([{ eventId: event.id, tickets: 4 }]))[0]);
      const [t1, t2, t3] = booking.tickets.map((t) => t.id);
      const partial = await writes(store).cancelBooking(booking.id, [t2!], new Date());
      expect(partial.ok && partial.booking.tickets.filter((t) => t.status === 'cancelled').map((t) => t.id)).toEqual([t2]);
      expect(partial.counts).toEqual({ eventId: event.id, availableTickets: 7, heldTickets: 0 });
      const mixed = await writes(store).cancelBooking(booking.id, [t1!, t2!], new Date());
      expect(mixed.ok === false && mixed.error.code).toBe('already_cancelled');
      const foreign = await writes(store).cancelBooking(booking.id, [t3!, crypto.randomUUID()], new Date());
      expect(foreign.ok === false && foreign.error.code).toBe('invalid_request');
      expect((await store.getTicket(t3!))?.status).toBe('valid');
      expect(await store.countTickets(event.id)).toBe(3);
      expect(partial.ok && partial.cancelled).toBe(1);
      const rest = await writes(store).cancelBooking(booking.id, undefined, new Date());
      expect(rest.ok && rest.booking.tickets.every((t) => t.status === 'cancelled')).toBe(true);
      // Only what this call took back counts: the ticket cancelled before is not counted twice.
      expect(rest.ok && rest.cancelled).toBe(3);
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 10 });
      const unknown = await writes(store).cancelBooking(crypto.randomUUID(), undefined, new Date());
      expect(unknown.ok === false && unknown.error.code).toBe('not_found');
      await expectInvariant(store, event);
    });

    it('two cancellations of one booking at the same moment: one takes the tickets back, the other is refused', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const booking = booked((await writes(store).commitBookings([{ eventId: event.id, tickets: 4 }]))[0]);
      const results = await Promise.all([
        writes(store).cancelBooking(booking.id, undefined, new Date()),
        writes(store).cancelBooking(booking.id, undefined, new Date()),
      ]);
      expect(results.map((r) => (r.ok ? 'ok' : r.error.code)).sort()).toEqual(['already_cancelled', 'ok']);
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 10 });
      await expectInvariant(store, event);
    });

    it('a confirmed hold’s booking can be cancelled back into stock', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 5 });
      await writes(store).createEvent(event);
      const hold = held((await writes(store).commitBookings([{ eventId: event.id, tickets: 5, kind: 'hold' }]))[0]);
      const confirmed = await writes(store).confirmHold(hold.id, after(hold.createdAt, 1));
      if (!confirmed.ok) throw confirmed.error;
      const cancel = await writes(store).cancelBooking(confirmed.booking.id, undefined, new Date());
      expect(cancel.ok && cancel.counts?.availableTickets).toBe(5);
      // A later repeat of the confirmation shows the booking as it is now.
      const again = await writes(store).confirmHold(hold.id, after(hold.createdAt, 2));
      expect(again.ok && again.booking.tickets.every((t) => t.status === 'cancelled')).toBe(true);
      expect(again.ok && again.booking.secret).toBe(confirmed.booking.secret);
      await expectInvariant(store, event);
    });
  });

  describe('idempotency keys', () => {
    it('a repeated key with the same request answers the first result and books nothing more', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const key = { key: `k-${crypto.randomUUID()}`, fingerprint: `book:${event.id}:2` };
      const first = booked((await writes(store).commitBookings([{ eventId: event.id, tickets: 2, idempotency: key }]))[0]);
      const [repeat] = await writes(store).commitBookings([{ eventId: event.id, tickets: 2, idempotency: key }]);
      expect(repeat?.ok && repeat.replayed).toBe(true);
      expect(booked(repeat)).toEqual(first);
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 8 });
      expect(await store.countTickets(event.id)).toBe(2);
    });

    it('the same key with a different request is refused and changes nothing', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const key = `k-${crypto.randomUUID()}`;
      await writes(store).commitBookings([{ eventId: event.id, tickets: 2, idempotency: { key, fingerprint: `book:${event.id}:2` } }]);
      const [other] = await writes(store).commitBookings([{ eventId: event.id, tickets: 3, idempotency: { key, fingerprint: `book:${event.id}:3` } }]);
      expect(other?.ok === false && other.error.code).toBe('idempotency_key_reused');
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 8 });
    });

    it('a key repeated inside one batch is decided once', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const key = { key: `k-${crypto.randomUUID()}`, fingerprint: `hold:${event.id}:3` };
      const outcomes = await writes(store).commitBookings([
        { eventId: event.id, tickets: 3, kind: 'hold', idempotency: key },
        { eventId: event.id, tickets: 3, kind: 'hold', idempotency: key },
        { eventId: event.id, tickets: 4, idempotency: { key: key.key, fingerprint: `book:${event.id}:4` } },
      ]);
      expect(held(outcomes[0])).toEqual(held(outcomes[1]));
      expect(outcomes[1]?.replayed).toBe(true);
      expect(outcomes[2]?.ok === false && outcomes[2].error.code).toBe('idempotency_key_reused');
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 7, heldTickets: 3 });
    });

    it('a refusal is remembered too, so a retry cannot book what the first attempt was refused', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 2 });
      await writes(store).createEvent(event);
      const key = { key: `k-${crypto.randomUUID()}`, fingerprint: `book:${event.id}:3` };
      const [first] = await writes(store).commitBookings([{ eventId: event.id, tickets: 3, idempotency: key }]);
      expect(first?.ok === false && first.error.code).toBe('not_enough_tickets');
      const [again] = await writes(store).commitBookings([{ eventId: event.id, tickets: 3, idempotency: key }]);
      expect(again?.ok === false && again.replayed && again.error.message).toBe(first?.ok === false && first.error.message);
    });

    it('purged keys are forgotten', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 10 });
      await writes(store).createEvent(event);
      const key = { key: `k-${crypto.randomUUID()}`, fingerprint: `book:${event.id}:1` };
      await writes(store).commitBookings([{ eventId: event.id, tickets: 1, idempotency: key }]);
      expect(await store.purgeIdempotencyKeys(new Date(Date.now() - 60_000))).toBe(0);
      expect(await store.purgeIdempotencyKeys(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(1);
      const [fresh] = await writes(store).commitBookings([{ eventId: event.id, tickets: 1, idempotency: key }]);
      expect(fresh?.ok && !fresh.replayed).toBe(true);
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 8 });
    });

    if (reopen) {
      it('keys survive a restart', async () => {
        let store = getStore();
        const event = newEvent({ totalTickets: 10 });
        await writes(store).createEvent(event);
        const key = { key: `k-${crypto.randomUUID()}`, fingerprint: `book:${event.id}:2` };
        const first = booked((await writes(store).commitBookings([{ eventId: event.id, tickets: 2, idempotency: key }]))[0]);
        store = await reopen(store);
        setStore!(store);
        const [repeat] = await writes(store).commitBookings([{ eventId: event.id, tickets: 2, idempotency: key }]);
        expect(booked(repeat)).toEqual(first);
        expect(await store.countTickets(event.id)).toBe(2);
      });
    }
  });
}
