import type { Booking, Event, Ticket } from '../core/types.js';

export type { Booking, Event, Ticket };

/** What an organiser sends to `POST /events`. */
export interface NewEventInput {
  name: string;
  date: string;
  totalTickets: number;
  maxTicketsPerBooking?: number;
}

/** One message of `GET /events/stream`. */
export type EventStreamMessage =
  | { type: 'snapshot'; events: Event[] }
  | { type: 'changes'; created: Event[]; availability: Array<{ id: string; availableTickets: number }> };

/** Where a live subscription stands, for a status indicator. */
export type StreamStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { state: 'closed' };

/** A 429 is being retried: how long we wait before the next try. */
export interface RetryNotice {
  /** 1 for the first retry. */
  attempt: number;
  maxRetries: number;
  delayMs: number;
  /** `POST /events/…/bookings` and the like, for the log. */
  request: string;
}
