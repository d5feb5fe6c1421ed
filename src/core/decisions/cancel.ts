import { refusal, type CancelProof, type Outcome } from '../commands.js';
import { Errors } from '../errors.js';
import { secretMatches } from '../identity.js';
import { publicBooking } from '../presenting.js';
import type { Ledger } from './ledger.js';

/**
 * Cancels tickets of a booking: without a list, every ticket still valid; with one, exactly those,
 * all of which must belong to the booking and still be valid (a partial repeat is refused whole).
 * The admin may cancel any booking; a buyer needs the booking's secret.
 */
export function decideCancel(ledger: Ledger, bookingId: string, requested: readonly string[] | undefined, proof: CancelProof): Outcome {
  if (!proof.admin && !proof.secret) return refusal(Errors.unauthorizedCancel());
  const booking = ledger.booking(bookingId);
  if (!booking) return refusal(Errors.notFound('booking', bookingId));
  if (!proof.admin && !secretMatches(proof.secret!, booking.secretHash)) return refusal(Errors.forbidden('booking'));
  // Every ticket of a cancelled event was cancelled with it (in bulk, perhaps by this very batch).
  if (ledger.event(booking.eventId)?.status === 'cancelled') return refusal(Errors.alreadyCancelled(`Every ticket of booking ${bookingId} is`));
  const valid = new Set(booking.tickets.filter((t) => t.status === 'valid').map((t) => t.id));
  let ticketIds: string[];
  if (requested === undefined) {
    if (valid.size === 0) return refusal(Errors.alreadyCancelled(`Every ticket of booking ${bookingId} is`));
    ticketIds = [...valid].sort();
  } else {
    const all = new Set(booking.tickets.map((t) => t.id));
    const unique = [...new Set(requested)];
    const foreign = unique.find((t) => !all.has(t));
    if (foreign) return refusal(Errors.invalidRequest(`Ticket ${foreign} is not part of booking ${bookingId}.`));
    const cancelled = unique.find((t) => !valid.has(t));
    if (cancelled) return refusal(Errors.alreadyCancelled(`Ticket ${cancelled} is`));
    ticketIds = unique.sort();
  }
  const after = ledger.cancelTickets(booking, ticketIds);
  const counts = ledger.moveStock(booking.eventId, ticketIds.length, 0);
  ledger.moveBuyer(booking.eventId, booking.buyer, 0, -ticketIds.length);
  // The buyer's own cancellation gives tickets back (and leaves their rows): it counts against the
  // buyer's budget. The admin's does not: the buyer did not choose it.
  if (!proof.admin) ledger.gaveBack(booking.eventId, booking.buyer, ticketIds.length);
  return { ok: true, kind: 'cancelled', booking: publicBooking(after), counts, cancelled: ticketIds.length };
}
