import { BoxofficeError, Errors } from './errors.js';
import { newSecret, type IdentitySource } from './identity.js';
import type { KeyToRemember } from './decide-batch.js';
import type { RememberedResult, StoredBooking, StoredKey } from './store.js';
import type { Booking, Hold } from './types.js';

/**
 * The rules for holds and cancellations, shared by every adapter. Each function looks at what the
 * adapter read inside its transaction and says what to do; the adapter only applies it.
 */

/** A new booking of `count` fresh tickets (ids sorted, so every store reads it back in this order). */
export function newBookingFor(eventId: string, count: number, identity: IdentitySource, createdAt: string): Booking {
  const bookingId = identity.newId();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(identity.newId());
  ids.sort();
  return {
    id: bookingId,
    eventId,
    createdAt,
    tickets: ids.map((id) => ({ id, eventId, bookingId, status: 'valid' as const })),
    secret: newSecret(identity),
  };
}

/** True once an active hold's time is up, whether or not the sweeper has got to it yet. */
export function isPastExpiry(hold: Hold, now: Date): boolean {
  return hold.status === 'active' && Date.parse(hold.expiresAt) <= now.getTime();
}

/** The hold as a reader should see it: an active hold past its time is already expired. */
export function presentHold(hold: Hold, now: Date): Hold {
  return isPastExpiry(hold, now) ? { ...hold, status: 'expired' } : hold;
}

export type ConfirmDecision =
  | { action: 'refuse'; error: BoxofficeError }
  /** Confirmed before: answer with that booking again (a retried confirm must not fail). */
  | { action: 'replay'; bookingId: string }
  /** Time is up: expire it now (if still active), then answer `error`. */
  | { action: 'expire'; error: BoxofficeError }
  | { action: 'confirm'; booking: Booking };

export function decideConfirm(hold: Hold | undefined, id: string, now: Date, identity: IdentitySource): ConfirmDecision {
  if (!hold) return { action: 'refuse', error: Errors.notFound('hold', id) };
  switch (hold.status) {
    case 'confirmed':
      return { action: 'replay', bookingId: hold.bookingId! };
    case 'released':
      return { action: 'refuse', error: Errors.holdReleased(id) };
    case 'expired':
      return { action: 'expire', error: Errors.holdExpired(id, hold.expiresAt) };
    case 'active':
      if (isPastExpiry(hold, now)) return { action: 'expire', error: Errors.holdExpired(id, hold.expiresAt) };
      return { action: 'confirm', booking: newBookingFor(hold.eventId, hold.tickets, identity, now.toISOString()) };
  }
}

/**
 * A confirmation's first answer is remembered like an idempotency key, so a buyer whose 201 was lost
 * gets the booking's secret again when they retry. The space keeps it apart from every client key
 * (those are visible ASCII only).
 */
export function confirmationKey(holdId: string): string {
  return `hold confirmation ${holdId}`;
}

export function rememberConfirmation(holdId: string, booking: Booking): KeyToRemember {
  const key = confirmationKey(holdId);
  const result: RememberedResult = { kind: 'booking', booking };
  return { key, fingerprint: key, result: JSON.stringify(result), createdAt: booking.createdAt };
}

/**
 * A repeated confirmation answers the booking as it is now, with the secret from the first answer
 * while that is remembered (24 h, like every key); after that only the admin can cancel it.
 */
export function replayConfirmation(current: Booking, remembered: StoredKey | undefined): Booking {
  if (!remembered || remembered.fingerprint !== remembered.key) return current;
  const first = JSON.parse(remembered.result) as RememberedResult;
  return first.kind === 'booking' && first.booking.id === current.id && first.booking.secret ? { ...current, secret: first.booking.secret } : current;
}

export type ReleaseDecision =
  | { action: 'refuse'; error: BoxofficeError }
  /** Released before: DELETE is idempotent, answer the released hold again. */
  | { action: 'replay'; hold: Hold }
  | { action: 'expire'; error: BoxofficeError }
  | { action: 'release'; hold: Hold };

export function decideRelease(hold: Hold | undefined, id: string, now: Date): ReleaseDecision {
  if (!hold) return { action: 'refuse', error: Errors.notFound('hold', id) };
  switch (hold.status) {
    case 'released':
      return { action: 'replay', hold };
    case 'confirmed':
      return { action: 'refuse', error: Errors.holdConfirmed(id, hold.bookingId!) };
    case 'expired':
      return { action: 'expire', error: Errors.holdExpired(id, hold.expiresAt) };
    case 'active':
      if (isPastExpiry(hold, now)) return { action: 'expire', error: Errors.holdExpired(id, hold.expiresAt) };
      return { action: 'release', hold: { ...hold, status: 'released' } };
  }
}

export type CancelDecision = { action: 'refuse'; error: BoxofficeError } | { action: 'cancel'; ticketIds: string[] };

/**
 * Which tickets a cancellation takes back. Without a list, every ticket still valid; with one, exactly
 * those, all of which must belong to the booking and still be valid (a partial repeat is refused whole).
 */
export function decideCancel(booking: Booking | undefined, id: string, requested: readonly string[] | undefined): CancelDecision {
  if (!booking) return { action: 'refuse', error: Errors.notFound('booking', id) };
  const valid = new Set(booking.tickets.filter((t) => t.status === 'valid').map((t) => t.id));
  if (requested === undefined) {
    if (valid.size === 0) return { action: 'refuse', error: Errors.alreadyCancelled(`Every ticket of booking ${id} is`) };
    return { action: 'cancel', ticketIds: [...valid].sort() };
  }
  const all = new Set(booking.tickets.map((t) => t.id));
  const unique = [...new Set(requested)];
  const foreign = unique.find((t) => !all.has(t));
  if (foreign) return { action: 'refuse', error: Errors.invalidRequest(`Ticket ${foreign} is not part of booking ${id}.`) };
  const cancelled = unique.find((t) => !valid.has(t));
  if (cancelled) return { action: 'refuse', error: Errors.alreadyCancelled(`Ticket ${cancelled} is`) };
  return { action: 'cancel', ticketIds: unique.sort() };
}

/** A booking after some of its tickets were cancelled. */
export function withCancelled(booking: Booking, ticketIds: readonly string[]): Booking {
  const gone = new Set(ticketIds);
  return { ...booking, tickets: booking.tickets.map((t) => (gone.has(t.id) ? { ...t, status: 'cancelled' as const } : t)) };
}

/** A stored booking without its secret hash, as answers show it. */
export function publicBooking(booking: StoredBooking): Booking {
  const { secretHash: _hidden, ...rest } = booking;
  return rest;
}
