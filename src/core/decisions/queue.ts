import { refusal, type Command, type Outcome, type Refusal } from '../commands.js';
import { Errors } from '../errors.js';
import type { QueueLineRead, StoredQueueEntry } from '../queue-effects.js';
import type { Event } from '../types.js';
import type { Ledger } from './ledger.js';
import { salesRefusal } from './lifecycle.js';

export { DEFAULT_WAITING_ROOM_LEAD_SECONDS, roomOpensAt } from './sale-time.js';

/** How long an admission pass is valid by default. */
export const DEFAULT_PASS_SECONDS = 10 * 60;
/** Buyers admitted and not yet finished at once, by default, before the line has a measured pace. */
export const DEFAULT_WINDOW_FLOOR = 200;
/** The default window's ceiling however fast the shop goes: bounds the burst one admission lets in. */
export const DEFAULT_WINDOW_CAP = 5_000;
/** The default window grows to hold as many buyers as the shop finished in this many seconds. */
export const WINDOW_PACE_SECONDS = 4;

/**
 * How many admitted buyers may be shopping at once. The organiser's `queueWindow`, else derived from
 * the stock and the pace: at least DEFAULT_WINDOW_FLOOR, or as many buyers as finished (pass used) in
 * the last WINDOW_PACE_SECONDS when that is more (`finishedPerSecond`, measured by the node that
 * advances the line), at most DEFAULT_WINDOW_CAP, and never more than one per ticket still available:
 * every admitted buyer takes at least one ticket, so admitting more than are left only makes people
 * wait with a pass for nothing. A fast shop (buyers who book within a second) so gets a window that
 * keeps it busy, a slow one (people filling a form) keeps the floor; each pass used or expired frees a slot.
 */
export function queueWindow(event: Pick<Event, 'queueWindow' | 'availableTickets'>, finishedPerSecond = 0): number {
  if (event.queueWindow !== null) return event.queueWindow;
  const pace = Number.isFinite(finishedPerSecond) && finishedPerSecond > 0 ? Math.ceil(finishedPerSecond * WINDOW_PACE_SECONDS) : 0;
  return Math.max(1, Math.min(event.availableTickets, DEFAULT_WINDOW_CAP, Math.max(DEFAULT_WINDOW_FLOOR, pace)));
}

/** Before `onSaleAt` nobody holds or books, with or without a waiting room. */
export function notOnSale(event: Event, now: Date): Refusal | undefined {
  if (event.onSaleAt !== null && now.getTime() < Date.parse(event.onSaleAt)) return refusal(Errors.notOnSale(event.name, event.onSaleAt, event.timeZone));
  return undefined;
}

export const soldOut = (event: Pick<Event, 'availableTickets' | 'heldTickets'>): boolean => event.availableTickets === 0 && event.heldTickets === 0;

type Join = Extract<Command, { type: 'joinQueue' }>;

/**
 * A buyer joins an event's line. A repeat (the entry named by the buyer's cookie, or the buyer's
 * active entry) answers that entry again. Before the sale opens an entry has no position: the order
 * is drawn when it opens; later joiners go to the back in arrival order.
 */
export function decideJoin(ledger: Ledger, c: Join): Outcome {
  const event = ledger.event(c.eventId);
  if (!event) return refusal(Errors.eventNotFound(c.eventId));
  if (!event.waitingRoom) return refusal(Errors.noWaitingRoom(event.name));
  if (event.status === 'cancelled') return refusal(Errors.eventCancelled(event.name));
  if (Date.parse(event.date) <= ledger.now.getTime()) return refusal(Errors.eventPast(event.name, event.date));
  if (event.waitingRoomOpensAt !== null && ledger.now.getTime() < Date.parse(event.waitingRoomOpensAt)) {
    return refusal(Errors.roomNotOpen(event.name, event.waitingRoomOpensAt, event.timeZone));
  }
  const q = ledger.queue;
  const known = c.knownEntryId === undefined ? undefined : q.entry(c.knownEntryId);
  const existing = known && known.eventId === event.id && (known.state === 'waiting' || known.state === 'admitted') ? known : q.activeOf(event.id, c.buyer);
  if (existing) return { ok: true, kind: 'queueEntry', entry: existing, line: openIfDue(ledger, event), created: false };
  if (soldOut(event)) return refusal(Errors.soldOut(event.name));
  const line = openIfDue(ledger, event);
  const open = line.openedAt !== null;
  const entry: StoredQueueEntry = {
    id: c.entryId,
    eventId: event.id,
    buyer: c.buyer,
    seq: line.joined + 1,
    position: open ? line.positioned + 1 : null,
    state: 'waiting',
    joinedAt: ledger.nowIso,
    admittedAt: null,
    passExpiresAt: null,
    finishedAt: null,
  };
  q.addEntry(entry);
  const after = { ...line, joined: line.joined + 1, positioned: line.positioned + (open ? 1 : 0) };
  q.setLine(after);
  return { ok: true, kind: 'queueEntry', entry, line: after, created: true };
}

/**
 * Draws the order once the sale has opened: everyone who joined before it, shuffled with a
 * cryptographically secure Fisher–Yates (joining early or by script gives no head start). Recorded
 * with the line's version, so on a shared database two nodes cannot both draw it.
 */
export function openIfDue(ledger: Ledger, event: Event): QueueLineRead {
  const q = ledger.queue;
  const line = q.line(event.id);
  if (line.openedAt !== null || (event.onSaleAt !== null && ledger.now.getTime() < Date.parse(event.onSaleAt))) return line;
  const waiting = q.unpositioned(event.id);
  for (let i = waiting.length - 1; i > 0; i--) {
    const j = q.random(i + 1);
    [waiting[i], waiting[j]] = [waiting[j]!, waiting[i]!];
  }
  waiting.forEach((entry, i) => q.place(entry, line.positioned + i + 1));
  const opened = { ...line, positioned: line.positioned + waiting.length, openedAt: ledger.nowIso };
  q.setLine(opened);
  return opened;
}

type Advance = Extract<Command, { type: 'advanceQueue' }>;

/**
 * The line's housekeeping, run by whichever node gets to it: draw the order when due, mark passes
 * that ran out unused as expired (freeing their slots), and admit the next positions while the
 * admitted-but-unfinished stay within the window. Nobody is admitted while paused, before the sale,
 * or while nothing is available (tickets only held by others: the line waits for them).
 */
export function decideAdvance(ledger: Ledger, c: Advance): Outcome {
  const event = ledger.event(c.eventId);
  if (!event) return refusal(Errors.eventNotFound(c.eventId));
  if (!event.waitingRoom) return refusal(Errors.noWaitingRoom(event.name));
  const q = ledger.queue;
  const before = q.line(event.id);
  let line = openIfDue(ledger, event);
  const drawn = before.openedAt === null && line.openedAt !== null ? line.positioned - before.positioned : undefined;
  let expired = 0;
  if (line.due > 0) {
    expired = line.due;
    q.expirePasses(event.id, ledger.nowIso, expired);
    line = { ...line, admitted: line.admitted - expired, due: 0 };
  }
  let admitted = 0;
  const selling = line.openedAt !== null && !line.paused && event.availableTickets > 0 && !salesRefusal(event, ledger.now) && !notOnSale(event, ledger.now);
  if (selling) {
    admitted = Math.max(0, Math.min(queueWindow(event, c.finishedPerSecond) - line.admitted, line.positioned - line.serving));
    if (admitted > 0) {
      const passExpiresAt = new Date(ledger.now.getTime() + c.passSeconds * 1000).toISOString();
      q.admit(event.id, line.serving + 1, line.serving + admitted, ledger.nowIso, passExpiresAt);
      line = { ...line, serving: line.serving + admitted, admitted: line.admitted + admitted };
    }
  }
  if (expired > 0 || admitted > 0) q.setLine(line);
  return { ok: true, kind: 'queueLine', line, admittedNow: admitted, expiredNow: expired, ...(drawn === undefined ? {} : { drawnNow: drawn }) };
}

/** The organiser pauses or resumes admissions; a repeat changes nothing. */
export function decidePauseQueue(ledger: Ledger, eventId: string, paused: boolean): Outcome {
  const event = ledger.event(eventId);
  if (!event) return refusal(Errors.eventNotFound(eventId));
  if (!event.waitingRoom) return refusal(Errors.noWaitingRoom(event.name));
  const line = ledger.queue.line(eventId);
  if (line.paused === paused) return { ok: true, kind: 'queueLine', line, admittedNow: 0, expiredNow: 0, changed: false };
  const after = { ...line, paused };
  ledger.queue.setLine(after);
  return { ok: true, kind: 'queueLine', line: after, admittedNow: 0, expiredNow: 0, changed: true };
}

/**
 * The gate of a waiting-room event's hold or booking: the pass must name an entry of this event
 * that is admitted and still within its time. Returns a refusal, or the entry whose pass a success
 * uses up (`usePass`), in the same transaction as the tickets it takes.
 */
export function admissionGate(ledger: Ledger, event: Event, admission: { entryId: string } | 'invalid' | undefined): Refusal | StoredQueueEntry | undefined {
  if (!event.waitingRoom) return undefined;
  if (admission === undefined || admission === 'invalid') return refusal(Errors.queueRequired(event.id));
  const entry = ledger.queue.entry(admission.entryId);
  if (!entry || entry.eventId !== event.id) return refusal(Errors.queueRequired(event.id));
  if (entry.state !== 'admitted' || entry.passExpiresAt === null || entry.passExpiresAt <= ledger.nowIso) return refusal(Errors.admissionExpired());
  return entry;
}

/** Uses up a pass the gate accepted: the entry is done and its slot in the window is free. */
export function usePass(ledger: Ledger, entry: StoredQueueEntry): void {
  const q = ledger.queue;
  q.finish(entry, ledger.nowIso);
  const line = q.line(entry.eventId);
  q.adjust({ ...line, admitted: line.admitted - 1 });
}
