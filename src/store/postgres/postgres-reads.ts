import type pg from 'pg';
import type { StoredBooking, StoredHold } from '../../core/effects.js';
import { HOLD_COLUMNS, toStoredHold, type HoldRow } from '../rows.js';

/** A pooled client or the pool itself: reads run inside a transaction or on their own. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

type BookingRow = { id: string; event_id: string; created_at: Date; secret_hash: string | null; buyer: string | null; ticket_ids: string[]; cancelled: boolean[] };

/** Bookings with their tickets in id order, and the hash of their secret. */
export async function readBookings(q: Queryable, ids: string[]): Promise<StoredBooking[]> {
  const { rows } = await q.query<BookingRow>({
    name: 'get-bookings',
    text: `SELECT b.id, b.event_id, b.created_at, b.secret_hash, b.buyer,
                  array_agg(t.id::text ORDER BY t.id::text) AS ticket_ids,
                  array_agg(t.cancelled_at IS NOT NULL ORDER BY t.id::text) AS cancelled
           FROM bookings b JOIN tickets t ON t.booking_id = b.id WHERE b.id = ANY($1::uuid[]) GROUP BY b.id`,
    values: [ids],
  });
  return rows.map((row) => {
    const booking: StoredBooking = {
      id: row.id,
      eventId: row.event_id,
      createdAt: row.created_at.toISOString(),
      tickets: row.ticket_ids.map((ticketId, i) => ({ id: ticketId, eventId: row.event_id, bookingId: row.id, status: row.cancelled[i] ? 'cancelled' : 'valid' })),
    };
    if (row.secret_hash) booking.secretHash = row.secret_hash;
    if (row.buyer) booking.buyer = row.buyer;
    return booking;
  });
}

/** Holds with their buyers (the write path's view; answers strip the buyer). */
export async function readHolds(q: Queryable, ids: string[], lock: boolean): Promise<StoredHold[]> {
  const { rows } = await q.query<HoldRow>({
    name: lock ? 'lock-holds' : 'get-holds',
    text: `SELECT ${HOLD_COLUMNS} FROM holds WHERE id = ANY($1::uuid[]) ORDER BY id${lock ? ' FOR UPDATE' : ''}`,
    values: [ids],
  });
  return rows.map(toStoredHold);
}
