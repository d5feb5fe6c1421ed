/**
 * The waiting room's decisions (issue 13): the decision-table rows without a store, and a property
 * test through the memory store: for random arrivals, shuffles, completions and abandoned passes,
 * admission follows position order, nobody books without a pass, each pass books at most once, and
 * the window is never exceeded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Command, Outcome } from '../../src/core/commands.js';
import { decide, type LoadedRows } from '../../src/core/decisions/index.js';
import { queueWindow } from '../../src/core/decisions/queue.js';
import type { QueueLineRead, StoredQueueEntry } from '../../src/core/queue-effects.js';
import { EVENT_LIFECYCLE_DEFAULTS, type Event } from '../../src/core/types.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

const SALE = Date.parse('2030-01-01T12:00:00.000Z');
const at = (s: number) => new Date(SALE + s * 1000).toISOString();
const EVENT = '10000000-0000-4000-8000-000000000001';

function event(over: Partial<Event> = {}): Event {
  return {
    id: EVENT, name: 'Gig', date: '2030-06-01T19:30:00.000Z', totalTickets: 10, availableTickets: 10, heldTickets: 0, maxTicketsPerBooking: 4, holdSeconds: 600,
    maxHeldPerBuyer: 4, maxTicketsPerBuyer: 10, offlineCheckIn: false, checkedInTickets: 0, ...EVENT_LIFECYCLE_DEFAULTS,
    onSaleAt: at(0), waitingRoom: true, waitingRoomOpensAt: at(-1800), queueWindow: 2, ...over,
  };
}
const line = (over: Partial<QueueLineRead> = {}): QueueLineRead => ({ eventId: EVENT, version: 1, joined: 0, positioned: 0, openedAt: null, serving: 0, paused: false, admitted: 0, due: 0, ...over });
const entry = (n: number, over: Partial<StoredQueueEntry> = {}): StoredQueueEntry => ({
  id: `50000000-0000-4000-8000-00000000000${n}`, eventId: EVENT, buyer: `b${n}`, seq: n, position: null, state: 'waiting', joinedAt: at(-60), admittedAt: null, passExpiresAt: null, finishedAt: null, ...over,
});

function run(command: Command, now: string, state: { event?: Event; line?: QueueLineRead; entries?: StoredQueueEntry[] }, random?: (max: number) => number) {
  let n = 0;
  const rows: LoadedRows = {
    events: new Map(state.event ? [[state.event.id, state.event]] : []), holds: new Map(), bookings: new Map(), buyers: new Map(), keys: new Map(), dueHolds: [],
    queueLines: new Map(state.line ? [[EVENT, state.line]] : []), queueEntries: new Map((state.entries ?? []).map((e) => [e.id, e])),
  };
  const ids = { newId: () => `90000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, ...(random ? { randomInt: random } : {}) };
  const { outcomes, effects } = decide({ now, commands: [command] }, rows, ids);
  return { outcome: outcomes[0]!, effects, q: effects.queue };
}
const code = (o: Outcome) => (o.ok ? o.kind : o.code);
const joinCmd = (buyer = 'b9', knownEntryId?: string): Command => ({ type: 'joinQueue', eventId: EVENT, entryId: '60000000-0000-4000-8000-000000000001', buyer, ...(knownEntryId ? { knownEntryId } : {}) });

describe('waiting room decisions', () => {
  it.each([
    ['no such event', {}, -60, 'event_not_found'],
    ['no waiting room', { event: event({ waitingRoom: false }) }, -60, 'no_waiting_room'],
    ['cancelled', { event: event({ status: 'cancelled' }) }, -60, 'event_cancelled'],
    ['before the room opens', { event: event(), line: line() }, -1801, 'room_not_open'],
    ['sold out', { event: event({ availableTickets: 0 }), line: line() }, -60, 'sold_out'],
    ['before the sale: an entry without a position', { event: event(), line: line() }, -60, 'queueEntry'],
  ] as const)('join: %s', (_row, state, seconds, expected) => {
    const { outcome, q } = run(joinCmd(), at(seconds), state);
    expect(code(outcome)).toBe(expected);
    if (outcome.ok) {
      expect(q.newEntries).toEqual([expect.objectContaining({ position: null, seq: 1, buyer: 'b9' })]);
      expect(q.lines.get(EVENT)).toEqual({ line: expect.objectContaining({ joined: 1, version: 2 }), expectVersion: 1 });
    } else expect(q.newEntries).toEqual([]);
  });

  it('join: the buyer\'s active entry (or the cookie\'s) answers again and writes nothing; a finished one does not count', () => {
    const mine = entry(1, { buyer: 'b9' });
    const again = run(joinCmd('b9'), at(-60), { event: event(), line: line({ joined: 1 }), entries: [mine] });
    expect(again.outcome).toMatchObject({ ok: true, created: false, entry: { id: mine.id } });
    expect(again.q.newEntries).toEqual([]);
    expect(run(joinCmd('other', mine.id), at(-60), { event: event(), line: line({ joined: 1 }), entries: [mine] }).outcome).toMatchObject({ created: false, entry: { id: mine.id } });
    const done = run(joinCmd('b9'), at(-60), { event: event(), line: line({ joined: 1 }), entries: [{ ...mine, state: 'done' }] });
    expect(done.outcome).toMatchObject({ created: true, entry: { seq: 2 } });
  });

  it('advance at onSaleAt: everyone before it shuffled with the injected randomness, positions 1..n, then the window admitted', () => {
    const entries = [1, 2, 3, 4].map((n) => entry(n));
    // randomInt always 0: Fisher-Yates swaps i with 0 each step → [2,3,4,1] by seq.
    const { outcome, q } = run({ type: 'advanceQueue', eventId: EVENT, passSeconds: 60 }, at(1), { event: event(), line: line({ joined: 4 }), entries }, () => 0);
    expect(outcome).toMatchObject({ ok: true, kind: 'queueLine', admittedNow: 2, drawnNow: 4, line: { positioned: 4, serving: 2, openedAt: at(1) } });
    expect(q.positions.map((p) => [entries.findIndex((e) => e.id === p.id) + 1, p.position])).toEqual([[2, 1], [3, 2], [4, 3], [1, 4]]);
    expect(q.admitRanges).toEqual([{ eventId: EVENT, from: 1, to: 2, at: at(1), passExpiresAt: at(61) }]);
  });

  it.each([
    ['before the sale: nothing drawn or admitted', { line: line({ joined: 2 }) }, -1, 0],
    ['paused', { line: line({ joined: 3, positioned: 3, openedAt: at(0), paused: true }) }, 5, 0],
    ['nothing available (held by others)', { line: line({ joined: 3, positioned: 3, openedAt: at(0) }), event: event({ availableTickets: 0, heldTickets: 2 }) }, 5, 0],
    ['window full', { line: line({ joined: 3, positioned: 3, openedAt: at(0), serving: 2, admitted: 2 }) }, 5, 0],
    ['a pass ran out: its slot admits the next', { line: line({ joined: 3, positioned: 3, openedAt: at(0), serving: 2, admitted: 2, due: 1 }) }, 5, 1],
  ] as const)('advance: %s', (_row, state, seconds, admitted) => {
    const { outcome } = run({ type: 'advanceQueue', eventId: EVENT, passSeconds: 60 }, at(seconds), { event: event(), ...state });
    expect(outcome).toMatchObject({ ok: true, admittedNow: admitted });
    // Only the advance that opens the sale says how many it drew.
    expect(outcome).not.toHaveProperty('drawnNow');
  });

  it.each([
    ['no pass', undefined, undefined, 'queue_required'],
    ['a pass that is not genuine', 'invalid', undefined, 'queue_required'],
    ['a pass of an entry of another event', { entryId: entry(1).id }, entry(1, { eventId: '10000000-0000-4000-8000-000000000002', state: 'admitted', passExpiresAt: at(60) }), 'queue_required'],
    ['a pass already used', { entryId: entry(1).id }, entry(1, { position: 1, state: 'done' }), 'admission_expired'],
    ['a pass past its time', { entryId: entry(1).id }, entry(1, { position: 1, state: 'admitted', passExpiresAt: at(5) }), 'admission_expired'],
    ['a valid pass', { entryId: entry(1).id }, entry(1, { position: 1, state: 'admitted', passExpiresAt: at(60) }), 'booking'],
  ] as const)('book with a waiting room: %s', (_row, admission, stored, expected) => {
    const command: Command = { type: 'book', eventId: EVENT, tickets: 1, ...(admission ? { admission } : {}) };
    const { outcome, effects } = run(command, at(5), { event: event(), line: line({ openedAt: at(0), serving: 1, positioned: 1, joined: 1, admitted: 1 }), entries: stored ? [stored] : [] });
    expect(code(outcome)).toBe(expected);
    expect(effects.queue.finished).toEqual(expected === 'booking' ? [{ id: entry(1).id, at: at(5) }] : []);
    expect(effects.stock.size).toBe(expected === 'booking' ? 1 : 0);
  });

  it('before onSaleAt nobody books or holds, room or not', () => {
    for (const waitingRoom of [true, false]) {
      for (const type of ['book', 'hold'] as const) expect(code(run({ type, eventId: EVENT, tickets: 1 }, at(-1), { event: event({ waitingRoom }) }).outcome)).toBe('not_on_sale');
    }
  });

  it('default window: one per ticket left, at least 200, growing to what the shop finishes in 4 s, at most 5,000', () => {
    expect([0, 3, 1000].map((availableTickets) => queueWindow({ queueWindow: null, availableTickets }))).toEqual([1, 3, 200]);
    const stock = { queueWindow: null, availableTickets: 100_000 };
    expect([0, 10, 99.5, 400, 1_000_000, Number.NaN, -5].map((pace) => queueWindow(stock, pace))).toEqual([200, 200, 398, 1600, 5000, 200, 200]);
    expect(queueWindow({ queueWindow: null, availableTickets: 300 }, 400)).toBe(300);
    expect(queueWindow({ queueWindow: 7, availableTickets: 1000 }, 400)).toBe(7);
  });

  it('advance: the pace the node measured widens the default window (and nothing else does)', () => {
    const state = { event: event({ queueWindow: null, availableTickets: 1000 }), line: line({ joined: 900, positioned: 900, openedAt: at(0), serving: 200, admitted: 150 }) };
    const at5 = (finishedPerSecond?: number) => run({ type: 'advanceQueue', eventId: EVENT, passSeconds: 60, ...(finishedPerSecond === undefined ? {} : { finishedPerSecond }) }, at(5), state).outcome;
    expect(at5()).toMatchObject({ admittedNow: 50 });
    expect(at5(150)).toMatchObject({ admittedNow: 450, line: { serving: 650, admitted: 600 } });
  });
});

describe('waiting room property', () => {
  type Step = { kind: 'advance' } | { kind: 'use'; pick: number } | { kind: 'reuse'; pick: number } | { kind: 'nopass' } | { kind: 'wait'; seconds: number } | { kind: 'join'; buyer: number };
  const stepArb: fc.Arbitrary<Step> = fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'advance' as const }) },
    { weight: 4, arbitrary: fc.nat(50).map((pick) => ({ kind: 'use' as const, pick })) },
    { weight: 1, arbitrary: fc.nat(50).map((pick) => ({ kind: 'reuse' as const, pick })) },
    { weight: 1, arbitrary: fc.constant({ kind: 'nopass' as const }) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 90 }).map((seconds) => ({ kind: 'wait' as const, seconds })) },
    { weight: 1, arbitrary: fc.nat(30).map((buyer) => ({ kind: 'join' as const, buyer })) },
  );

  it('admission follows position order; no booking without a pass; each pass books once; the window is never exceeded', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -600, max: -1 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 5 }),
        fc.infiniteStream(fc.nat()),
        fc.array(stepArb, { minLength: 10, maxLength: 80 }),
        async (arrivals, window, randomness, steps) => {
          const random = randomness[Symbol.iterator]();
          const store = new MemoryStore({ newId: () => crypto.randomUUID(), randomInt: (max) => random.next().value % max });
          const ev = event({ totalTickets: 1000, availableTickets: 1000, maxTicketsPerBuyer: 1000, queueWindow: window });
          await store.write({ now: at(-3600), commands: [{ type: 'createEvent', event: ev }] });
          const write = async (command: Command, now: number) => (await store.write({ now: at(now), commands: [command] }))[0]!;
          let now = -600;
          for (const [i, arrival] of [...arrivals].sort((a, b) => a - b).entries()) {
            now = arrival;
            await write({ type: 'joinQueue', eventId: EVENT, entryId: crypto.randomUUID(), buyer: `early-${i}` }, now);
          }
          now = 0;
          const passes = new Map<string, number>();
          const admittedOrder: number[] = [];
          let bookings = 0;
          // The server's tick: draws the order once the sale is open, then admits within the window.
          const advance = async () => {
            const o = await write({ type: 'advanceQueue', eventId: EVENT, passSeconds: 60 }, now);
            if (o.ok && o.kind === 'queueLine') {
              const after = await entriesIn(store, EVENT);
              const fresh = after.filter((e) => e.admittedAt === at(now) && !admittedOrder.includes(e.position!)).map((e) => e.position!);
              admittedOrder.push(...fresh.sort((a, b) => a - b));
              expect(after.filter((e) => e.state === 'admitted').length).toBeLessThanOrEqual(window);
            }
          };
          for (const step of steps) {
            const summary = await store.queueSummary(EVENT, at(now));
            const admitted = summary ? await entriesIn(store, EVENT) : [];
            const holding = admitted.filter((e) => e.state === 'admitted' && e.passExpiresAt! > at(now));
            if (step.kind === 'advance') {
              await advance();
            } else if (step.kind === 'use' && holding.length > 0) {
              const e = holding[step.pick % holding.length]!;
              const o = await write({ type: 'book', eventId: EVENT, tickets: 1, admission: { entryId: e.id } }, now);
              expect(o.ok).toBe(true);
              passes.set(e.id, (passes.get(e.id) ?? 0) + 1);
              bookings++;
            } else if (step.kind === 'reuse' && passes.size > 0) {
              const used = [...passes.keys()][step.pick % passes.size]!;
              expect(code(await write({ type: 'book', eventId: EVENT, tickets: 1, admission: { entryId: used } }, now))).toBe('admission_expired');
            } else if (step.kind === 'nopass') {
              expect(code(await write({ type: 'book', eventId: EVENT, tickets: 1 }, now))).toBe('queue_required');
            } else if (step.kind === 'wait') now += step.seconds;
            else if (step.kind === 'join') await write({ type: 'joinQueue', eventId: EVENT, entryId: crypto.randomUUID(), buyer: `late-${step.buyer}` }, now);
          }
          // The tick runs every 250 ms in a server: at least once after the last step (a run of steps
          // without one never drew the order, which no server leaves undrawn).
          await advance();
          const final = await entriesIn(store, EVENT);
          // Positions are 1..n without gaps; admission is a prefix of them, in order.
          expect(final.map((e) => e.position).sort((a, b) => a! - b!)).toEqual(final.map((_, i) => i + 1));
          expect(admittedOrder).toEqual([...admittedOrder].sort((a, b) => a - b));
          const serving = (await store.queueSummary(EVENT, at(now)))!.serving;
          for (const e of final) expect(e.state === 'waiting').toBe(e.position! > serving);
          // Every booking used a pass, once.
          expect([...passes.values()].every((n) => n === 1)).toBe(true);
          expect(final.filter((e) => e.state === 'done').length).toBe(bookings);
          expect((await store.getEvent(EVENT))!.availableTickets).toBe(1000 - bookings);
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** Every entry of the event (the memory store's read of one entry, over the ids its summary counts). */
async function entriesIn(store: MemoryStore, eventId: string): Promise<StoredQueueEntry[]> {
  const all = (store as unknown as { queue: { entryRows: Map<string, StoredQueueEntry> } }).queue.entryRows;
  return [...all.values()].filter((e) => e.eventId === eventId).map((e) => ({ ...e }));
}
