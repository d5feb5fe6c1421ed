import { refusal, type EventCounts, type Outcome } from '../commands.js';
import { Errors } from '../errors.js';
import type { StoredHold } from '../effects.js';
import { isPastExpiry, publicBooking, publicHold } from '../presenting.js';
import type { Booking } from '../types.js';
import { IDEMPOTENCY_KEY_TTL_MS, type Ledger } from './ledger.js';

/**
 * Who may learn a confirmed booking's secret: the client that made the hold (its buyer key, a hash
 * of its address), or a caller that names no buyer (the service used in-process). A hold id alone
 * (it appears in URLs and, before, in logs) confirms the hold, but gets the booking without its
 * secret: only the hold's own buyer can cancel it.
 */
function mayLearnSecret(hold: StoredHold, buyer: string | undefined): boolean {
  return buyer === undefined || hold.buyer === undefined || hold.buyer === buyer;
}

/** Turns an active, unexpired hold into a booking; a repeat answers the same booking. */
export function decideConfirm(ledger: Ledger, holdId: string, buyer?: string): Outcome {
  const hold = ledger.hold(holdId);
  if (!hold) return refusal(Errors.notFound('hold', holdId));
  const event = ledger.event(hold.eventId);
  // A cancelled event released its holds in bulk (this batch's cancellation included): say why.
  if (event?.status === 'cancelled' && hold.status !== 'confirmed') return refusal(Errors.eventCancelled(event.name));
  switch (hold.status) {
    case 'confirmed':
      return { ok: true, kind: 'booking', booking: replayConfirmation(ledger, hold, buyer), replayed: true };
    case 'released':
      return refusal(Errors.holdReleased(holdId));
    case 'expired':
      return refusal(Errors.holdExpired(holdId, hold.expiresAt));
    case 'active': {
      if (isPastExpiry(hold, ledger.now)) return expireOnTouch(ledger, hold);
      const booking = ledger.addBooking(hold.eventId, hold.tickets, hold.buyer, hold.contact);
      const counts = ledger.moveStock(hold.eventId, 0, -hold.tickets);
      ledger.moveBuyer(hold.eventId, hold.buyer, -hold.tickets, hold.tickets);
      ledger.endHold(hold, 'confirmed', booking.id);
      const { secret, ...withoutSecret } = booking;
      return { ok: true, kind: 'booking', booking: mayLearnSecret(hold, buyer) ? booking : withoutSecret, counts, replayed: false };
    }
  }
}

/** Gives an active hold's tickets back; releasing a released hold again is harmless. */
export function decideRelease(ledger: Ledger, holdId: string): Outcome {
  const hold = ledger.hold(holdId);
  if (!hold) return refusal(Errors.notFound('hold', holdId));
  switch (hold.status) {
    case 'released':
      return { ok: true, kind: 'hold', hold: publicHold(hold) };
    case 'confirmed':
      return refusal(Errors.holdConfirmed(holdId, hold.bookingId!));
    case 'expired':
      return refusal(Errors.holdExpired(holdId, hold.expiresAt));
    case 'active': {
      // Released with its cancelled event (in bulk, perhaps by this very batch): nothing moves.
      if (ledger.event(hold.eventId)?.status === 'cancelled') return { ok: true, kind: 'hold', hold: publicHold({ ...hold, status: 'released' }) };
      if (isPastExpiry(hold, ledger.now)) return expireOnTouch(ledger, hold);
      const counts = ledger.moveStock(hold.eventId, hold.tickets, -hold.tickets);
      ledger.moveBuyer(hold.eventId, hold.buyer, -hold.tickets, 0);
      ledger.gaveBack(hold.eventId, hold.buyer, hold.tickets);
      return { ok: true, kind: 'hold', hold: publicHold(ledger.endHold(hold, 'released')), counts };
    }
  }
}

/** Expires every active hold due at the batch's `now`, each exactly once. */
export function decideExpiry(ledger: Ledger): Outcome {
  const touched = new Map<string, EventCounts>();
  let expired = 0;
  for (const due of ledger.rows.dueHolds) {
    // An earlier command of this batch may have confirmed or released it already.
    const hold = ledger.hold(due.id)!;
    if (!isPastExpiry(hold, ledger.now)) continue;
    if (ledger.event(hold.eventId)?.status === 'cancelled') continue;
    touched.set(hold.eventId, endExpired(ledger, hold));
    expired++;
  }
  return { ok: true, kind: 'expired', expired, counts: [...touched.values()] };
}

/** A hold found past its time by a confirm or release is expired by that same transaction. */
function expireOnTouch(ledger: Ledger, hold: StoredHold): Outcome {
  return refusal(Errors.holdExpired(hold.id, hold.expiresAt), { counts: endExpired(ledger, hold), expiredHold: true });
}

function endExpired(ledger: Ledger, hold: StoredHold): EventCounts {
  ledger.endHold(hold, 'expired');
  ledger.moveBuyer(hold.eventId, hold.buyer, -hold.tickets, 0);
  // Holding and letting go is a loop too (holds may last a second): expiry counts as giving back.
  ledger.gaveBack(hold.eventId, hold.buyer, hold.tickets);
  return ledger.moveStock(hold.eventId, hold.tickets, -hold.tickets);
}

/**
 * A repeated confirmation answers the booking as it is now; to the hold's own buyer, for 24 h (like
 * an idempotency key), with its secret recomputed from the booking id (nothing secret is stored).
 * After that, or for anyone else, without it: only the admin can cancel then.
 */
function replayConfirmation(ledger: Ledger, hold: StoredHold, buyer: string | undefined): Booking {
  const stored = ledger.booking(hold.bookingId!)!;
  const current = publicBooking(stored);
  if (!mayLearnSecret(hold, buyer) || Date.parse(stored.createdAt) <= ledger.now.getTime() - IDEMPOTENCY_KEY_TTL_MS) return current;
  const secret = ledger.secrets.recover(stored.id, stored.secretHash);
  return secret ? { ...current, secret } : current;
}
