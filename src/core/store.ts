import type { BoxofficeError } from './errors.js';
import type { Booking, Event, Ticket } from './types.js';

/**
 * The storage port. Core depends on this interface only; adapters live in src/store.
 * Every adapter must pass the contract suite in test/store/contract.ts.
 */
export interface Store {
  /** Short adapter name for logs and metrics: "memory", "sqlite", "postgres". */
  readonly kind: string;

  /** Persists a fully formed event (id assigned, availableTickets == totalTickets). */
  createEvent(event: Event): Promise<void>;
  getEvent(id: string): Promise<Event | undefined>;
  /** All events, ordered by date then name then id. */
  listEvents(): Promise<Event[]>;

  /**
   * Decides and commits a batch of booking requests in one atomic transaction.
   * Requests are decided in array order (FIFO per event) by `decideBatch`; the result is index-aligned.
   * Either every accepted booking of the batch is durable when the promise resolves, or the promise
   * rejects and nothing of the batch was applied.
   */
  commitBookings(requests: readonly BookingRequest[]): Promise<BookingOutcome[]>;

  getTicket(id: string): Promise<Ticket | undefined>;
  getBooking(id: string): Promise<Booking | undefined>;
  /** Tickets stored for an event, counted from the ticket rows themselves (for invariant checks). */
  countTickets(eventId: string): Promise<number>;

  /**
   * Optional: calls `listener` soon after another process (another node or worker) commits a change,
   * so caches can be refreshed. Returns a function that stops watching. Stores that only ever have
   * one writer (memory) leave it out.
   */
  watchExternalChanges?(listener: () => void): () => void;

  close(): Promise<void>;
}

export interface BookingRequest {
  eventId: string;
  tickets: number;
}

export type BookingOutcome =
  | { ok: true; booking: Booking; availableTickets: number }
  | { ok: false; error: BoxofficeError; availableTickets?: number };
