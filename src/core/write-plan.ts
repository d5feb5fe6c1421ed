import type { Command, KeyClaim, Outcome, WriteBatch } from './commands.js';
import { decide, IDEMPOTENCY_KEY_TTL_MS } from './decisions/index.js';
import { buyerKey, isEmpty, usageOf, type Admission, type BuyerTickets, type StoredBooking, type StoredDoor, type StoredHold, type StoredKey, type TicketRef } from './effects.js';
import type { IdSource } from './identity.js';
import type { AsyncRowAccess, RowAccess } from './store.js';
import type { QueueEntryQuery, QueueLineRead, StoredQueueEntry } from './queue-effects.js';
import type { Event } from './types.js';

/** Most due holds one expiry command ends; the next sweep takes the rest. */
export const EXPIRY_BATCH_LIMIT = 5000;

/** One call an adapter answers for the plan: a read of rows, or applying the decided effects. */
type Step = { [K in keyof RowAccess]: { call: K; args: Parameters<RowAccess[K]> } }[keyof RowAccess];

function* ask<K extends keyof RowAccess>(call: K, ...args: Parameters<RowAccess[K]>): Generator<Step, ReturnType<RowAccess[K]>, unknown> {
  return (yield { call, args } as Step) as ReturnType<RowAccess[K]>;
}

/**
 * One write transaction, written once for every adapter: read the rows the batch touches, decide,
 * apply. It is a generator so the same plan drives a synchronous transaction (better-sqlite3, the
 * memory store) and an asynchronous one (pg): the adapter only answers each step.
 *
 * Rows are read in one fixed order, keys, then holds, then bookings, then events, then buyers'
 * counters, then tickets and their admissions (no locks), then doors, each in sorted order, so that
 * on PostgreSQL, where a read takes row locks, transactions of different nodes always lock in the
 * same order and never deadlock. A check-in locks its event's row (it counts the admission there),
 * as every cancellation of the event's tickets does: so tickets and admissions read after it are
 * what the last committed writer left, and two nodes scanning one ticket take turns.
 */
export function* planWrite(batch: WriteBatch, ids: IdSource): Generator<Step, Outcome[], unknown> {
  const { commands, now } = batch;
  const cutoff = new Date(Date.parse(now) - IDEMPOTENCY_KEY_TTL_MS).toISOString();
  const keys = new Map<string, StoredKey>();
  const claims = uniqueClaims(commands);
  if (claims.length > 0) for (const row of yield* ask('claimKeys', claims, now, cutoff)) keys.set(row.key, row);

  const holds = new Map<string, StoredHold>();
  const holdIds = sortedUnique(commands.flatMap((c) => (c.type === 'confirm' || c.type === 'release' ? [c.holdId] : [])));
  if (holdIds.length > 0) for (const hold of yield* ask('holds', holdIds)) holds.set(hold.id, hold);
  let dueHolds: StoredHold[] = [];
  if (commands.some((c) => c.type === 'expire')) {
    dueHolds = yield* ask('dueHolds', now, EXPIRY_BATCH_LIMIT);
    for (const hold of dueHolds) if (!holds.has(hold.id)) holds.set(hold.id, hold);
  }

  // A cancelled event's active holds are ended in bulk; lock them now, at the holds' place in the order.
  const cancelled = sortedUnique(commands.flatMap((c) => (c.type === 'cancelEvent' ? [c.eventId] : [])));
  if (cancelled.length > 0) yield* ask('lockActiveHolds', cancelled);

  const bookings = new Map<string, StoredBooking>();
  const confirmed = [...holds.values()].filter((h) => h.status === 'confirmed' && h.bookingId);
  const bookingIds = sortedUnique([
    ...commands.flatMap((c) => (c.type === 'cancel' ? [c.bookingId] : [])),
    ...confirmed.map((h) => h.bookingId!),
  ]);
  if (bookingIds.length > 0) for (const booking of yield* ask('bookings', bookingIds)) bookings.set(booking.id, booking);

  const events = new Map<string, Event>();
  const eventIds = sortedUnique([
    ...commands.flatMap((c) => ('eventId' in c ? [c.eventId] : [])),
    ...commands.flatMap((c) => (c.type === 'createDoor' ? [c.door.eventId] : [])),
    ...[...holds.values()].map((h) => h.eventId),
    ...[...bookings.values()].map((b) => b.eventId),
  ]);
  if (eventIds.length > 0) for (const event of yield* ask('events', eventIds)) events.set(event.id, event);

  // After the events: a new buyer row references its event, and inserting it takes a key-share
  // lock on the event row. Taken before the event's own lock, two nodes each holding one deadlock.
  const buyers = new Map<string, BuyerTickets>();
  const pairs = buyerPairs(commands, holds.values(), bookings.values());
  if (pairs.length > 0) for (const row of yield* ask('buyers', pairs)) buyers.set(buyerKey(row.eventId, row.buyer), row);

  const { queueLines, queueEntries } = yield* readQueue(commands, events, now);

  const tickets = new Map<string, TicketRef>();
  const admissions = new Map<string, Admission>();
  const ticketIds = sortedUnique(commands.flatMap((c) => (c.type === 'checkin' ? [c.ticketId] : [])));
  if (ticketIds.length > 0) {
    for (const ticket of yield* ask('tickets', ticketIds)) tickets.set(ticket.id, ticket);
    for (const admission of yield* ask('admissions', ticketIds)) admissions.set(admission.ticketId, admission);
  }

  const doors = new Map<string, StoredDoor>();
  const doorIds = sortedUnique([
    ...commands.flatMap((c) => (c.type === 'checkin' || c.type === 'revokeDoor' ? [c.doorId] : [])),
    ...[...admissions.values()].map((a) => a.doorId),
  ]);
  if (doorIds.length > 0) for (const door of yield* ask('doors', doorIds)) doors.set(door.id, door);

  const decision = decide(batch, { events, holds, bookings, buyers, keys, dueHolds, tickets, doors, admissions, queueLines, queueEntries }, ids);
  if (!isEmpty(decision.effects)) yield* ask('apply', decision.effects);
  return decision.outcomes;
}

/**
 * The waiting room's rows, after the events (a new line references its event): the lines of the
 * events whose queue a command touches (a hold or booking with a pass uses one up, so it takes the
 * line's lock too), then the entries named, each joining buyer's active one, and, for a line whose
 * sale has opened but whose order is not drawn yet, everyone still without a position.
 */
function* readQueue(commands: readonly Command[], events: ReadonlyMap<string, Event>, now: string) {
  const queueLines = new Map<string, QueueLineRead>();
  const queueEntries = new Map<string, StoredQueueEntry>();
  const touched = (c: Command) =>
    c.type === 'joinQueue' || c.type === 'advanceQueue' || c.type === 'pauseQueue' || ((c.type === 'book' || c.type === 'hold') && c.admission !== undefined && c.admission !== 'invalid');
  const lineIds = sortedUnique(commands.flatMap((c) => (touched(c) && 'eventId' in c && events.get(c.eventId)?.waitingRoom ? [c.eventId] : [])));
  if (lineIds.length === 0) return { queueLines, queueEntries };
  for (const line of yield* ask('queueLines', lineIds, now)) queueLines.set(line.eventId, line);
  const query: QueueEntryQuery = {
    ids: sortedUnique(
      commands.flatMap((c) =>
        c.type === 'joinQueue' && c.knownEntryId !== undefined ? [c.knownEntryId] : (c.type === 'book' || c.type === 'hold') && c.admission && c.admission !== 'invalid' ? [c.admission.entryId] : [],
      ),
    ),
    buyers: commands.flatMap((c) => (c.type === 'joinQueue' && queueLines.has(c.eventId) ? [{ eventId: c.eventId, buyer: c.buyer }] : [])),
    unpositioned: lineIds.filter((id) => {
      const onSaleAt = events.get(id)!.onSaleAt;
      return queueLines.get(id)!.openedAt === null && (onSaleAt === null || onSaleAt <= now);
    }),
  };
  if (query.ids.length + query.buyers.length + query.unpositioned.length > 0) for (const entry of yield* ask('queueEntries', query)) queueEntries.set(entry.id, entry);
  return { queueLines, queueEntries };
}

/** Drives the plan against a synchronous adapter (call it inside the adapter's transaction). */
export function runWrite(batch: WriteBatch, access: RowAccess, ids: IdSource): Outcome[] {
  const plan = planWrite(batch, ids);
  let step = plan.next();
  while (!step.done) step = plan.next(call(access, step.value));
  return step.value;
}

/** Drives the plan against an asynchronous adapter (call it inside the adapter's transaction). */
export async function runWriteAsync(batch: WriteBatch, access: AsyncRowAccess, ids: IdSource): Promise<Outcome[]> {
  const plan = planWrite(batch, ids);
  let step = plan.next();
  while (!step.done) step = plan.next(await call(access, step.value));
  return step.value;
}

function call(access: RowAccess | AsyncRowAccess, step: Step): unknown {
  return (access[step.call] as (...args: unknown[]) => unknown).apply(access, step.args);
}

function uniqueClaims(commands: readonly Command[]): KeyClaim[] {
  const byKey = new Map<string, KeyClaim>();
  for (const c of commands) if ((c.type === 'book' || c.type === 'hold' || c.type === 'checkin') && c.key && !byKey.has(c.key.key)) byKey.set(c.key.key, c.key);
  return [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Every (event, buyer) whose counters the batch may read or move, sorted (the lock order). */
function buyerPairs(commands: readonly Command[], holds: Iterable<StoredHold>, bookings: Iterable<StoredBooking>): Array<{ eventId: string; buyer: string }> {
  const pairs = new Map<string, { eventId: string; buyer: string }>();
  // Each buyer's own counters and its usage row (what it has given back and left remembered).
  const add = (eventId: string, buyer: string | undefined) => {
    if (buyer === undefined) return;
    pairs.set(buyerKey(eventId, buyer), { eventId, buyer });
    pairs.set(buyerKey(eventId, usageOf(buyer)), { eventId, buyer: usageOf(buyer) });
  };
  for (const c of commands) if (c.type === 'book' || c.type === 'hold') add(c.eventId, c.buyer);
  for (const h of holds) add(h.eventId, h.buyer);
  for (const b of bookings) add(b.eventId, b.buyer);
  return [...pairs.keys()].sort().map((k) => pairs.get(k)!);
}

function sortedUnique(values: string[]): string[] {
  return [...new Set(values)].sort();
}
