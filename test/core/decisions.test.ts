/**
 * The decision table of docs/ARCHITECTURE.md as a test, without any store: each row is the state of
 * the rows a command touches, the command, and the outcome and effects `decide` must produce. The
 * adapters only read rows and apply effects, so a rule broken here is broken on every adapter.
 */
import { describe, expect, it } from 'vitest';
import type { Command, Outcome } from '../../src/core/commands.js';
import { decide, type LoadedRows } from '../../src/core/decisions/index.js';
import { BUYER_BUDGET } from '../../src/core/decisions/ledger.js';
import { buyerKey, usageOf, type Admission, type BuyerTickets, type Effects, type StoredBooking, type StoredDoor, type StoredHold, type StoredKey } from '../../src/core/effects.js';
import { hashSecret, type IdSource } from '../../src/core/identity.js';
import { EVENT_LIFECYCLE_DEFAULTS } from '../../src/core/types.js';
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
    maxTicketsPerBooking: 4, holdSeconds: 600, maxHeldPerBuyer: 4, maxTicketsPerBuyer: 10, offlineCheckIn: false, checkedInTickets: 0, ...EVENT_LIFECYCLE_DEFAULTS, ...over,
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
  /** Check-in: the scanned ticket is T1 of `booking`; doors by id; T1's admission. */
  doors?: StoredDoor[];
  admission?: Admission;
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
    tickets: new Map(state.booking ? state.booking.tickets.map((t) => [t.id, { id: t.id, eventId: t.eventId, bookingId: t.bookingId, cancelled: t.status === 'cancelled' }]) : []),
    doors: new Map((state.doors ?? []).map((d) => [d.id, d])),
    admissions: new Map(state.admission ? [[state.admission.ticketId, state.admission]] : []),
  };
}

/** The effects in a form a table row can state: stock moves, hold endings, counts of the rest. */
function summary(effects: Effects) {
  return {
    stock: Object.fromEntries([...effects.stock].filter(([, m]) => m.available || m.held).map(([id, m]) => [id === EVENT ? 'event' : id, [m.available, m.held]])),
    buyers: Object.fromEntries([...effects.buyers].map(([, m]) => [m.buyer, [m.held, m.bought]])),
    endedHolds: effects.endedHolds.map((e) => e.status),
    newBookings: effects.newBookings.map((b) => b.tickets.length),
    newHolds: effects.newHolds.map((h) => h.tickets),
    cancelled: effects.cancelledTickets.flatMap((c) => c.ticketIds).length,
    remembered: effects.rememberKeys.map((k) => k.key),
    forgotten: effects.forgetKeys,
    checkedIn: Object.fromEntries([...effects.stock].filter(([, m]) => m.checkedIn).map(([id, m]) => [id === EVENT ? 'event' : id, m.checkedIn])),
    admitted: effects.admissions.map((a) => a.ticketId),
    scans: effects.scans.map((v) => v.outcome),
    newDoors: effects.newDoors.length,
    revokedDoors: effects.revokedDoors.map((d) => d.id),
  };
}
const nothing = { stock: {}, buyers: {}, endedHolds: [], newBookings: [], newHolds: [], cancelled: 0, remembered: [], forgotten: [], checkedIn: {}, admitted: [], scans: [], newDoors: 0, revokedDoors: [] };

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

const DOOR = '50000000-0000-4000-8000-000000000001';
const OTHER_DOOR = '50000000-0000-4000-8000-000000000002';
const door = (over: Partial<StoredDoor> = {}): StoredDoor => ({ id: DOOR, eventId: EVENT, name: 'North door', tokenHash: 'h', createdAt: EARLIER, ...over });
const otherDoor = door({ id: OTHER_DOOR, name: 'South door' });
const admitted = (over: Partial<Admission> = {}): Admission => ({ ticketId: T1, eventId: EVENT, bookingId: BOOKING, doorId: OTHER_DOOR, at: EARLIER, offline: false, ...over });
const SCAN_KEY = `scan:${DOOR}:nonce-0123456789abcdef`;
const scanCmd = (over: Partial<Extract<Command, { type: 'checkin' }>> = {}): Command => ({ type: 'checkin', eventId: EVENT, ticketId: T1, doorId: DOOR, key: { key: SCAN_KEY, fingerprint: `scan:${T1}` }, ...over });
const atDoor = (over: Partial<State> = {}): State => ({ event: event({ availableTickets: 8 }), booking: booking(), doors: [door(), otherDoor], ...over });

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
  // checkin (a door's scan of a genuine code; forged and other-event codes never reach a decision)
  { name: 'checkin: valid ticket, never admitted', state: atDoor(), command: scanCmd(), outcome: { kind: 'checkin', extra: (o) => expect(o).toMatchObject({ scan: { outcome: 'admitted', door: { name: 'North door' }, at: NOW }, counts: { checkedInTickets: 1 } }) }, effects: { checkedIn: { event: 1 }, admitted: [T1], scans: ['admitted'], remembered: [SCAN_KEY] } },
  { name: 'checkin: already admitted by another door (online)', state: atDoor({ admission: admitted() }), command: scanCmd(), outcome: { code: 'already_checked_in', extra: (o) => expect(o).toMatchObject({ firstCheckIn: { door: { id: OTHER_DOOR, name: 'South door' }, at: EARLIER } }) }, effects: { scans: ['already_checked_in'], remembered: [SCAN_KEY] } },
  { name: 'checkin: offline scan of a ticket another door admitted: conflict', state: atDoor({ event: event({ offlineCheckIn: true }), admission: admitted() }), command: scanCmd({ scannedAt: LATER }), outcome: { kind: 'checkin', extra: (o) => expect(o).toMatchObject({ scan: { outcome: 'conflict', at: LATER, firstCheckIn: { door: { name: 'South door' } } } }) }, effects: { scans: ['conflict'], remembered: [SCAN_KEY] } },
  { name: 'checkin: offline scan of a ticket this door admitted: refused, no conflict', state: atDoor({ event: event({ offlineCheckIn: true }), admission: admitted({ doorId: DOOR }) }), command: scanCmd({ scannedAt: LATER }), outcome: { code: 'already_checked_in' }, effects: { scans: ['already_checked_in'], remembered: [SCAN_KEY] } },
  { name: 'checkin: offline scan, offline not allowed', state: atDoor(), command: scanCmd({ scannedAt: LATER }), outcome: { code: 'offline_not_allowed' }, effects: { forgotten: [SCAN_KEY] } },
  { name: 'checkin: offline scan, first admission', state: atDoor({ event: event({ offlineCheckIn: true }) }), command: scanCmd({ scannedAt: EARLIER }), outcome: { kind: 'checkin', extra: (o) => expect(o).toMatchObject({ scan: { outcome: 'admitted', at: EARLIER } }) }, effects: { checkedIn: { event: 1 }, admitted: [T1], scans: ['admitted'], remembered: [SCAN_KEY] } },
  { name: 'checkin: cancelled ticket', state: atDoor({ booking: booking({ tickets: [{ id: T1, eventId: EVENT, bookingId: BOOKING, status: 'cancelled' }] }) }), command: scanCmd(), outcome: { code: 'ticket_cancelled' }, effects: { scans: ['cancelled'], remembered: [SCAN_KEY] } },
  { name: 'checkin: no such ticket', state: { event: event(), doors: [door()] }, command: scanCmd(), outcome: { code: 'ticket_not_found' }, effects: { remembered: [SCAN_KEY] } },
  { name: 'checkin: revoked door', state: atDoor({ doors: [door({ revokedAt: EARLIER })] }), command: scanCmd(), outcome: { code: 'door_revoked' }, effects: { forgotten: [SCAN_KEY] } },
  { name: 'checkin: nonce remembered, same ticket', state: atDoor({ admission: admitted({ doorId: DOOR }), keys: [remembered(SCAN_KEY, `scan:${T1}`, { kind: 'checkin', scan: { outcome: 'admitted', ticket: { id: T1, eventId: EVENT, bookingId: BOOKING }, door: { id: DOOR, name: 'North door' }, at: EARLIER } })] }), command: scanCmd(), outcome: { kind: 'checkin', replayed: true }, effects: {} },
  { name: 'checkin: nonce remembered, another ticket', state: atDoor({ keys: [remembered(SCAN_KEY, `scan:${T2}`, { kind: 'refused', code: 'ticket_cancelled', message: 'x' })] }), command: scanCmd(), outcome: { code: 'idempotency_key_reused' }, effects: {} },
  // doors and settings
  { name: 'createDoor: no such event', state: {}, command: { type: 'createDoor', door: door() }, outcome: { code: 'event_not_found' }, effects: {} },
  { name: 'createDoor', state: { event: event() }, command: { type: 'createDoor', door: door() }, outcome: { kind: 'door', extra: (o) => expect(o).not.toHaveProperty('door.tokenHash') }, effects: { newDoors: 1 } },
  { name: 'revokeDoor: active door', state: { event: event(), doors: [door()] }, command: { type: 'revokeDoor', eventId: EVENT, doorId: DOOR }, outcome: { kind: 'door', extra: (o) => expect(o).toMatchObject({ door: { revokedAt: NOW } }) }, effects: { revokedDoors: [DOOR] } },
  { name: 'revokeDoor: revoked again changes nothing', state: { event: event(), doors: [door({ revokedAt: EARLIER })] }, command: { type: 'revokeDoor', eventId: EVENT, doorId: DOOR }, outcome: { kind: 'door', extra: (o) => expect(o).toMatchObject({ door: { revokedAt: EARLIER } }) }, effects: {} },
  { name: 'revokeDoor: a door of another event', state: { event: event(), doors: [door({ eventId: OTHER_TICKET })] }, command: { type: 'revokeDoor', eventId: EVENT, doorId: DOOR }, outcome: { code: 'not_found' }, effects: {} },
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

describe('check-ins in one batch', () => {
  it('two doors scanning one ticket in one batch: exactly one is admitted', () => {
    const second = scanCmd({ doorId: OTHER_DOOR, key: { key: `scan:${OTHER_DOOR}:n2-0123456789abcdef`, fingerprint: `scan:${T1}` } });
    const { outcomes, effects } = decide({ now: NOW, commands: [scanCmd(), second] }, rows(atDoor()), ids());
    expect(outcomes.map((o) => (o.ok ? o.kind : o.code))).toEqual(['checkin', 'already_checked_in']);
    expect(summary(effects).admitted).toEqual([T1]);
    expect(summary(effects).checkedIn).toEqual({ event: 1 });
  });

  it('a ticket cancelled earlier in the same batch is refused at the door', () => {
    const cancel: Command = { type: 'cancel', bookingId: BOOKING, ticketIds: [T1], proof: { admin: true } };
    const { outcomes, effects } = decide({ now: NOW, commands: [cancel, scanCmd()] }, rows(atDoor()), ids());
    expect(outcomes.map((o) => (o.ok ? o.kind : o.code))).toEqual(['cancelled', 'ticket_cancelled']);
    expect(summary(effects).admitted).toEqual([]);
  });

  it('a nonce repeated in one batch is decided once and replayed', () => {
    const { outcomes, effects } = decide({ now: NOW, commands: [scanCmd(), scanCmd()] }, rows(atDoor()), ids());
    expect(outcomes.map((o) => (o.ok ? `${o.kind}${'replayed' in o && o.replayed ? ' replayed' : ''}` : o.code))).toEqual(['checkin', 'checkin replayed']);
    expect(summary(effects).scans).toEqual(['admitted']);
  });
});
