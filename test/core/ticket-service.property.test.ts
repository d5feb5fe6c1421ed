import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoxofficeError } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store.js';
import { TicketService } from '../../src/core/ticket-service.js';
import type { Booking, Event } from '../../src/core/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

/** Every store call resolves when the fast-check scheduler decides, so callers interleave at random. */
function scheduled(s: fc.Scheduler, store: Store): Store {
  return {
    kind: store.kind,
    createEvent: s.scheduleFunction((e) => store.createEvent(e)),
    getEvent: s.scheduleFunction((id) => store.getEvent(id)),
    listEvents: s.scheduleFunction(() => store.listEvents()),
    commitBookings: s.scheduleFunction((batch) => store.commitBookings(batch)),
    getTicket: s.scheduleFunction((id) => store.getTicket(id)),
    getBooking: s.scheduleFunction((id) => store.getBooking(id)),
    countTickets: (id) => store.countTickets(id),
    close: () => store.close(),
  };
}

type Op =
  | { kind: 'book'; event: number; tickets: number }
  | { kind: 'list' }
  | { kind: 'create'; total: number; max: number }
  | { kind: 'get'; event: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('book' as const), event: fc.nat(3), tickets: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('list' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('get' as const), event: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), total: fc.integer({ min: 1, max: 15 }), max: fc.integer({ min: 1, max: 6 }) }) },
);

const adapters: Array<[string, () => Store]> = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(':memory:')],
];

describe.each(adapters)('TicketService under random interleavings (%s)', (_name, makeStore) => {
  it('keeps available + sold == total, unique ticket ids, and caches equal to storage', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(fc.record({ total: fc.integer({ min: 1, max: 15 }), max: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 4 }),
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        async (s, initial, ops, maxBatch) => {
          const raw = makeStore();
          const service = new TicketService(scheduled(s, raw), {
            maxBatch,
            cacheSize: 2,
            // The committer's own deferral is a scheduled step too, so flushes interleave with everything else.
            defer: (fn) => void s.schedule(Promise.resolve()).then(fn),
          });
          const date = (i: number) => new Date(Date.UTC(2027, 0, 1 + i)).toISOString();
          const events: Event[] = [];
          for (const [i, e] of initial.entries()) {
            const created = service.createEvent({ name: `E${i}`, date: date(i), totalTickets: e.total, maxTicketsPerBooking: e.max });
            events.push(await s.waitFor(created));
          }

          const bookings: Booking[] = [];
          const work = ops.map(async (op, i) => {
            if (op.kind === 'create') {
              events.push(await service.createEvent({ name: `N${i}`, date: date(10 + i), totalTickets: op.total, maxTicketsPerBooking: op.max }));
            } else if (op.kind === 'list') {
              for (const e of await service.listEvents()) {
                expect(e.availableTickets).toBeGreaterThanOrEqual(0);
                expect(e.availableTickets).toBeLessThanOrEqual(e.totalTickets);
              }
            } else if (op.kind === 'get') {
              const e = await service.getEvent(events[op.event % events.length]!.id);
              expect(e.availableTickets).toBeGreaterThanOrEqual(0);
            } else {
              const event = events[op.event % events.length]!;
              try {
                const booking = await service.bookTickets(event.id, op.tickets);
                expect(booking.tickets).toHaveLength(op.tickets);
                bookings.push(booking);
              } catch (err) {
                expect(err).toBeInstanceOf(BoxofficeError);
                const code = (err as BoxofficeError).code;
                if (op.tickets < 1 || op.tickets > event.maxTicketsPerBooking) expect(code).toBe('invalid_request');
                else expect(code).toBe('not_enough_tickets');
              }
            }
          });
          await s.waitFor(Promise.all(work));

          const ticketIds = new Set<string>();
          for (const b of bookings) for (const t of b.tickets) ticketIds.add(t.id);
          expect(ticketIds.size).toBe(bookings.reduce((n, b) => n + b.tickets.length, 0));

          const stored = await raw.listEvents();
          for (const event of stored) {
            const sold = await raw.countTickets(event.id);
            expect(event.availableTickets + sold).toBe(event.totalTickets);
            const acknowledged = bookings.filter((b) => b.eventId === event.id).reduce((n, b) => n + b.tickets.length, 0);
            expect(acknowledged).toBe(sold);
          }
          for (const b of bookings) expect(await raw.getBooking(b.id)).toEqual(b);
          // The caches never disagree with storage once the dust settles.
          expect(await s.waitFor(service.listEvents())).toEqual(stored);
          for (const event of stored) expect(await s.waitFor(service.getEvent(event.id))).toEqual(event);
          await raw.close();
        },
      ),
      { numRuns: 300 },
    );
  });
});
