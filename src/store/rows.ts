import type { Event, Hold, HoldStatus } from '../core/types.js';

/**
 * Rows as both SQL adapters read them (snake_case columns). SQLite returns dates as the ISO text it
 * stored; PostgreSQL returns timestamptz as Date. One mapping serves both.
 */
type SqlDate = string | Date;

export interface EventRow {
  id: string;
  name: string;
  date: SqlDate;
  total_tickets: number;
  available_tickets: number;
  held_tickets: number;
  max_tickets_per_booking: number;
  hold_seconds: number;
}

export interface HoldRow {
  id: string;
  event_id: string;
  tickets: number;
  status: HoldStatus;
  created_at: SqlDate;
  expires_at: SqlDate;
  booking_id: string | null;
}

export const EVENT_COLUMNS = 'id, name, date, total_tickets, available_tickets, held_tickets, max_tickets_per_booking, hold_seconds';
export const HOLD_COLUMNS = 'id, event_id, tickets, status, created_at, expires_at, booking_id';

export const iso = (value: SqlDate): string => (typeof value === 'string' ? value : value.toISOString());

export function toEvent(row: EventRow): Event {
  return {
    id: row.id,
    name: row.name,
    date: iso(row.date),
    totalTickets: row.total_tickets,
    availableTickets: row.available_tickets,
    heldTickets: row.held_tickets,
    maxTicketsPerBooking: row.max_tickets_per_booking,
    holdSeconds: row.hold_seconds,
  };
}

export function toHold(row: HoldRow): Hold {
  const hold: Hold = {
    id: row.id,
    eventId: row.event_id,
    tickets: row.tickets,
    status: row.status,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
  };
  if (row.booking_id) hold.bookingId = row.booking_id;
  return hold;
}
