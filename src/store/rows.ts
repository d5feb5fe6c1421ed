import type { StoredHold } from '../core/effects.js';
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
  /** NULL for events made before per-buyer limits existed: the defaults apply. */
  max_held_per_buyer: number | null;
  max_tickets_per_buyer: number | null;
}

export interface HoldRow {
  id: string;
  event_id: string;
  tickets: number;
  status: HoldStatus;
  created_at: SqlDate;
  expires_at: SqlDate;
  booking_id: string | null;
  buyer: string | null;
}

export const EVENT_COLUMNS =
  'id, name, date, total_tickets, available_tickets, held_tickets, max_tickets_per_booking, hold_seconds, max_held_per_buyer, max_tickets_per_buyer';
export const HOLD_COLUMNS = 'id, event_id, tickets, status, created_at, expires_at, booking_id, buyer';

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
    maxHeldPerBuyer: row.max_held_per_buyer ?? row.max_tickets_per_booking,
    maxTicketsPerBuyer: row.max_tickets_per_buyer ?? row.total_tickets,
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

/** A hold with its buyer, for the write path only. */
export function toStoredHold(row: HoldRow): StoredHold {
  const hold: StoredHold = toHold(row);
  if (row.buyer) hold.buyer = row.buyer;
  return hold;
}
