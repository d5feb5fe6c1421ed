import { describe, expect, it } from 'vitest';
import type { IdentitySource } from '../../src/core/identity.js';
import { TicketService } from '../../src/core/ticket-service.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const show = (extra: Record<string, unknown> = {}) => ({ name: 'Show', date: '2027-05-01T19:30:00Z', totalTickets: 10, ...extra });

function fakeClock(start = Date.UTC(2027, 0, 1)) {
  const clock = { t: start };
  const identity: IdentitySource = { newId: () => crypto.randomUUID(), now: () => new Date(clock.t) };
  return { clock, identity };
}

describe('TicketService: holds', () => {
  it('hold → confirm → booking; the hold reads back as confirmed and the counts follow', async () => {
    const service = new TicketService(new MemoryStore(), { sweepIntervalMs: 0 });
    const e = await service.createEvent(show({ holdSeconds: 120 }));
    expect(e).toMatchObject({ heldTickets: 0, holdSeconds: 120 });
    const { value: hold } = await service.holdTickets(e.id, 3);
    expect(await service.getEvent(e.id)).toMatchObject({ availableTickets: 7, heldTickets: 3 });
    const { value: booking, replayed } = await service.confirmHold(hold.id);
    expect(replayed).toBe(false);
    expect(booking.tickets).toHaveLength(3);
    expect(await service.getHold(hold.id)).toMatchObject({ status: 'confirmed', bookingId: booking.id });
    expect(await service.getEvent(e.id)).toMatchObject({ availableTickets: 7, heldTickets: 0 });
    const again = await service.confirmHold(hold.id);
    expect(again.replayed).toBe(true);
    expect(again.value.id).toBe(booking.id);
    await service.close();
  });

  it('an active hold past its time reads as expired before the sweeper runs, and cannot be confirmed', async () => {
    const { clock, identity } = fakeClock();
    const service = new TicketService(new MemoryStore(identity), { identity, sweepIntervalMs: 0 });
    const e = await service.createEvent(show({ holdSeconds: 30 }));
    const { value: hold } = await service.holdTickets(e.id, 4);
    clock.t += 29_999;
    expect((await service.getHold(hold.id)).status).toBe('active');
    clock.t += 1;
    expect((await service.getHold(hold.id)).status).toBe('expired');
    await expect(service.confirmHold(hold.id)).rejects.toMatchObject({ code: 'hold_expired', status: 410 });
    expect(await service.getEvent(e.id)).toMatchObject({ availableTickets: 10, heldTickets: 0 });
    await service.close();
  });

  it('tells change listeners when holds take, release and expire tickets', async () => {
    const { clock, identity } = fakeClock();
    const service = new TicketService(new MemoryStore(identity), { identity, sweepIntervalMs: 0 });
    const e = await service.createEvent(show({ holdSeconds: 10 }));
    const changes: unknown[] = [];
    service.onChange((c) => changes.push(c));
    const a = (await service.holdTickets(e.id, 2)).value;
    await service.holdTickets(e.id, 3);
    await service.releaseHold(a.id);
    clock.t += 10_000;
    expect((await service.expireHolds()).expired).toBe(1);
    expect(changes).toEqual([
      { eventId: e.id, availableTickets: 8, heldTickets: 2 },
      { eventId: e.id, availableTickets: 5, heldTickets: 5 },
      { eventId: e.id, availableTickets: 7, heldTickets: 3 },
      { eventId: e.id, availableTickets: 10, heldTickets: 0 },
    ]);
    await service.close();
  });

  it('expires holds on its own, in real time, not before expiresAt', async () => {
    const service = new TicketService(await SqliteStore.open(':memory:'), { sweepIntervalMs: 50 });
    const e = await service.createEvent(show({ holdSeconds: 1 }));
    const { value: hold } = await service.holdTickets(e.id, 6);
    const returned = new Promise<number>((resolve) =>
      service.onChange((c) => {
        if ('heldTickets' in c && c.heldTickets === 0) resolve(Date.now());
      }),
    );
    const at = await returned;
    // Never early; how late depends on the sweep interval and a busy machine (not asserted tightly).
    expect(at).toBeGreaterThanOrEqual(Date.parse(hold.expiresAt));
    expect(at - Date.parse(hold.expiresAt)).toBeLessThan(5_000);
    expect(await service.getEvent(e.id)).toMatchObject({ availableTickets: 10, heldTickets: 0 });
    expect((await service.getHold(hold.id)).status).toBe('expired');
    await service.close();
  });
});

describe('TicketService: idempotency keys', () => {
  it('a repeat racing the first in the same process shares its booking', async () => {
    const service = new TicketService(new MemoryStore(), { sweepIntervalMs: 0 });
    const e = await service.createEvent(show());
    const [a, b] = await Promise.all([
      service.book(e.id, 2, { idempotencyKey: 'retry-0123456789abcdef' }),
      service.book(e.id, 2, { idempotencyKey: 'retry-0123456789abcdef' }),
    ]);
    expect(b.value).toEqual(a.value);
    expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
    expect((await service.getEvent(e.id)).availableTickets).toBe(8);
    await service.close();
  });

  it('a different request under a key in flight is refused at once', async () => {
    const service = new TicketService(new MemoryStore(), { sweepIntervalMs: 0 });
    const e = await service.createEvent(show());
    const results = await Promise.allSettled([
      service.book(e.id, 2, { idempotencyKey: 'key-0123456789abcdef' }),
      service.holdTickets(e.id, 2, { idempotencyKey: 'key-0123456789abcdef' }),
    ]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'idempotency_key_reused', status: 422 } });
    expect((await service.getEvent(e.id)).availableTickets).toBe(8);
    await service.close();
  });

  it('refuses malformed keys before touching anything', async () => {
    const service = new TicketService(new MemoryStore(), { sweepIntervalMs: 0 });
    const e = await service.createEvent(show());
    for (const bad of ['', 'order-1', 'fifteen-chars-k', 'has space in it 0123', 'x'.repeat(201), 'naïve-0123456789abc', 'quote"0123456789abcdef', 42]) {
      await expect(service.book(e.id, 1, { idempotencyKey: bad })).rejects.toMatchObject({ code: 'invalid_request' });
    }
    expect((await service.getEvent(e.id)).availableTickets).toBe(10);
    await service.close();
  });
});

describe('TicketService: cancellation', () => {
  it('the buyer cancels with the booking secret; a wrong or missing secret changes nothing', async () => {
    const service = new TicketService(new MemoryStore(), { sweepIntervalMs: 0 });
    const e = await service.createEvent(show());
    const { value: booking } = await service.book(e.id, 3);
    await expect(service.cancelBooking(booking.id, { admin: false })).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
    await expect(service.cancelBooking(booking.id, { admin: false, secret: 'guess' })).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    expect((await service.getEvent(e.id)).availableTickets).toBe(7);
    const one = booking.tickets[0]!.id;
    const partial = await service.cancelBooking(booking.id, { admin: false, secret: booking.secret, tickets: [one.toUpperCase()] });
    expect(partial.tickets.find((t) => t.id === one)?.status).toBe('cancelled');
    expect((await service.getTicket(one)).status).toBe('cancelled');
    const rest = await service.cancelBooking(booking.id, { admin: true });
    expect(rest.tickets.every((t) => t.status === 'cancelled')).toBe(true);
    await expect(service.cancelBooking(booking.id, { admin: true })).rejects.toMatchObject({ code: 'already_cancelled', status: 409 });
    expect((await service.getEvent(e.id)).availableTickets).toBe(10);
    // Reading a booking back never shows its secret or hash.
    expect(await service.getBooking(booking.id)).not.toHaveProperty('secretHash');
    expect(await service.getBooking(booking.id)).not.toHaveProperty('secret');
    await service.close();
  });

  it('refuses bad ticket lists as invalid_request', async () => {
    const service = new TicketService(new MemoryStore(), { sweepIntervalMs: 0 });
    const e = await service.createEvent(show());
    const { value: booking } = await service.book(e.id, 1);
    for (const tickets of [[], 'abc', [1], ['not-a-uuid'], [crypto.randomUUID()]]) {
      await expect(service.cancelBooking(booking.id, { admin: true, tickets })).rejects.toMatchObject({ code: 'invalid_request' });
    }
    expect((await service.getEvent(e.id)).availableTickets).toBe(9);
    await service.close();
  });

  it('close waits for a cancellation already under way, then refuses new ones as shutting_down', async () => {
    const store = new SqliteStore(':memory:');
    // A slow read, so the cancellation is still checking the secret when close() begins.
    const slow = Object.create(store) as SqliteStore;
    slow.getBooking = (id) => new Promise((resolve) => setTimeout(() => resolve(store.getBooking(id)), 50));
    const service = new TicketService(slow, { sweepIntervalMs: 0 });
    const e = await service.createEvent(show());
    const { value: booking } = await service.book(e.id, 2);
    const { value: hold } = await service.holdTickets(e.id, 1);
    // The buyer's cancellation first reads the booking to check the secret, then writes.
    const cancelling = service.cancelBooking(booking.id, { admin: false, secret: booking.secret });
    const closing = service.close();
    expect((await cancelling).tickets.every((t) => t.status === 'cancelled')).toBe(true);
    await closing;
    await expect(service.confirmHold(hold.id)).rejects.toMatchObject({ code: 'shutting_down' });
    await expect(service.cancelBooking(booking.id, { admin: true })).rejects.toMatchObject({ code: 'shutting_down' });
  });
});
