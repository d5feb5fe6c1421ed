import { refusal, type Outcome, type Refusal } from '../commands.js';
import { Errors } from '../errors.js';
import type { Event, EventPatch } from '../types.js';
import type { Ledger } from './ledger.js';
import { DEFAULT_WAITING_ROOM_LEAD_SECONDS, roomOpensAt } from './sale-time.js';

/**
 * Whether buyers may take tickets of this event now (booking or holding): not when the organiser
 * cancelled it or closed its sales, nor once its date has passed (judged on the batch's clock).
 */
export function salesRefusal(event: Event, now: Date): Refusal | undefined {
  if (event.status === 'cancelled') return refusal(Errors.eventCancelled(event.name));
  if (!event.salesOpen) return refusal(Errors.salesClosed(event.name));
  if (Date.parse(event.date) <= now.getTime()) return refusal(Errors.eventPast(event.name, event.date));
  return undefined;
}

/**
 * The organiser's change of an event, decided on the locked row: the total may not go below what
 * is sold and held right now (the batch's own bookings and holds included). A cancelled event
 * stays as it is. A past date is fine: correcting a past event is allowed.
 */
export function decideUpdateEvent(ledger: Ledger, eventId: string, patch: EventPatch, roomLeadSeconds = DEFAULT_WAITING_ROOM_LEAD_SECONDS): Outcome {
  const event = ledger.event(eventId);
  if (!event) return refusal(Errors.eventNotFound(eventId));
  if (event.status === 'cancelled') return refusal(Errors.eventCancelled(event.name));
  if (patch.totalTickets !== undefined) {
    const sold = event.totalTickets - event.availableTickets - event.heldTickets;
    if (patch.totalTickets < sold + event.heldTickets) return refusal(Errors.stockBelowTaken(patch.totalTickets, sold, event.heldTickets));
  }
  const { timeZone, ...rest } = patch;
  const change = timeZone === undefined ? rest : { ...rest, timeZone };
  const sale = patch.onSaleAt !== undefined || patch.waitingRoom !== undefined;
  const updated = ledger.updateEvent(eventId, sale ? { ...change, waitingRoomOpensAt: roomOpensAt({ ...event, ...change }, roomLeadSeconds) } : change);
  return { ok: true, kind: 'settings', event: updated };
}

/** Cancels an event once; a repeat answers the cancelled event again and changes nothing. */
export function decideCancelEvent(ledger: Ledger, eventId: string): Outcome {
  const event = ledger.event(eventId);
  if (!event) return refusal(Errors.eventNotFound(eventId));
  if (event.status === 'cancelled') return { ok: true, kind: 'settings', event };
  return { ok: true, kind: 'settings', event: ledger.cancelEvent(eventId) };
}
