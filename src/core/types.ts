/** The domain as the API shows it: camelCase JSON, UUIDv4 ids, ISO 8601 dates. */

export interface Event {
  id: string;
  name: string;
  /** ISO 8601 date-time, normalised to UTC (`2026-12-31T20:00:00.000Z`). */
  date: string;
  totalTickets: number;
  availableTickets: number;
  /** Upper bound on the tickets one booking may take (default 100). */
  maxTicketsPerBooking: number;
}

export interface Ticket {
  id: string;
  eventId: string;
  bookingId: string;
}

export interface Booking {
  id: string;
  eventId: string;
  tickets: Ticket[];
  createdAt: string;
}

/** What an organiser asks for; validated by `validateNewEvent`. */
export interface NewEvent {
  name: string;
  date: string;
  totalTickets: number;
  maxTicketsPerBooking: number;
}

export const DEFAULT_MAX_TICKETS_PER_BOOKING = 100;
