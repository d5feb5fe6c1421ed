/** The domain as the API shows it: camelCase JSON, UUIDv4 ids, ISO 8601 dates. */

export interface Event {
  id: string;
  name: string;
  /** ISO 8601 date-time, normalised to UTC (`2026-12-31T20:00:00.000Z`). */
  date: string;
  totalTickets: number;
  /** Tickets anyone may book or hold now. Always `availableTickets + heldTickets + sold == totalTickets`. */
  availableTickets: number;
  /** Tickets set aside by active holds: neither available nor sold. */
  heldTickets: number;
  /** Upper bound on the tickets one booking or hold may take (default 100). */
  maxTicketsPerBooking: number;
  /** How long a hold on this event lasts before its tickets return to stock (default 600). */
  holdSeconds: number;
  /** Tickets one buyer may hold at once (default: maxTicketsPerBooking), so nobody hoards stock in holds. */
  maxHeldPerBuyer: number;
  /** Tickets one buyer may have, bought and held together (default: totalTickets, no limit of its own). */
  maxTicketsPerBuyer: number;
}

export type TicketStatus = 'valid' | 'cancelled';

export interface Ticket {
  id: string;
  eventId: string;
  bookingId: string;
  status: TicketStatus;
}

export interface Booking {
  id: string;
  eventId: string;
  tickets: Ticket[];
  createdAt: string;
  /**
   * The buyer's proof of ownership, needed to cancel without the admin token. Present only in the
   * answer that created the booking (and its idempotent replays); never readable afterwards.
   */
  secret?: string;
}

export type HoldStatus = 'active' | 'confirmed' | 'released' | 'expired';

/** Tickets set aside for one buyer until `expiresAt`; confirming turns them into a booking. */
export interface Hold {
  id: string;
  eventId: string;
  tickets: number;
  status: HoldStatus;
  createdAt: string;
  /** Fixed when the hold is made; a hold is never extended. */
  expiresAt: string;
  /** The booking the hold became, once confirmed. */
  bookingId?: string;
}

/** What an organiser asks for; validated by `validateNewEvent`. */
export interface NewEvent {
  name: string;
  date: string;
  totalTickets: number;
  maxTicketsPerBooking: number;
  holdSeconds: number;
  maxHeldPerBuyer: number;
  maxTicketsPerBuyer: number;
}

export const DEFAULT_MAX_TICKETS_PER_BOOKING = 100;
export const DEFAULT_HOLD_SECONDS = 600;
