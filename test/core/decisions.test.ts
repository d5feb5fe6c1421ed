/**
 * The decision table of docs/ARCHITECTURE.md as a test, without any store: each row is the state of
 * the rows a command touches, the command, and the outcome and effects `decide` must produce. The
 * adapters only read rows and apply effects, so a rule broken here is broken on every adapter.
 */
import { describe, expect, it } from 'vitest';
import type { Command, Outcome } from '../../src/core/commands.js';
import { decide, type LoadedRows } from '../../src/core/decisions/index.js';
import { BUYER_BUDGET } from '../../src/core/decisions/ledger.js';
import { buyerKey, usageOf, type BuyerTickets, type Effects, type StoredBooking, type StoredHold, type StoredKey } from '../../src/core/effects.js';
import { hashSecret, type IdSource } from '../../src/core/identity.js';
import type { Event } from '../../src/core/types.js';

const NOW = '2030-01-01T12:00:00.000Z';
const EARLIER = '2030-01-01T11:55:00.000Z';
const LATER = '2030-01-01T12:05:00.000Z';
const EVENT = '10000000-0000-4000-8000-000000000001';
const HOLD = '20000000-0000-4000-8000-000000000001';
const BOOKING = '30000000-0000-4000-8000-000000000001';
const T1 = '40000000-0000-4000-8000-000000000001';
const T2 = '40000000-0000-4000-8000-000000000002';
const OTHER_TICKET = '40000000-0000-4000-8000-000000000009';
const SECRET = 'the-booking-secret';
const BUYER = 'buyer-a';
/** The buyer's usage row: held = refusals remembered under its keys, bought = tickets given back. */
const USAGE = usageOf(BUYER);

function ids(): IdSource {
  let n = 0;
  return { newId: () => `90000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, secrets: { secretFor: () => 'fresh-secret', recover: () => undefined } };
}

function event(over: Partial<Event> = {}): Event {
  return {
    id: EVENT, name: 'Gig', date: '2030-06-01T19:30:00.000Z', totalTickets: 10, availableTickets: 10, heldTickets: 0,
    maxTicketsPerBooking: 4, holdSeconds: 600, maxHeldPerBuyer: 4, maxTicketsPerBuyer: 10, ...over,
  };
}
const hold = (over: Partial<StoredHold> = {}): StoredHold => ({ id: HOLD, eventId: EVENT, tickets: 2, status: 'active', createdAt: EARLIER, expiresAt: LATER, buyer: BUYER, ...over });
const booking = (over: Partial<StoredBooking> = {}): StoredBooking => ({
  id: BOOKING, eventId: EVENT, createdAt: EARLIER, secretHash: hashSecret(SECRET), buyer: BUYER,
  tickets: [T1, T2].map((id) => ({ id, eventId: EVENT, bookingId: BOOKING, status: 'valid' as const })), ...over,
});

interface State {
  event?: Event;
  hold?: StoredHold;
  booking?: StoredBooking;
  buyer?: Omit<BuyerTickets, 'eventId' | 'buyer'>;
  usage?: Omit<BuyerTickets, 'eventId' | 'buyer'>;
  keys?: StoredKey[];
  due?: boolean;
}
function rows(state: State): LoadedRows {
  const map = <T extends { id: string }>(row?: T) => new Map(row ? [[row.id, row]] : []);
  return {
    events: map(state.event),
    holds: map(state.hold),
    bookings: map(state.booking),
    buyers: new Map([
      ...(state.buyer ? [[buyerKey(EVENT, BUYER), { eventId: EVENT, buyer: BUYER, ...state.buyer }] as const] : []),
      ...(state.usage ? [[buyerKey(EVENT, USAGE), { eventId: EVENT, buyer: USAGE, ...state.usage }] as const] : []),
    ]),
    keys: new Map((state.keys ?? []).map((k) => [k.key, k])),
    dueHolds: state.due && state.hold ? [state.hold] : [],
  };
}

/** The effects in a form a table row can state: stock moves, hold endings, counts of the rest. */
function summary(effects: Effects) {
  return {
    stock: Object.fromEntries([...effects.stock].map(([id, m]) => [id === EVENT ? 'event' : id, [m.available, m.held]])),
    buyers: Object.fromEntries([...effects.buyers].map(([, m]) => [m.buyer, [m.held, m.bought]])),
    endedHolds: effects.endedHolds.map((e) => e.status),
    newBookings: effects.newBookings.map((b) => b.tickets.length),
    newHolds: effects.newHolds.map((h) => h.tickets),
    cancelled: effects.cancelledTickets.flatMap((c) => c.ticketIds).length,
    remembered: effects.rememberKeys.map((k) => k.key),
    forgotten: effects.forgetKeys,
  };
}
const nothing = { stock: {}, buyers: {}, endedHolds: [], newBookings: [], newHolds: [], cancelled: 0, remembered: [], forgotten: [] };

/** What a row expects of the outcome: a kind (success) or a refusal code, and a few fields. */
type Expect = { kind?: string; code?: string; replayed?: boolean; extra?: (outcome: Outcome) => void };
function check(outcome: Outcome, expected: Expect): void {
  if (expected.code) expect(outcome).toMatchObject({ ok: false, code: expected.code });
  else expect(outcome).toMatchObject({ ok: true, kind: expected.kind });
  if (expected.replayed !== undefined) expect(Boolean((outcome as { replayed?: boolean }).replayed)).toBe(expected.replayed);
  expected.extra?.(outcome);
}

const book = (tickets: number, key?: string, fingerprint = `book:${EVENT}:${tickets}`): Command => ({ type: 'book', eventId: EVENT, tickets, buyer: BUYER, ...(key && { key: { key, fingerprint } }) });
const holdCmd = (tickets: number): Command => ({ type: 'hold', eventId: EVENT, tickets, buyer: BUYER });
const remembered = (key: string, fingerprint: string, result: unknown, createdAt = EARLIER): StoredKey => ({ key, fingerprint, result: JSON.stringify(result), createdAt });

interface Row {
  name: string;
  state: State;
  command: Command;
  outcome: Expect;
  effects: Partial<ReturnType<typeof summary>>;
}

const table: Row[] = [
  // book / hold
  { name: 'book: no such event', state: {}, command: book(1, 'k1'), outcome: { code: 'event_not_found' }, effects: { forgotten: ['k1'] } },
  { name: 'book: more than maxTicketsPerBooking', state: { event: event() }, command: book(5, 'k1'), outcome: { code: 'invalid_request' }, effects: { forgotten: ['k1'] } },
  { name: 'book: more than available', state: { event: event({ availableTickets: 1 }) }, command: book(2, 'k1'), outcome: { code: 'not_enough_tickets' }, effects: { buyers: { [USAGE]: [1, 0] }, remembered: ['k1'] } },
  { name: 'book: more than available, the buyer\'s remembered refusals at the budget: answered, not remembered', state: { event: event({ availableTickets: 1 }), usage: { held: BUYER_BUDGET.refusals, bought: 0 } }, command: book(2, 'k1'), outcome: { code: 'not_enough_tickets' }, effects: { forgotten: ['k1'] } },
  { name: 'book: the buyer gave back its budget of tickets', state: { event: event(), usage: { held: 0, bought: BUYER_BUDGET.givenBack } }, command: book(1, 'k1'), outcome: { code: 'buyer_limit_reached', extra: (o) => expect((o as { message: string }).message).toMatch(/given back 1000 tickets/) }, effects: { forgotten: ['k1'] } },
  { name: 'hold: the buyer gave back its budget of tickets', state: { event: event(), usage: { held: 0, bought: BUYER_BUDGET.givenBack } }, command: holdCmd(1), outcome: { code: 'buyer_limit_reached' }, effects: {} },
  { name: 'book: the buyer gave back one ticket less than its budget', state: { event: event(), usage: { held: 0, bought: BUYER_BUDGET.givenBack - 1 } }, command: book(1), outcome: { kind: 'booking' }, effects: { stock: { event: [-1, 0] }, buyers: { [BUYER]: [0, 1] }, newBookings: [1] } },
  { name: 'book: enough tickets', state: { event: event() }, command: book(3, 'k1'), outcome: { kind: 'booking', extra: (o) => expect((o as { booking: { secret: string } }).booking.secret).toBe('fresh-secret') }, effects: { stock: { event: [-3, 0] }, buyers: { [BUYER]: [0, 3] }, newBookings: [3], remembered: ['k1'] } },
  { name: 'book: buyer past maxTicketsPerBuyer', state: { event: event({ maxTicketsPerBuyer: 5 }), buyer: { held: 1, bought: 3 } }, command: book(2), outcome: { code: 'buyer_limit_reached' }, effects: {} },
  { name: 'hold: enough tickets', state: { event: event() }, command: holdCmd(2), outcome: { kind: 'hold', extra: (o) => expect((o as { hold: { expiresAt: string } }).hold.expiresAt).toBe('2030-01-01T12:10:00.000Z') }, effects: { stock: { event: [-2, 2] }, buyers: { [BUYER]: [2, 0] }, newHolds: [2] } },
  { name: 'hold: buyer past maxHeldPerBuyer', state: { event: event({ maxHeldPerBuyer: 3 }), buyer: { held: 2, bought: 0 } }, command: holdCmd(2), outcome: { code: 'buyer_limit_reached' }, effects: {} },
  { name: 'book: key remembered, same request', state: { event: event(), keys: [remembered('k1', `book:${EVENT}:2`, { kind: 'booking', booking: { ...booking(), secretHash: undefined, secret: SECRET } })] }, command: book(2, 'k1'), outcome: { kind: 'booking', replayed: true }, effects: {} },
  { name: 'book: key remembered, another request', state: { event: event(), keys: [remembered('k1', `book:${EVENT}:3`, { kind: 'refused', code: 'not_enough_tickets', message: 'x' })] }, command: book(2, 'k1'), outcome: { code: 'idempotency_key_reused' }, effects: {} },
  { name: 'book: key remembered more than 24 h ago is a new request', state: { event: event(), keys: [remembered('k1', `book:${EVENT}:3`, { kind: 'refused', code: 'x', message: 'x' }, '2029-12-30T12:00:00.000Z')] }, command: book(2, 'k1'), outcome: { kind: 'booking', replayed: false }, effects: { stock: { event: [-2, 0] }, buyers: { [BUYER]: [0, 2] }, newBookings: [2], remembered: ['k1'] } },
  // confirm
  { name: 'confirm: no such hold', state: {}, command: { type: 'confirm', holdId: HOLD }, outcome: { code: 'not_found' }, effects: {} },
  { name: 'confirm: active, before expiresAt', state: { event: event({ availableTickets: 8, heldTickets: 2 }), hold: hold() }, command: { type: 'confirm', holdId: HOLD }, outcome: { kind: 'booking' }, effects: { stock: { event: [0, -2] }, buyers: { [BUYER]: [-2, 2] }, endedHolds: ['confirmed'], newBookings: [2] } },
  { name: 'confirm: active, exactly at expiresAt', state: { event: event({ availableTickets: 8, heldTickets: 2 }), hold: hold({ expiresAt: NOW }) }, command: { type: 'confirm', holdId: HOLD }, outcome: { code: 'hold_expired' }, effects: { stock: { event: [2, -2] }, buyers: { [BUYER]: [-2, 0], [USAGE]: [0, 2] }, endedHolds: ['expired'] } },
  { name: 'confirm: already released', state: { event: event(), hold: hold({ status: 'released' }) }, command: { type: 'confirm', holdId: HOLD }, outcome: { code: 'hold_released' }, effects: {} },
  { name: 'confirm: already expired', state: { event: event(), hold: hold({ status: 'expired' }) }, command: { type: 'confirm', holdId: HOLD }, outcome: { code: 'hold_expired' }, effects: {} },
  { name: 'confirm: already confirmed', state: { event: event({ availableTickets: 8 }), hold: hold({ status: 'confirmed', bookingId: BOOKING }), booking: booking() }, command: { type: 'confirm', holdId: HOLD }, outcome: { kind: 'booking', replayed: true }, effects: {} },
  // release
  { name: 'release: active, before expiresAt', state: { event: event({ availableTickets: 8, heldTickets: 2 }), hold: hold() }, command: { type: 'release', holdId: HOLD }, outcome: { kind: 'hold', extra: (o) => expect((o as { hold: { status: string } }).hold.status).toBe('released') }, effects: { stock: { event: [2, -2] }, buyers: { [BUYER]: [-2, 0], [USAGE]: [0, 2] }, endedHolds: ['released'] } },
  { name: 'release: active, past expiresAt', state: { event: event({ availableTickets: 8, heldTickets: 2 }), hold: hold({ expiresAt: EARLIER }) }, command: { type: 'release', holdId: HOLD }, outcome: { code: 'hold_expired' }, effects: { stock: { event: [2, -2] }, buyers: { [BUYER]: [-2, 0], [USAGE]: [0, 2] }, endedHolds: ['expired'] } },
  { name: 'release: released again moves nothing', state: { event: event(), hold: hold({ status: 'released' }) }, command: { type: 'release', holdId: HOLD }, outcome: { kind: 'hold', extra: (o) => expect((o as { counts?: unknown }).counts).toBeUndefined() }, effects: {} },
  { name: 'release: confirmed', state: { event: event(), hold: hold({ status: 'confirmed', bookingId: BOOKING }) }, command: { type: 'release', holdId: HOLD }, outcome: { code: 'hold_confirmed' }, effects: {} },
  // cancel
  { name: 'cancel: buyer without a secret', state: { event: event({ availableTickets: 8 }), booking: booking() }, command: { type: 'cancel', bookingId: BOOKING, proof: { admin: false } }, outcome: { code: 'unauthorized' }, effects: {} },
  { name: 'cancel: no such booking', state: { event: event() }, command: { type: 'cancel', bookingId: BOOKING, proof: { admin: true } }, outcome: { code: 'not_found' }, effects: {} },
  { name: 'cancel: wrong secret', state: { event: event({ availableTickets: 8 }), booking: booking() }, command: { type: 'cancel', bookingId: BOOKING, proof: { admin: false, secret: 'guess' } }, outcome: { code: 'forbidden' }, effects: {} },
  { name: 'cancel: right secret, whole booking', state: { event: event({ availableTickets: 8 }), booking: booking() }, command: { type: 'cancel', bookingId: BOOKING, proof: { admin: false, secret: SECRET } }, outcome: { kind: 'cancelled', extra: (o) => expect((o as { cancelled: number }).cancelled).toBe(2) }, effects: { stock: { event: [2, 0] }, buyers: { [BUYER]: [0, -2], [USAGE]: [0, 2] }, cancelled: 2 } },
  { name: 'cancel: admin, one ticket', state: { event: event({ availableTickets: 8 }), booking: booking() }, command: { type: 'cancel', bookingId: BOOKING, ticketIds: [T2], proof: { admin: true } }, outcome: { kind: 'cancelled' }, effects: { stock: { event: [1, 0] }, buyers: { [BUYER]: [0, -1] }, cancelled: 1 } },
  { name: 'cancel: every ticket already cancelled', state: { event: event(), booking: booking({ tickets: [T1].map((id) => ({ id, eventId: EVENT, bookingId: BOOKING, status: 'cancelled' as const })) }) }, command: { type: 'cancel', bookingId: BOOKING, proof: { admin: true } }, outcome: { code: 'already_cancelled' }, effects: {} },
  { name: 'cancel: a ticket of another booking refuses the whole request', state: { event: event({ availableTickets: 8 }), booking: booking() }, command: { type: 'cancel', bookingId: BOOKING, ticketIds: [T1, OTHER_TICKET], proof: { admin: true } }, outcome: { code: 'invalid_request' }, effects: {} },
  // expire
  { name: 'expire: a due active hold', state: { event: event({ availableTickets: 8, heldTickets: 2 }), hold: hold({ expiresAt: EARLIER }), due: true }, command: { type: 'expire' }, outcome: { kind: 'expired', extra: (o) => expect((o as { expired: number }).expired).toBe(1) }, effects: { stock: { event: [2, -2] }, buyers: { [BUYER]: [-2, 0], [USAGE]: [0, 2] }, endedHolds: ['expired'] } },
  { name: 'expire: nothing due', state: { event: event() }, command: { type: 'expire' }, outcome: { kind: 'expired', extra: (o) => expect((o as { expired: number }).expired).toBe(0) }, effects: {} },
];

describe('the decision table', () => {
  it.each(table.map((row) => [row.name, row] as const))('%s', (_name, row) => {
    const { outcomes, effects } = decide({ now: NOW, commands: [row.command] }, rows(row.state), ids());
    expect(outcomes).toHaveLength(1);
    check(outcomes[0]!, row.outcome);
    expect(summary(effects)).toEqual({ ...nothing, ...row.effects });
  });
});

describe('a batch is decided in order, each command seeing the ones before it', () => {
  it('the last tickets go to the first in line; the rest are refused', () => {
    const { outcomes, effects } = decide({ now: NOW, commands: [book(2), book(2), book(1)] }, rows({ event: event({ availableTickets: 3 }) }), ids());
    expect(outcomes.map((o) => (o.ok ? o.kind : o.code))).toEqual(['booking', 'not_enough_tickets', 'booking']);
    expect(summary(effects).stock).toEqual({ event: [-3, 0] });
  });

  it('a key repeated inside one batch is decided once and replayed', () => {
    const { outcomes, effects } = decide({ now: NOW, commands: [book(2, 'k1'), book(2, 'k1'), book(3, 'k1')] }, rows({ event: event() }), ids());
    expect(outcomes.map((o) => (o.ok ? `${o.kind}${"replayed" in o && o.replayed ? ' replayed' : ''}` : o.code))).toEqual(['booking', 'booking replayed', 'idempotency_key_reused']);
    expect(summary(effects).newBookings).toEqual([2]);
  });

  it('a hold then its confirmation in one batch', () => {
    const first = decide({ now: NOW, commands: [holdCmd(2)] }, rows({ event: event() }), ids());
    const made = first.outcomes[0] as { hold: { id: string } };
    const second = decide({ now: NOW, commands: [{ type: 'confirm', holdId: made.hold.id }, { type: 'release', holdId: made.hold.id }] }, rows({ event: event({ availableTickets: 8, heldTickets: 2 }), hold: { ...first.effects.newHolds[0]! } }), ids());
    expect(second.outcomes.map((o) => (o.ok ? o.kind : o.code))).toEqual(['booking', 'hold_confirmed']);
    expect(summary(second.effects).stock).toEqual({ event: [0, -2] });
  });

  it('the buyer limit counts what this batch already gave the buyer', () => {
    const { outcomes } = decide({ now: NOW, commands: [holdCmd(3), holdCmd(2)] }, rows({ event: event({ maxHeldPerBuyer: 4 }) }), ids());
    expect(outcomes.map((o) => (o.ok ? o.kind : o.code))).toEqual(['hold', 'buyer_limit_reached']);
  });
});
