import type { Booking, Event, Hold, HoldStatus, Ticket, TicketStatus } from '../core/types.js';

export type { Booking, Event, Hold, HoldStatus, Ticket, TicketStatus };

/** What an organiser sends to `POST /events`. */
export interface NewEventInput {
  name: string;
  date: string;
  totalTickets: number;
  maxTicketsPerBooking?: number;
  /** How long a hold on this event lasts, in seconds (1…86400; the server's default is 600). */
  holdSeconds?: number;
  /** Tickets one buyer may hold at once (server default: maxTicketsPerBooking). */
  maxHeldPerBuyer?: number;
  /** Tickets one buyer may have in all, bought and held (server default: totalTickets). */
  maxTicketsPerBuyer?: number;
}

/** One event's new counts in a `changes` message. */
export interface AvailabilityChange {
  id: string;
  availableTickets: number;
  /** Absent from servers older than holds; treat absence as "unchanged". */
  heldTickets?: number;
}

/** One message of `GET /events/stream`. */
export type EventStreamMessage =
  | { type: 'snapshot'; events: Event[] }
  | { type: 'changes'; created: Event[]; availability: AvailabilityChange[] };

/** Where a live subscription stands, for a status indicator. */
export type StreamStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { state: 'closed' };

/**
 * Why a request is being sent again: `busy` (429), `unavailable` (503), `unreachable` (no answer:
 * refused, reset…) or `timeout`. Only the first is ever retried for a request that is not safe to
 * repeat; the others are retried only for calls carrying an Idempotency-Key (or idempotent by design).
 */
export type RetryCause = 'busy' | 'unavailable' | 'unreachable' | 'timeout';

/** A failed request is being retried: why, and how long we wait before the next try. */
export interface RetryNotice {
  /** 1 for the first retry. */
  attempt: number;
  maxRetries: number;
  delayMs: number;
  /** `POST /events/…/bookings` and the like, for the log. */
  request: string;
  cause: RetryCause;
  /** The failure being retried, one sentence (the server's message, or "Cannot reach …"). */
  reason: string;
}
