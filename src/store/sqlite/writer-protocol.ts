import { BoxofficeError, type ErrorCode } from '../../core/errors.js';
import type { BookingOutcome, BookingRequest } from '../../core/store.js';
import type { Event } from '../../core/types.js';

/** Messages between the SQLite store and its writer thread. Errors cross as plain data. */
export type WriterRequest =
  | { id: number; op: 'createEvent'; event: Event }
  | { id: number; op: 'commitBookings'; requests: readonly BookingRequest[] }
  | { id: number; op: 'close' };

export type WireOutcome =
  | { ok: true; booking: Extract<BookingOutcome, { ok: true }>['booking']; availableTickets: number }
  | { ok: false; code: ErrorCode; message: string; availableTickets?: number };

export type WriterReply =
  | { id: number; ok: true; outcomes?: WireOutcome[] }
  | { id: number; ok: false; message: string }
  | { id: 0; external: true };

export function toWire(outcomes: BookingOutcome[]): WireOutcome[] {
  return outcomes.map((o) =>
    o.ok ? o : { ok: false, code: o.error.code, message: o.error.message, availableTickets: o.availableTickets },
  );
}

export function fromWire(outcomes: WireOutcome[]): BookingOutcome[] {
  return outcomes.map((o) =>
    o.ok ? o : { ok: false, error: new BoxofficeError(o.code, o.message), availableTickets: o.availableTickets },
  );
}
