/** The per-call options of `TicketService` (kept apart so the service file stays small). */

/** An answer that may repeat an earlier one (an idempotent retry or a repeated confirm). */
export interface Placed<T> {
  value: T;
  replayed: boolean;
}

export interface PlaceOptions {
  /** The client's Idempotency-Key, unvalidated. */
  idempotencyKey?: unknown;
  /** Who asks: the client's address. The event's per-buyer limits count against it. */
  buyer?: string;
  /** The buyer's `{ name?, email? }` from the body, unvalidated; kept for the organiser. */
  contact?: unknown;
  /** The `Admission-Pass` header, unvalidated (waiting-room events only). */
  admissionPass?: unknown;
}

/** Who asks to cancel: the admin, or a buyer presenting the booking's secret. */
export interface CancelRequest {
  admin: boolean;
  secret?: string;
  /** Ticket ids to cancel (unvalidated); all remaining tickets when absent. */
  tickets?: unknown;
}
