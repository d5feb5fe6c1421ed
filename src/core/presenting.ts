import type { StoredBooking, StoredHold } from './effects.js';
import type { Booking, Hold } from './types.js';

/** True once an active hold's time is up, whether or not the sweeper has got to it yet. */
export function isPastExpiry(hold: Hold, now: Date): boolean {
  return hold.status === 'active' && Date.parse(hold.expiresAt) <= now.getTime();
}

/** The hold as a reader should see it: an active hold past its time is already expired. */
export function presentHold(hold: Hold, now: Date): Hold {
  return isPastExpiry(hold, now) ? { ...hold, status: 'expired' } : hold;
}

/** A stored booking without its secret hash or buyer, as answers show it. */
export function publicBooking(booking: StoredBooking): Booking {
  const { secretHash: _hidden, buyer: _buyer, contact: _contact, ...rest } = booking;
  return rest;
}

/** A stored hold without its buyer, as answers show it. */
export function publicHold(hold: StoredHold): Hold {
  const { buyer: _buyer, contact: _contact, ...rest } = hold;
  return rest;
}
