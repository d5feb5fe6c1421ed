import { describe, expect, it } from 'vitest';
import type { Store } from '../../src/core/store.js';
import { newEvent } from './contract.js';
import { expectInvariant } from './contract-holds.js';
import { writes, type Seen } from './writes.js';

const code = (o: Seen | undefined) => (o?.ok ? 'ok' : o?.error.code);

/**
 * Per-buyer limits: the part of the contract that keeps one buyer from hoarding an event's stock.
 * A buyer is an opaque key; the adapters keep its counters in the same transaction as the stock.
 */
export function buyersContract(getStore: () => Store): void {
  describe('per-buyer limits', () => {
    it('a buyer may hold at most maxHeldPerBuyer at once; other buyers are not affected', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 500, maxTicketsPerBooking: 100, maxHeldPerBuyer: 100 });
      const w = writes(store);
      await w.createEvent(event);
      const hoard = await w.commitBookings(Array.from({ length: 5 }, () => ({ eventId: event.id, tickets: 100, kind: 'hold' as const, buyer: 'mallory' })));
      expect(hoard.map(code)).toEqual(['ok', 'buyer_limit_reached', 'buyer_limit_reached', 'buyer_limit_reached', 'buyer_limit_reached']);
      expect(hoard[1]!.ok === false && hoard[1]!.error.message).toBe(
        'One buyer may hold at most 100 tickets of this event at once; you hold 100 and asked for 100 more. Confirm or release a hold first.',
      );
      const [other] = await w.commitBookings([{ eventId: event.id, tickets: 100, kind: 'hold', buyer: 'alice' }]);
      expect(code(other)).toBe('ok');
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 300, heldTickets: 200 });
      await expectInvariant(store, event);
    });

    it('releasing, expiring and confirming give the hold allowance back; confirmed tickets count toward the total', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 50, maxTicketsPerBooking: 10, maxHeldPerBuyer: 10, maxTicketsPerBuyer: 25, holdSeconds: 60 });
      const w = writes(store);
      await w.createEvent(event);
      const hold = async (n: number, now?: Date) => (await w.commitBookings([{ eventId: event.id, tickets: n, kind: 'hold', buyer: 'bob' }], now))[0]!;
      const first = await hold(10);
      expect(code(await hold(1))).toBe('buyer_limit_reached');
      if (!first.ok) throw new Error('first hold refused');
      expect((await w.releaseHold(first.hold.id, new Date())).ok).toBe(true);
      const second = await hold(10);
      if (!second.ok) throw new Error('second hold refused');
      // Expiry gives the allowance back too.
      await w.expireHolds(new Date(Date.parse(second.hold.expiresAt) + 1));
      const third = await hold(10);
      if (!third.ok) throw new Error('third hold refused');
      // Confirmed tickets leave `held` and count as bought: 10 bought, 10 more may be held.
      expect((await w.confirmHold(third.hold.id, new Date())).ok).toBe(true);
      expect(code(await hold(10))).toBe('ok');
      // 20 of 25 used; a booking of 6 would pass 25 in all.
      const [tooMany] = await w.commitBookings([{ eventId: event.id, tickets: 6, buyer: 'bob' }]);
      expect(code(tooMany)).toBe('buyer_limit_reached');
      expect(tooMany!.ok === false && tooMany!.error.message).toBe('One buyer may have at most 25 tickets of this event in all; you have 20 (bought or held) and asked for 6 more.');
      const [fits] = await w.commitBookings([{ eventId: event.id, tickets: 5, buyer: 'bob' }]);
      expect(code(fits)).toBe('ok');
      // Cancelling gives bought tickets back to the buyer's allowance.
      if (!fits!.ok) throw new Error('unreachable');
      expect((await w.cancelBooking(fits!.booking.id, undefined, new Date())).ok).toBe(true);
      const [again] = await w.commitBookings([{ eventId: event.id, tickets: 5, buyer: 'bob' }]);
      expect(code(again)).toBe('ok');
      await expectInvariant(store, event);
    });

    it('a limit refusal is not remembered under an Idempotency-Key: the same key may succeed once there is room', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 20, maxTicketsPerBooking: 5, maxHeldPerBuyer: 5 });
      const w = writes(store);
      await w.createEvent(event);
      const [first] = await w.commitBookings([{ eventId: event.id, tickets: 5, kind: 'hold', buyer: 'carol' }]);
      const key = { key: 'carol-2', fingerprint: `hold:${event.id}:2` };
      const [refused] = await w.commitBookings([{ eventId: event.id, tickets: 2, kind: 'hold', buyer: 'carol', idempotency: key }]);
      expect(code(refused)).toBe('buyer_limit_reached');
      if (!first!.ok) throw new Error('first hold refused');
      await w.releaseHold(first!.hold.id, new Date());
      const [retried] = await w.commitBookings([{ eventId: event.id, tickets: 2, kind: 'hold', buyer: 'carol', idempotency: key }]);
      expect(code(retried)).toBe('ok');
      expect(retried!.replayed).toBeFalsy();
    });

    it('what a buyer can store is bounded across batches: 1,000 tickets given back, 100 refusals remembered under its keys', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 100, maxTicketsPerBooking: 100, maxHeldPerBuyer: 100 });
      // The server's budget, set smaller than the default (--buyer-give-back 1000 --buyer-refusals-kept 100).
      const w = writes(store, { buyerBudget: { givenBack: 1000, refusals: 100 } });
      await w.createEvent(event);
      for (let i = 0; i < 10; i++) {
        const [held] = await w.commitBookings([{ eventId: event.id, tickets: 100, kind: 'hold', buyer: 'churner' }]);
        if (!held!.ok) throw new Error(`hold ${i} refused: ${held!.error.code}`);
        expect((await w.releaseHold(held!.hold.id, new Date())).ok).toBe(true);
      }
      const [over] = await w.commitBookings([{ eventId: event.id, tickets: 1, buyer: 'churner' }]);
      expect(code(over)).toBe('buyer_limit_reached');
      expect(over!.ok === false && over!.error.message).toMatch(/given back 1000 tickets/);
      const [other] = await w.commitBookings([{ eventId: event.id, tickets: 1, buyer: 'someone-else' }]);
      expect(code(other)).toBe('ok');

      // Sold out while 'holder' holds the last ticket; 'eve' is refused under 101 fresh keys.
      const small = newEvent({ totalTickets: 1 });
      await w.createEvent(small);
      const [blocking] = await w.commitBookings([{ eventId: small.id, tickets: 1, kind: 'hold', buyer: 'holder' }]);
      const key = (i: number) => ({ key: `eve-${i}`, fingerprint: `book:${small.id}:1` });
      const keyed = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => ({ eventId: small.id, tickets: 1, buyer: 'eve', idempotency: key(from + j) }));
      for (const [from, to] of [[0, 50], [50, 100], [100, 101]] as const) expect((await w.commitBookings(keyed(from, to))).map(code).every((c) => c === 'not_enough_tickets')).toBe(true);
      if (!blocking!.ok) throw new Error('unreachable');
      await w.releaseHold(blocking!.hold.id, new Date());
      // The first refusals are replayed; the 101st was not stored, so its retry is decided again.
      const [first] = await w.commitBookings(keyed(0, 1));
      expect(code(first)).toBe('not_enough_tickets');
      expect(first!.replayed).toBe(true);
      const [last] = await w.commitBookings(keyed(100, 101));
      expect(code(last)).toBe('ok');
      expect(last!.replayed).toBeFalsy();
    });

    it('holds and bookings without a buyer (the original protocol inside the server) are not limited per buyer', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 30, maxTicketsPerBooking: 10, maxHeldPerBuyer: 10 });
      const w = writes(store);
      await w.createEvent(event);
      const outcomes = await w.commitBookings(Array.from({ length: 3 }, () => ({ eventId: event.id, tickets: 10, kind: 'hold' as const })));
      expect(outcomes.map(code)).toEqual(['ok', 'ok', 'ok']);
    });

    it('the hold shown to clients never carries the buyer', async () => {
      const store = getStore();
      const event = newEvent({ totalTickets: 5 });
      const w = writes(store);
      await w.createEvent(event);
      const [held] = await w.commitBookings([{ eventId: event.id, tickets: 2, kind: 'hold', buyer: 'dave' }]);
      if (!held!.ok) throw new Error('refused');
      expect(held!.hold).not.toHaveProperty('buyer');
      expect(await store.getHold(held!.hold.id)).not.toHaveProperty('buyer');
    });
  });
}
