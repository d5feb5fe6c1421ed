import { expect, it } from 'vitest';
import type { Command, Outcome } from '../../src/core/commands.js';
import type { Store } from '../../src/core/store.js';
import type { Event } from '../../src/core/types.js';
import { newEvent } from './contract.js';

/**
 * The waiting room (issue 13) on every adapter: the sale settings stored, one active entry per buyer,
 * the order drawn once at onSaleAt (even when two transactions race to draw it), admission within
 * the window, a pass used once in the booking's own transaction, an expired pass freeing its slot,
 * and everything as it was after a reopen.
 */
const SALE = Date.UTC(2026, 11, 1, 12);
const at = (seconds: number) => new Date(SALE + seconds * 1000).toISOString();

async function one(store: Store, command: Command, now: string): Promise<Outcome> {
  return (await store.write({ now, commands: [command] }))[0]!;
}

function ok<K extends Extract<Outcome, { ok: true }>['kind']>(outcome: Outcome, kind: K): Extract<Outcome, { kind: K }> {
  if (!outcome.ok || outcome.kind !== kind) throw new Error(`expected ${kind}, got ${JSON.stringify(outcome)}`);
  return outcome as Extract<Outcome, { kind: K }>;
}

async function roomEvent(store: Store, overrides: Partial<Event> = {}): Promise<Event> {
  const event = newEvent({ totalTickets: 10, onSaleAt: at(0), waitingRoom: true, waitingRoomOpensAt: at(-1800), queueWindow: 2, ...overrides });
  ok(await one(store, { type: 'createEvent', event }, at(-3600)), 'event');
  return event;
}

const join = (store: Store, eventId: string, buyer: string, seconds = -60, knownEntryId?: string) =>
  one(store, { type: 'joinQueue', eventId, entryId: crypto.randomUUID(), buyer, ...(knownEntryId ? { knownEntryId } : {}) }, at(seconds));
const advance = (store: Store, eventId: string, seconds: number, passSeconds = 60) => one(store, { type: 'advanceQueue', eventId, passSeconds }, at(seconds));

export function queueContract(getStore: () => Store, reopen?: (store: Store) => Promise<Store>, setStore?: (s: Store) => void): void {
  it('waiting room: sale settings are stored; one active entry per buyer; before the sale no position', async () => {
    const store = getStore();
    const event = await roomEvent(store);
    expect(await store.getEvent(event.id)).toMatchObject({ onSaleAt: at(0), waitingRoom: true, waitingRoomOpensAt: at(-1800), queueWindow: 2 });
    // Reading a line nobody joined neither finds nor makes one.
    expect(await store.queueLine(event.id)).toBeUndefined();
    expect(await store.queueSummary(event.id, at(-60))).toBeUndefined();
    const first = ok(await join(store, event.id, 'buyer-a'), 'queueEntry');
    expect(first).toMatchObject({ created: true, entry: { position: null, state: 'waiting', seq: 1 } });
    const again = ok(await join(store, event.id, 'buyer-a'), 'queueEntry');
    expect(again).toMatchObject({ created: false, entry: { id: first.entry.id } });
    // Two joins of one buyer in one batch: one entry.
    const batch = await store.write({ now: at(-30), commands: [1, 2].map(() => ({ type: 'joinQueue', eventId: event.id, entryId: crypto.randomUUID(), buyer: 'buyer-b' }) as Command) });
    expect(ok(batch[1]!, 'queueEntry').entry.id).toBe(ok(batch[0]!, 'queueEntry').entry.id);
    expect(await store.queueSummary(event.id, at(-30))).toMatchObject({ joined: 2, waiting: 2, openedAt: null, serving: 0 });
  });

  it('waiting room: the order is drawn once at onSaleAt (two racing draws included), later joiners to the back, admission within the window', async () => {
    const store = getStore();
    const event = await roomEvent(store);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(ok(await join(store, event.id, `buyer-${i}`), 'queueEntry').entry.id);
    expect(ok(await advance(store, event.id, -1), 'queueLine').line.openedAt).toBeNull();
    const [x, y] = await Promise.all([advance(store, event.id, 1), advance(store, event.id, 1)]);
    const lines = [x!, y!].filter((o) => o.ok).map((o) => ok(o, 'queueLine'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const positions = await Promise.all(ids.map(async (id) => (await store.getQueueEntry(id))!.position));
    expect([...positions].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const summary = await store.queueSummary(event.id, at(1));
    expect(summary).toMatchObject({ positioned: 12, serving: 2, admitted: 2, waiting: 10 });
    // A buyer's poll reads the line's row alone: the same line, nothing counted.
    const { waiting: _w, done: _d, expired: _e, admitted: _a, due: _u, ...line } = summary!;
    expect(await store.queueLine(event.id)).toEqual(line);
    // Drawn once: a third advance moves nothing.
    ok(await advance(store, event.id, 2), 'queueLine');
    expect(await Promise.all(ids.map(async (id) => (await store.getQueueEntry(id))!.position))).toEqual(positions);
    const late = ok(await join(store, event.id, 'late', 3), 'queueEntry');
    expect(late.entry.position).toBe(13);
    const admitted = await Promise.all(ids.map((id) => store.getQueueEntry(id)));
    expect(admitted.filter((e) => e!.state === 'admitted').map((e) => e!.position).sort()).toEqual([1, 2]);

    if (reopen) {
      const reopened = await reopen(store);
      setStore?.(reopened);
      expect(await Promise.all(ids.map(async (id) => (await reopened.getQueueEntry(id))!.position))).toEqual(positions);
      expect(await reopened.queueSummary(event.id, at(3))).toMatchObject({ positioned: 13, serving: 2, admitted: 2 });
    }
  });

  it('waiting room: a pass books once, in the booking transaction; no pass or another event\'s is refused; an expired pass frees its slot', async () => {
    const store = getStore();
    const event = await roomEvent(store, { queueWindow: 1 });
    const other = await roomEvent(store, { queueWindow: 1 });
    const a = ok(await join(store, event.id, 'a'), 'queueEntry').entry;
    const b = ok(await join(store, event.id, 'b'), 'queueEntry').entry;
    const o = ok(await join(store, other.id, 'a'), 'queueEntry').entry;
    ok(await advance(store, event.id, 1), 'queueLine');
    ok(await advance(store, other.id, 1), 'queueLine');
    const admitted = (await store.getQueueEntry(a.id))!.state === 'admitted' ? a : b;
    const waiting = admitted === a ? b : a;
    const book = (admission: { entryId: string } | 'invalid' | undefined, seconds = 5) =>
      one(store, { type: 'book', eventId: event.id, tickets: 1, ...(admission === undefined ? {} : { admission }) }, at(seconds));
    const refusals = [await book(undefined), await book('invalid'), await book({ entryId: o.id }), await book({ entryId: waiting.id })];
    expect(refusals.map((r) => (r.ok ? r.kind : r.code))).toEqual(['queue_required', 'queue_required', 'queue_required', 'admission_expired']);
    expect((await store.getEvent(event.id))!.availableTickets).toBe(10);
    // Twice in one batch and once more: one booking.
    const twice = await store.write({ now: at(6), commands: [1, 2].map(() => ({ type: 'book', eventId: event.id, tickets: 1, admission: { entryId: admitted.id } }) as Command) });
    expect(twice.map((r) => (r.ok ? r.kind : r.code))).toEqual(['booking', 'admission_expired']);
    expect((await book({ entryId: admitted.id }, 7)).ok).toBe(false);
    // Racing transactions (separate connections on PostgreSQL): one pass, one booking.
    ok(await advance(store, other.id, 7), 'queueLine');
    const racers = await Promise.all([1, 2, 3].map(() => one(store, { type: 'book', eventId: other.id, tickets: 1, admission: { entryId: o.id } }, at(7)).catch((err: Error) => err)));
    expect(racers.filter((r) => !(r instanceof Error) && r.ok)).toHaveLength(1);
    expect((await store.getEvent(other.id))!.availableTickets).toBe(9);
    expect((await store.getEvent(event.id))!.availableTickets).toBe(9);
    expect((await store.getQueueEntry(admitted.id))!.state).toBe('done');
    // The slot is free: the next is admitted; unused past its time, it is marked expired and frees the slot.
    ok(await advance(store, event.id, 8), 'queueLine');
    expect((await store.getQueueEntry(waiting.id))!.state).toBe('admitted');
    expect((await book({ entryId: waiting.id }, 8 + 61)).ok).toBe(false);
    const swept = ok(await advance(store, event.id, 8 + 61), 'queueLine');
    expect(swept.expiredNow).toBe(1);
    expect(await store.queueSummary(event.id, at(70))).toMatchObject({ done: 1, expired: 1, admitted: 0, serving: 2 });
    expect((await store.getEvent(event.id))!.availableTickets).toBe(9);
  });

  it('waiting room: pausing stops admission; nothing is admitted while nothing is available', async () => {
    const store = getStore();
    const event = await roomEvent(store, { totalTickets: 1, availableTickets: 1, maxTicketsPerBuyer: 1, queueWindow: null });
    for (const buyer of ['p', 'q', 'r']) ok(await join(store, event.id, buyer), 'queueEntry');
    ok(await one(store, { type: 'pauseQueue', eventId: event.id, paused: true }, at(-1)), 'queueLine');
    expect(ok(await advance(store, event.id, 1), 'queueLine').line).toMatchObject({ serving: 0, paused: true });
    ok(await one(store, { type: 'pauseQueue', eventId: event.id, paused: false }, at(2)), 'queueLine');
    // Window derived from the stock: one ticket left, one buyer at a time.
    const line = ok(await advance(store, event.id, 3), 'queueLine').line;
    expect(line.serving).toBe(1);
  });
}
