import { describe, expect, it } from 'vitest';
import type { Command, Outcome } from '../../src/core/commands.js';
import type { Store } from '../../src/core/store.js';
import type { Booking, Event, EventPatch, Hold } from '../../src/core/types.js';
import { newEvent } from './contract.js';
import { publicBooking } from '../../src/core/presenting.js';

/**
 * Issue 17 on every adapter: an organiser's change of an event, its cancellation (every ticket, every
 * active hold, the stock), the refusals for buyers, and the buyer's details kept with the booking.
 */
const NOW = new Date(Date.UTC(2026, 11, 1, 12));
const at = (seconds = 0) => new Date(NOW.getTime() + seconds * 1000).toISOString();

async function write(store: Store, commands: Command[], now = at()): Promise<Outcome[]> {
  return store.write({ now, commands });
}

async function one(store: Store, command: Command, now = at()): Promise<Outcome> {
  return (await write(store, [command], now))[0]!;
}

async function created(store: Store, overrides: Partial<Event> = {}): Promise<Event> {
  const event = newEvent(overrides);
  const outcome = await one(store, { type: 'createEvent', event });
  if (!outcome.ok) throw new Error(outcome.message);
  return event;
}

function booked(outcome: Outcome): Booking {
  if (!outcome.ok || outcome.kind !== 'booking') throw new Error(`expected a booking, got ${JSON.stringify(outcome)}`);
  return outcome.booking;
}

function held(outcome: Outcome): Hold {
  if (!outcome.ok || outcome.kind !== 'hold') throw new Error(`expected a hold, got ${JSON.stringify(outcome)}`);
  return outcome.hold;
}

const code = (outcome: Outcome) => (outcome.ok ? outcome.kind : outcome.code);
const update = (eventId: string, patch: EventPatch): Command => ({ type: 'updateEvent', eventId, patch });

export function lifecycleContract(getStore: () => Store): void {
  describe('event lifecycle (issue 17)', () => {
    it('an edit changes every field it names and keeps the rest; a new total moves availability with it', async () => {
      const store = getStore();
      const event = await created(store, { totalTickets: 10 });
      booked(await one(store, { type: 'book', eventId: event.id, tickets: 3 }));
      held(await one(store, { type: 'hold', eventId: event.id, tickets: 2 }));
      const patch: EventPatch = {
        name: 'Renamed',
        date: '2027-03-01T19:00:00.000Z',
        description: 'Doors 19:00',
        venue: 'Hall 2',
        timeZone: 'Europe/Berlin',
        totalTickets: 20,
        maxTicketsPerBooking: 5,
        holdSeconds: 120,
        maxHeldPerBuyer: 3,
        maxTicketsPerBuyer: 6,
        buyerDetails: 'required',
        salesOpen: false,
      };
      expect(code(await one(store, update(event.id, patch)))).toBe('settings');
      const after = (await store.getEvent(event.id))!;
      expect(after).toMatchObject({ ...patch, availableTickets: 15, heldTickets: 2, status: 'scheduled' });
      expect((await store.listEvents()).find((e) => e.id === event.id)).toEqual(after);
      // Smaller again, down to exactly sold + held.
      expect(code(await one(store, update(event.id, { totalTickets: 5 })))).toBe('settings');
      expect(await store.getEvent(event.id)).toMatchObject({ totalTickets: 5, availableTickets: 0, heldTickets: 2 });
    });

    it('a total below sold + held is refused invalid_stock and changes nothing (also after bookings earlier in the batch)', async () => {
      const store = getStore();
      const event = await created(store, { totalTickets: 10 });
      booked(await one(store, { type: 'book', eventId: event.id, tickets: 4 }));
      held(await one(store, { type: 'hold', eventId: event.id, tickets: 2 }));
      const refused = await one(store, update(event.id, { totalTickets: 5, name: 'Never' }));
      expect(refused.ok === false && refused.code).toBe('invalid_stock');
      expect(refused.ok === false && refused.message).toContain('4 tickets are sold and 2 held');
      expect(await store.getEvent(event.id)).toMatchObject({ totalTickets: 10, availableTickets: 4, heldTickets: 2, name: event.name });
      const [book, shrink] = await write(store, [{ type: 'book', eventId: event.id, tickets: 3 }, update(event.id, { totalTickets: 8 })]);
      expect(code(book!)).toBe('booking');
      expect(shrink!.ok === false && shrink!.code).toBe('invalid_stock');
      expect(await store.getEvent(event.id)).toMatchObject({ totalTickets: 10, availableTickets: 1, heldTickets: 2 });
    });

    it('closed sales, a past date and a cancelled event refuse bookings and holds, each with its code', async () => {
      const store = getStore();
      const closed = await created(store, { salesOpen: false });
      const past = await created(store, { date: at(-60) });
      const open = await created(store);
      for (const type of ['book', 'hold'] as const) {
        expect(code(await one(store, { type, eventId: closed.id, tickets: 1 }))).toBe('sales_closed');
        expect(code(await one(store, { type, eventId: past.id, tickets: 1 }))).toBe('event_past');
      }
      await one(store, { type: 'cancelEvent', eventId: open.id });
      expect(code(await one(store, { type: 'book', eventId: open.id, tickets: 1 }))).toBe('event_cancelled');
      expect(code(await one(store, update(open.id, { name: 'Too late' })))).toBe('event_cancelled');
      // Reopening sells again.
      await one(store, update(closed.id, { salesOpen: true }));
      expect(code(await one(store, { type: 'book', eventId: closed.id, tickets: 1 }))).toBe('booking');
      // A past event may still be corrected, and moved into the future sells again.
      expect(code(await one(store, update(past.id, { name: 'Corrected', date: at(3600) })))).toBe('settings');
      expect(code(await one(store, { type: 'book', eventId: past.id, tickets: 1 }))).toBe('booking');
    });

    it('cancelling an event cancels every ticket, releases active holds, zeroes the stock; a repeat changes nothing', async () => {
      const store = getStore();
      const event = await created(store, { totalTickets: 10 });
      const other = await created(store, { totalTickets: 10 });
      const a = booked(await one(store, { type: 'book', eventId: event.id, tickets: 2 }));
      const b = booked(await one(store, { type: 'book', eventId: event.id, tickets: 3 }));
      const keep = booked(await one(store, { type: 'book', eventId: other.id, tickets: 1 }));
      const hold = held(await one(store, { type: 'hold', eventId: event.id, tickets: 2 }));
      await one(store, { type: 'cancel', bookingId: b.id, ticketIds: [b.tickets[0]!.id], proof: { admin: true } });
      const outcome = await one(store, { type: 'cancelEvent', eventId: event.id });
      expect(outcome.ok && outcome.kind === 'settings' && outcome.event).toMatchObject({ status: 'cancelled', salesOpen: false, availableTickets: 0, heldTickets: 0 });
      expect(await store.getEvent(event.id)).toMatchObject({ status: 'cancelled', salesOpen: false, availableTickets: 0, heldTickets: 0, totalTickets: 10 });
      expect(await store.countTickets(event.id)).toBe(0);
      for (const t of [...a.tickets, ...b.tickets]) expect((await store.getTicket(t.id))?.status).toBe('cancelled');
      expect((await store.getHold(hold.id))?.status).toBe('released');
      // The other event is untouched.
      expect((await store.getTicket(keep.tickets[0]!.id))?.status).toBe('valid');
      expect(await store.getEvent(other.id)).toMatchObject({ availableTickets: 9, status: 'scheduled' });
      // Repeats and late commands on its rows: harmless answers, no rollback.
      const [again, confirm, release, cancel] = await write(store, [
        { type: 'cancelEvent', eventId: event.id },
        { type: 'confirm', holdId: hold.id },
        { type: 'release', holdId: hold.id },
        { type: 'cancel', bookingId: a.id, proof: { admin: true } },
      ]);
      expect(code(again!)).toBe('settings');
      expect(code(confirm!)).toBe('event_cancelled');
      expect(code(release!)).toBe('hold');
      expect(code(cancel!)).toBe('already_cancelled');
    });

    it('a cancellation in the same batch as bookings, holds, confirms and releases of the event commits as one', async () => {
      const store = getStore();
      const event = await created(store, { totalTickets: 10 });
      const h1 = held(await one(store, { type: 'hold', eventId: event.id, tickets: 2 }));
      const h2 = held(await one(store, { type: 'hold', eventId: event.id, tickets: 1 }));
      const outcomes = await write(store, [
        { type: 'book', eventId: event.id, tickets: 2 },
        { type: 'hold', eventId: event.id, tickets: 1 },
        { type: 'confirm', holdId: h1.id },
        { type: 'cancelEvent', eventId: event.id },
        { type: 'confirm', holdId: h2.id },
        { type: 'release', holdId: h2.id },
        { type: 'book', eventId: event.id, tickets: 1 },
      ]);
      expect(outcomes.map(code)).toEqual(['booking', 'hold', 'booking', 'settings', 'event_cancelled', 'hold', 'event_cancelled']);
      expect(await store.getEvent(event.id)).toMatchObject({ availableTickets: 0, heldTickets: 0, status: 'cancelled' });
      expect(await store.countTickets(event.id)).toBe(0);
      expect((await store.getHold(h2.id))?.status).toBe('released');
      expect((await store.getHold(held(outcomes[1]!).id))?.status).toBe('released');
    });

    it("the buyer's details are kept with the booking (a hold's pass to its booking), listed for the organiser, never in public reads", async () => {
      const store = getStore();
      const event = await created(store);
      const ada = booked(await one(store, { type: 'book', eventId: event.id, tickets: 2, contact: { name: 'Ada Lovelace', email: 'ada@example.org' } }));
      const hold = held(await one(store, { type: 'hold', eventId: event.id, tickets: 1, contact: { name: '=HYPERLINK("x")', email: 'eve@example.org' } }, at(1)));
      const eve = booked(await one(store, { type: 'confirm', holdId: hold.id }, at(2)));
      const anon = booked(await one(store, { type: 'book', eventId: event.id, tickets: 1 }, at(3)));
      const all = await store.eventBookings(event.id, { offset: 0, limit: 100 });
      expect(all.total).toBe(3);
      expect(all.bookings.map((b) => b.id)).toEqual([anon.id, eve.id, ada.id]);
      expect(all.bookings[2]).toMatchObject({ buyer: { name: 'Ada Lovelace', email: 'ada@example.org' }, validTickets: 2, cancelledTickets: 0, status: 'active', checkedIn: 0 });
      expect(all.bookings[1]!.buyer).toEqual({ name: '=HYPERLINK("x")', email: 'eve@example.org' });
      expect(all.bookings[0]!.buyer).toBeUndefined();
      expect((await store.eventBookings(event.id, { search: 'LOVE', offset: 0, limit: 100 })).bookings.map((b) => b.id)).toEqual([ada.id]);
      expect((await store.eventBookings(event.id, { search: 'example.org', offset: 0, limit: 1 })).total).toBe(2);
      expect((await store.eventBookings(event.id, { search: eve.id.slice(0, 8), offset: 0, limit: 100 })).bookings.map((b) => b.id)).toEqual([eve.id]);
      expect((await store.eventBookings(event.id, { search: '%', offset: 0, limit: 100 })).total).toBe(0);
      expect((await store.eventBookings(event.id, { offset: 1, limit: 1 })).bookings.map((b) => b.id)).toEqual([eve.id]);
      await one(store, { type: 'cancel', bookingId: ada.id, ticketIds: [ada.tickets[0]!.id], proof: { admin: true } });
      expect((await store.eventBookings(event.id, { search: 'ada', offset: 0, limit: 10 })).bookings[0]).toMatchObject({ status: 'partly_cancelled', validTickets: 1, cancelledTickets: 1 });
      const rows = await store.attendees(event.id);
      expect(rows.filter((r) => r.bookingId === ada.id).map((r) => [r.name, r.email])).toEqual([
        ['Ada Lovelace', 'ada@example.org'],
        ['Ada Lovelace', 'ada@example.org'],
      ]);
      // What public answers are made of carries no contact.
      expect(JSON.stringify(publicBooking((await store.getBooking(ada.id))!))).not.toContain('Ada');
      expect(JSON.stringify(await store.getHold(hold.id))).not.toContain('eve@');
    });
  });
}
