import { describe, expect, it } from 'vitest';
import type { Command, Outcome } from '../../src/core/commands.js';
import type { StoredDoor } from '../../src/core/effects.js';
import type { Store } from '../../src/core/store.js';
import type { Booking, Event } from '../../src/core/types.js';
import { booked, newEvent } from './contract.js';
import { writes } from './writes.js';

const at = (ms = 0) => new Date(Date.now() + ms).toISOString();
let doorCounter = 0;

async function one(store: Store, command: Command, now = at()): Promise<Outcome> {
  return (await store.write({ now, commands: [command] }))[0]!;
}

async function setUp(store: Store, tickets: number, overrides: Partial<Event> = {}): Promise<{ event: Event; booking: Booking }> {
  const event = newEvent({ totalTickets: Math.max(tickets, 1), ...overrides });
  await writes(store).createEvent(event);
  const booking = booked((await writes(store).commitBookings([{ eventId: event.id, tickets }]))[0]);
  return { event, booking };
}

async function door(store: Store, eventId: string, name = `Door ${++doorCounter}`): Promise<StoredDoor> {
  const stored: StoredDoor = { id: crypto.randomUUID(), eventId, name, tokenHash: 'ab'.repeat(32), createdAt: at() };
  const outcome = await one(store, { type: 'createDoor', door: stored });
  if (!outcome.ok) throw new Error(outcome.message);
  return stored;
}

const scan = (eventId: string, ticketId: string, doorId: string, nonce: string = crypto.randomUUID(), scannedAt?: string): Command => ({
  type: 'checkin',
  eventId,
  ticketId,
  doorId,
  key: { key: `scan:${doorId}:${nonce}`, fingerprint: `scan:${ticketId}` },
  ...(scannedAt ? { scannedAt } : {}),
});

const kinds = (outcomes: Outcome[]) => outcomes.map((o) => (o.ok ? (o.kind === 'checkin' ? o.scan.outcome : o.kind) : o.code));

/** Check-in at the door (issue 14): exactly once per ticket, on every adapter. */
export function checkinContract(getStore: () => Store): void {
  describe('check-in', () => {
    it('racing scans in one batch: each ticket admitted exactly once, counted once', async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 3);
      const [a, b] = [await door(store, event.id), await door(store, event.id)];
      const commands = booking.tickets.flatMap((t) => [scan(event.id, t.id, a.id), scan(event.id, t.id, b.id)]);
      const outcomes = await store.write({ now: at(), commands });
      expect(kinds(outcomes)).toEqual(['admitted', 'already_checked_in', 'admitted', 'already_checked_in', 'admitted', 'already_checked_in']);
      expect((await store.getEvent(event.id))!.checkedInTickets).toBe(3);
      expect((await store.doorList(event.id)).checkedIn).toEqual(booking.tickets.map((t) => t.id).sort());
      // Doors created in the same millisecond list in either order: compare by id.
      const admitted = new Map((await store.listDoors(event.id)).map((d) => [d.id, d.admitted]));
      expect([admitted.get(a.id), admitted.get(b.id)]).toEqual([3, 0]);
    });

    it('racing scans in separate batches from several doors: each ticket admitted exactly once', async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 20);
      const doors = await Promise.all([0, 1, 2, 3].map(() => door(store, event.id)));
      const batches = doors.flatMap((d) => booking.tickets.map((t) => store.write({ now: at(), commands: [scan(event.id, t.id, d.id)] })));
      const outcomes = (await Promise.all(batches)).flat();
      expect(kinds(outcomes).filter((k) => k === 'admitted')).toHaveLength(20);
      expect(kinds(outcomes).filter((k) => k === 'already_checked_in')).toHaveLength(60);
      expect((await store.getEvent(event.id))!.checkedInTickets).toBe(20);
      expect(new Set((await store.doorList(event.id)).checkedIn).size).toBe(20);
      const perDoor = await store.listDoors(event.id);
      expect(perDoor.reduce((n, d) => n + d.admitted, 0)).toBe(20);
    });

    it("a door's nonce repeated answers the first answer, refusals included; another ticket under it is refused", async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 2);
      const [a, b] = [await door(store, event.id, 'North door'), await door(store, event.id, 'South door')];
      const [t1, t2] = booking.tickets;
      const first = await one(store, scan(event.id, t1!.id, a.id, 'nonce-a-0123456789'));
      const again = await one(store, scan(event.id, t1!.id, a.id, 'nonce-a-0123456789'), at(5000));
      expect(first).toMatchObject({ ok: true, kind: 'checkin', scan: { outcome: 'admitted', door: { name: 'North door' } } });
      expect(again).toMatchObject({ ok: true, replayed: true, scan: (first as { scan: unknown }).scan });
      const refused = await one(store, scan(event.id, t1!.id, b.id, 'nonce-b-0123456789'));
      expect(refused).toMatchObject({ ok: false, code: 'already_checked_in', firstCheckIn: { door: { id: a.id, name: 'North door' } } });
      expect(refused.ok === false && refused.message).toMatch(/already entered at .+ through North door\./);
      const refusedAgain = await one(store, scan(event.id, t1!.id, b.id, 'nonce-b-0123456789'));
      expect(refusedAgain).toMatchObject({ ok: false, code: 'already_checked_in', replayed: true, firstCheckIn: { door: { id: a.id } } });
      expect(kinds([await one(store, scan(event.id, t2!.id, a.id, 'nonce-a-0123456789'))])).toEqual(['idempotency_key_reused']);
      expect((await store.getEvent(event.id))!.checkedInTickets).toBe(1);
      const { recent } = await store.scans(event.id, 50);
      expect(recent.map((r) => r.outcome)).toEqual(['already_checked_in', 'admitted']);
    });

    it('a revoked door admits nothing; revoking again answers the door as it is', async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 1);
      const a = await door(store, event.id);
      const revoked = await one(store, { type: 'revokeDoor', eventId: event.id, doorId: a.id });
      expect(revoked).toMatchObject({ ok: true, kind: 'door', door: { id: a.id } });
      const revokedAt = revoked.ok && revoked.kind === 'door' ? revoked.door.revokedAt : undefined;
      expect(revokedAt).toBeTruthy();
      expect(await one(store, { type: 'revokeDoor', eventId: event.id, doorId: a.id })).toMatchObject({ ok: true, door: { revokedAt } });
      expect(kinds([await one(store, scan(event.id, booking.tickets[0]!.id, a.id))])).toEqual(['door_revoked']);
      expect((await store.getDoor(a.id))!.revokedAt).toBe(revokedAt);
      expect((await store.listDoors(event.id))[0]).toMatchObject({ id: a.id, revokedAt, admitted: 0 });
      expect((await store.getEvent(event.id))!.checkedInTickets).toBe(0);
      expect(kinds([await one(store, { type: 'revokeDoor', eventId: crypto.randomUUID(), doorId: a.id })])).toEqual(['not_found']);
    });

    it('a cancelled ticket is refused and listed for offline doors; unknown tickets are refused', async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 2);
      const a = await door(store, event.id);
      const [t1, t2] = booking.tickets;
      await writes(store).cancelBooking(booking.id, [t1!.id], new Date());
      expect(kinds([await one(store, scan(event.id, t1!.id, a.id))])).toEqual(['ticket_cancelled']);
      expect(kinds([await one(store, scan(event.id, crypto.randomUUID(), a.id))])).toEqual(['ticket_not_found']);
      expect(await store.doorList(event.id)).toEqual({ cancelled: [t1!.id], checkedIn: [] });
      expect(kinds([await one(store, scan(event.id, t2!.id, a.id))])).toEqual(['admitted']);
      const rows = await store.attendees(event.id);
      expect(rows.map((r) => [r.ticketId, r.status, r.checkedInAt !== undefined, r.door])).toEqual(
        [t1!.id, t2!.id].sort().map((id) => [id, id === t1!.id ? 'cancelled' : 'valid', id === t2!.id, id === t2!.id ? a.name : undefined]),
      );
    });

    it('offline: a ticket two doors admitted apart is one conflict, reported once; a replayed upload changes nothing', async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 2, { offlineCheckIn: true });
      const [a, b] = [await door(store, event.id, 'North door'), await door(store, event.id, 'South door')];
      const t = booking.tickets[0]!.id;
      const upload = (d: StoredDoor, nonce: string, scannedAt: string) => store.write({ now: at(), commands: [scan(event.id, t, d.id, nonce, scannedAt), scan(event.id, booking.tickets[1]!.id, d.id, `${nonce}-2`, scannedAt)] });
      const first = await upload(a, 'offline-a-0123456789', at(-60_000));
      expect(kinds(first)).toEqual(['admitted', 'admitted']);
      const second = await upload(b, 'offline-b-0123456789', at(-30_000));
      expect(kinds(second)).toEqual(['conflict', 'conflict']);
      expect(second[0]).toMatchObject({ scan: { door: { id: b.id }, firstCheckIn: { door: { id: a.id, name: 'North door' } } } });
      const before = await store.scans(event.id, 50);
      const replayed = await upload(b, 'offline-b-0123456789', at(-30_000));
      expect(replayed.map((o) => o.ok && 'replayed' in o && o.replayed)).toEqual([true, true]);
      expect(await upload(a, 'offline-a-0123456789', at(-60_000))).toMatchObject([{ replayed: true }, { replayed: true }]);
      const after = await store.scans(event.id, 50);
      expect(after).toEqual(before);
      expect(after.conflicts.filter((c) => c.ticketId === t).map((c) => [c.door.name, c.outcome, c.offline])).toEqual([
        ['North door', 'admitted', true],
        ['South door', 'conflict', true],
      ]);
      expect((await store.getEvent(event.id))!.checkedInTickets).toBe(2);
    });

    it('offline scans are refused when the event does not allow them; the setting can change', async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 1);
      const a = await door(store, event.id);
      expect(kinds([await one(store, scan(event.id, booking.tickets[0]!.id, a.id, undefined, at(-1000)))])).toEqual(['offline_not_allowed']);
      expect(await one(store, { type: 'checkinSettings', eventId: event.id, offlineCheckIn: true })).toMatchObject({ ok: true, kind: 'settings', event: { offlineCheckIn: true } });
      expect((await store.getEvent(event.id))!.offlineCheckIn).toBe(true);
      expect(kinds([await one(store, scan(event.id, booking.tickets[0]!.id, a.id, undefined, at(-1000)))])).toEqual(['admitted']);
    });

    it('check-ins and bookings of one event in one batch both count', async () => {
      const store = getStore();
      const { event, booking } = await setUp(store, 2);
      const a = await door(store, event.id);
      const outcomes = await store.write({ now: at(), commands: [{ type: 'book', eventId: event.id, tickets: 0 + 1 }, scan(event.id, booking.tickets[0]!.id, a.id)] });
      expect(outcomes.map((o) => o.ok)).toEqual([false, true]); // the event is sold out (2 of 2)
      const fresh = newEvent({ totalTickets: 5 });
      await writes(store).createEvent(fresh);
      const sold = booked((await writes(store).commitBookings([{ eventId: fresh.id, tickets: 1 }]))[0]);
      const d = await door(store, fresh.id);
      const mixed = await store.write({ now: at(), commands: [{ type: 'book', eventId: fresh.id, tickets: 2 }, scan(fresh.id, sold.tickets[0]!.id, d.id)] });
      expect(mixed.map((o) => o.ok)).toEqual([true, true]);
      expect(await store.getEvent(fresh.id)).toMatchObject({ availableTickets: 2, checkedInTickets: 1 });
    });
  });
}
