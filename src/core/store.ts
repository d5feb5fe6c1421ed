import type { BoxofficeError, ErrorCode } from './errors.js';
import type { Booking, Event, Hold, Ticket } from './types.js';

/**
 * The storage port. Core depends on this interface only; adapters live in src/store.
 * Every adapter must pass the contract suite in test/store/contract.ts.
 *
 * Adapters hold no business rules: what a batch, a confirmation, a release, an expiry or a
 * cancellation does is decided by the pure functions in decide-batch.ts and hold-decisions.ts, and an
 * adapter applies the decision inside one transaction with conditional writes that refuse to break
 * `available + held + sold == total` even if the decision were wrong.
 */
export interface Store {
  /** Short adapter name for logs and metrics: "memory", "sqlite", "postgres". */
  readonly kind: string;

  /** Persists a fully formed event (id assigned, availableTickets == totalTickets, heldTickets == 0). */
  createEvent(event: Event): Promise<void>;
  getEvent(id: string): Promise<Event | undefined>;
  /** All events, ordered by date then name then id. */
  listEvents(): Promise<Event[]>;

  /**
   * Decides and commits a batch of booking and hold requests in one atomic transaction, idempotency
   * keys included. Requests are decided in array order (FIFO per event) by `decideBatch`; the result is
   * index-aligned. Either everything of the batch is durable when the promise resolves, or the promise
   * rejects and nothing of the batch was applied.
   */
  commitBookings(requests: readonly BookingRequest[]): Promise<BookingOutcome[]>;

  getTicket(id: string): Promise<Ticket | undefined>;
  getBooking(id: string): Promise<StoredBooking | undefined>;
  /** Valid (sold, not cancelled) tickets of an event, counted from the ticket rows (for invariant checks). */
  countTickets(eventId: string): Promise<number>;

  getHold(id: string): Promise<Hold | undefined>;
  /** Turns an active, unexpired hold into a booking; `now` decides expiry (tests inject it). */
  confirmHold(id: string, now: Date): Promise<ConfirmOutcome>;
  /** Returns an active hold's tickets to stock. */
  releaseHold(id: string, now: Date): Promise<HoldOutcome>;
  /**
   * Expires every active hold whose `expiresAt <= now`, returning its tickets to stock. Safe to run on
   * several nodes at once: each hold expires exactly once. Returns the events whose counts changed.
   */
  expireHolds(now: Date): Promise<ExpiryResult>;
  /** The earliest `expiresAt` of an active hold, if any. */
  nextHoldExpiry(): Promise<string | undefined>;

  /** Cancels tickets of a booking (all still valid ones when `ticketIds` is undefined). */
  cancelBooking(id: string, ticketIds: readonly string[] | undefined, now: Date): Promise<CancelOutcome>;

  /** Forgets idempotency keys recorded before `before`; returns how many. */
  purgeIdempotencyKeys(before: Date): Promise<number>;

  /**
   * Optional: calls `listener` soon after another process (another node or worker) commits a change,
   * so caches can be refreshed. Returns a function that stops watching. Stores that only ever have
   * one writer (memory) leave it out.
   */
  watchExternalChanges?(listener: () => void): () => void;

  close(): Promise<void>;
}

/** An event's stock after a change, for caches and live views. */
export interface EventCounts {
  eventId: string;
  availableTickets: number;
  heldTickets: number;
}

export interface IdempotencyClaim {
  key: string;
  /** What the request asked for; the same key with another fingerprint is refused. */
  fingerprint: string;
}

export interface BookingRequest {
  eventId: string;
  tickets: number;
  /** `book` (default) sells at once; `hold` sets the tickets aside until confirmed, released or expired. */
  kind?: 'book' | 'hold';
  idempotency?: IdempotencyClaim;
}

type Refused = { ok: false; error: BoxofficeError; counts?: EventCounts; replayed?: boolean };

export type BookingOutcome =
  | { ok: true; booking: Booking; hold?: undefined; counts?: EventCounts; replayed?: boolean }
  | { ok: true; hold: Hold; booking?: undefined; counts?: EventCounts; replayed?: boolean }
  | Refused;

export type ConfirmOutcome = { ok: true; booking: Booking; counts?: EventCounts; replayed: boolean } | Refused;
export type HoldOutcome = { ok: true; hold: Hold; counts?: EventCounts } | Refused;
/** `cancelled`: how many tickets this cancellation took back (not counting ones cancelled before). */
export type CancelOutcome = { ok: true; booking: Booking; counts: EventCounts; cancelled: number } | Refused;

export interface ExpiryResult {
  expired: number;
  counts: EventCounts[];
}

/** A booking as stored: with the hash of its secret (never the secret itself). */
export interface StoredBooking extends Booking {
  secretHash?: string;
}

/** What an idempotency key row remembers: the first answer, to be given again to every repeat. */
export type RememberedResult =
  | { kind: 'booking'; booking: Booking }
  | { kind: 'hold'; hold: Hold }
  | { kind: 'refused'; code: ErrorCode; message: string };

/** An idempotency key row as an adapter reads it back (result still serialised). */
export interface StoredKey {
  key: string;
  fingerprint: string;
  result: string;
  createdAt: string;
}
