import { refusal, type EventCounts, type Outcome } from '../commands.js';
import { Errors } from '../errors.js';
import type { StoredHold } from '../effects.js';
import { isPastExpiry, publicBooking, publicHold } from '../presenting.js';
import type { Booking } from '../types.js';
import type { Ledger } from './ledger.js';
import type { RememberedResult } from './place.js';

/**
 * A confirmation's first answer is remembered like an idempotency key, so a buyer whose 201 was lost
 * gets the booking's secret again when they retry. The space keeps it apart from every client key
 * (those are visible ASCII only).
 */
export function confirmationKey(holdId: string): string {
  return `hold confirmation ${holdId}`;
}

/** Turns an active, unexpired hold into a booking; a repeat answers the same booking. */
export function decideConfirm(ledger: Ledger, holdId: string): Outcome {
  const hold = ledger.hold(holdId);
  if (!hold) return refusal(Errors.notFound('hold', holdId));
  switch (hold.status) {
    case 'confirmed':
      return { ok: true, kind: 'booking', booking: replayConfirmation(ledger, hold), replayed: true };
    case 'released':
      return refusal(Errors.holdReleased(holdId));
    case 'expired':
      return refusal(Errors.holdExpired(holdId, hold.expiresAt));
    case 'active': {
      if (isPastExpiry(hold, ledger.now)) return expireOnTouch(ledger, hold);
      const booking = ledger.addBooking(hold.eventId, hold.tickets, hold.buyer);
      const counts = ledger.moveStock(hold.eventId, 0, -hold.tickets);
      ledger.moveBuyer(hold.eventId, hold.buyer, -hold.tickets, hold.tickets);
      ledger.endHold(hold, 'confirmed', booking.id);
      const key = confirmationKey(holdId);
      ledger.remember(key, key, JSON.stringify({ kind: 'booking', booking } satisfies RememberedResult));
      return { ok: true, kind: 'booking', booking, counts, replayed: false };
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
      if (isPastExpiry(hold, ledger.now)) return expireOnTouch(ledger, hold);
      const counts = ledger.moveStock(hold.eventId, hold.tickets, -hold.tickets);
      ledger.moveBuyer(hold.eventId, hold.buyer, -hold.tickets, 0);
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
  return ledger.moveStock(hold.eventId, hold.tickets, -hold.tickets);
}

/**
 * A repeated confirmation answers the booking as it is now, with the secret from the first answer
 * while that is remembered (24 h, like every key); after that only the admin can cancel it.
 */
function replayConfirmation(ledger: Ledger, hold: StoredHold): Booking {
  const current = publicBooking(ledger.booking(hold.bookingId!)!);
  const remembered = ledger.key(confirmationKey(hold.id));
  if (!remembered || remembered.fingerprint !== remembered.key) return current;
  const first = JSON.parse(remembered.result) as RememberedResult;
  return first.kind === 'booking' && first.booking.id === current.id && first.booking.secret ? { ...current, secret: first.booking.secret } : current;
}
