import { Errors } from './errors.js';
import type { BookingOutcome, BookingRequest } from './store.js';
import type { Booking } from './types.js';

export interface IdentitySource {
  newId(): string;
  now(): Date;
}

export const systemIdentity: IdentitySource = {
  newId: () => crypto.randomUUID(),
  now: () => new Date(),
};

export interface BatchDecision {
  /** One outcome per request, index-aligned. */
  outcomes: BookingOutcome[];
  /** Accepted bookings in arrival order: what the adapter must insert. */
  bookings: Booking[];
  /** Tickets taken per event by this batch: what the adapter must subtract, conditionally. */
  taken: Map<string, number>;
}

/**
 * The booking decision, shared by every adapter so they cannot disagree.
 * `available` holds each requested event's availability as read inside the adapter's transaction
 * (missing = the event does not exist). Requests are decided strictly in order: an earlier request
 * is served before a later one may take what is left.
 */
export function decideBatch(
  requests: readonly BookingRequest[],
  available: ReadonlyMap<string, number>,
  identity: IdentitySource = systemIdentity,
): BatchDecision {
  const left = new Map(available);
  const outcomes: BookingOutcome[] = [];
  const bookings: Booking[] = [];
  const taken = new Map<string, number>();
  const createdAt = identity.now().toISOString();

  for (const { eventId, tickets } of requests) {
    const remaining = left.get(eventId);
    if (remaining === undefined) {
      outcomes.push({ ok: false, error: Errors.eventNotFound(eventId) });
      continue;
    }
    if (tickets > remaining) {
      outcomes.push({ ok: false, error: Errors.notEnoughTickets(tickets, remaining), availableTickets: remaining });
      continue;
    }
    const bookingId = identity.newId();
    const ids: string[] = [];
    for (let i = 0; i < tickets; i++) ids.push(identity.newId());
    // Sorted so a booking reads back from any store in the order it was first returned.
    ids.sort();
    const booking: Booking = {
      id: bookingId,
      eventId,
      createdAt,
      tickets: ids.map((id) => ({ id, eventId, bookingId })),
    };
    left.set(eventId, remaining - tickets);
    taken.set(eventId, (taken.get(eventId) ?? 0) + tickets);
    bookings.push(booking);
    outcomes.push({ ok: true, booking, availableTickets: remaining - tickets });
  }
  return { outcomes, bookings, taken };
}
