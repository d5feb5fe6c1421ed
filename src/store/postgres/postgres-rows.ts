import type pg from 'pg';
import type { KeyClaim } from '../../core/commands.js';
import type { Admission, BuyerTickets, Effects, EventFields, StoredBooking, StoredDoor, StoredHold, StoredKey, TicketRef } from '../../core/effects.js';
import type { AsyncRowAccess } from '../../core/store.js';
import type { QueueEntryQuery, QueueLineRead, StoredQueueEntry } from '../../core/queue-effects.js';
import { applyQueue, lockEntries, lockLines } from './postgres-queue.js';
import type { Event } from '../../core/types.js';
import { PATCHABLE_FIELDS } from '../../core/validation.js';
import { ADMISSION_COLUMNS, DOOR_COLUMNS, EVENT_COLUMNS, EVENT_INSERT_COLUMNS, HOLD_COLUMNS, toAdmission, toEvent, toStoredDoor, toStoredHold, type AdmissionRow, type DoorRow, type EventRow, type HoldRow } from '../rows.js';

/** The order of the event fields the `moved` step writes ($75 to $87). */
const UPDATE_FIELDS = [...PATCHABLE_FIELDS, 'status'] as const satisfies ReadonlyArray<keyof EventFields>;

/** A pooled client or the pool itself: reads run inside a transaction or on their own. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** Where this node announces its commits (see ChangeFeed). */
export interface Notice {
  channel: string;
  nodeId: string;
}

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

/**
 * The PostgreSQL side of the write plan, on the batch's connection. Every read of a row that the
 * batch may change takes its row lock (FOR UPDATE), in the plan's fixed order and sorted by id, so
 * nodes never deadlock; the locks hold until COMMIT, so decisions are made on rows nobody else
 * can change meanwhile.
 */
export class PostgresRows implements AsyncRowAccess {
  constructor(
    private readonly client: pg.PoolClient,
    private readonly notice: Notice,
  ) {}

  /**
   * Claims keys by inserting them: a key another transaction is deciding right now makes this wait
   * for its COMMIT, so a concurrent repeat on another node replays instead of booking twice. An
   * expired key is claimed afresh, as if it had never been used. Returns the keys already decided.
   */
  async claimKeys(claims: KeyClaim[], now: string, cutoff: string): Promise<StoredKey[]> {
    const keys = claims.map((c) => c.key);
    const claimed = await this.client.query<{ key: string }>({
      name: 'claim-keys',
      text: `INSERT INTO idempotency_keys (key, fingerprint, created_at) SELECT * FROM unnest($1::text[], $2::text[]) AS d(key, f), (SELECT $3::timestamptz) AS c
             ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, created_at = excluded.created_at, result = NULL
             WHERE idempotency_keys.created_at < $4
             RETURNING key`,
      values: [keys, claims.map((c) => c.fingerprint), now, cutoff],
    });
    const mine = new Set(claimed.rows.map((r) => r.key));
    const decided = keys.filter((k) => !mine.has(k));
    return decided.length === 0 ? [] : this.keys(decided);
  }

  async keys(keys: string[]): Promise<StoredKey[]> {
    const { rows } = await this.client.query<{ key: string; fingerprint: string; result: string | null; created_at: Date }>({
      name: 'read-keys',
      text: 'SELECT key, fingerprint, result, created_at FROM idempotency_keys WHERE key = ANY($1::text[]) AND result IS NOT NULL',
      values: [keys],
    });
    return rows.map((row) => ({ key: row.key, fingerprint: row.fingerprint, result: row.result!, createdAt: row.created_at.toISOString() }));
  }

  holds(ids: string[]): Promise<StoredHold[]> {
    return readHolds(this.client, ids, true);
  }

  /** SKIP LOCKED: a hold another node is expiring (or a buyer confirming) right now is theirs to end. */
  async lockActiveHolds(eventIds: string[]): Promise<void> {
    await this.client.query({
      name: 'lock-event-holds',
      text: "SELECT 1 FROM holds WHERE event_id = ANY($1::uuid[]) AND status = 'active' ORDER BY id FOR UPDATE",
      values: [eventIds],
    });
  }

  async dueHolds(now: string, limit: number): Promise<StoredHold[]> {
    const { rows } = await this.client.query<HoldRow>({
      name: 'lock-due-holds',
      text: `SELECT ${HOLD_COLUMNS} FROM holds WHERE status = 'active' AND expires_at <= $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED`,
      values: [now, limit],
    });
    return rows.map(toStoredHold);
  }

  /**
   * Creates missing counter rows, then locks them all: a row another transaction is creating makes
   * the insert wait for it, so two nodes never both count from zero for one buyer.
   */
  async buyers(pairs: Array<{ eventId: string; buyer: string }>): Promise<BuyerTickets[]> {
    const eventIds = pairs.map((p) => p.eventId);
    const buyers = pairs.map((p) => p.buyer);
    await this.client.query({
      name: 'claim-buyers',
      text: `INSERT INTO buyer_tickets (event_id, buyer, held, bought) SELECT e, b, 0, 0 FROM unnest($1::uuid[], $2::text[]) AS d(e, b)
             ON CONFLICT (event_id, buyer) DO NOTHING`,
      values: [eventIds, buyers],
    });
    const { rows } = await this.client.query<BuyerTickets>({
      name: 'lock-buyers',
      text: `SELECT t.event_id AS "eventId", t.buyer, t.held, t.bought FROM buyer_tickets t
             JOIN unnest($1::uuid[], $2::text[]) AS d(e, b) ON t.event_id = d.e AND t.buyer = d.b
             ORDER BY t.event_id, t.buyer FOR UPDATE OF t`,
      values: [eventIds, buyers],
    });
    return rows;
  }

  async bookings(ids: string[]): Promise<StoredBooking[]> {
    await this.client.query({ name: 'lock-bookings', text: 'SELECT 1 FROM bookings WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', values: [ids] });
    return readBookings(this.client, ids);
  }

  async events(ids: string[]): Promise<Event[]> {
    const { rows } = await this.client.query<EventRow>({
      name: 'lock-events',
      text: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      values: [ids],
    });
    return rows.map(toEvent);
  }

  /**
   * Tickets with their state, read after the events step locked their event: a cancellation also
   * locks the event, so what this reads cannot change before COMMIT.
   */
  async tickets(ids: string[]): Promise<TicketRef[]> {
    const { rows } = await this.client.query<{ id: string; event_id: string; booking_id: string; cancelled: boolean }>({
      name: 'get-ticket-refs',
      text: 'SELECT id, event_id, booking_id, cancelled_at IS NOT NULL AS cancelled FROM tickets WHERE id = ANY($1::uuid[])',
      values: [ids],
    });
    return rows.map((r) => ({ id: r.id, eventId: r.event_id, bookingId: r.booking_id, cancelled: r.cancelled }));
  }

  /** Locked: a revocation on another node waits for the scans in flight, and they see it after. */
  async doors(ids: string[]): Promise<StoredDoor[]> {
    const { rows } = await this.client.query<DoorRow>({
      name: 'lock-doors',
      text: `SELECT ${DOOR_COLUMNS} FROM doors WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      values: [ids],
    });
    return rows.map(toStoredDoor);
  }

  /**
   * Read after the tickets' event was locked: an admission of one of these tickets by another node
   * has committed by then (it held the same event lock), so this statement sees it.
   */
  async admissions(ticketIds: string[]): Promise<Admission[]> {
    const { rows } = await this.client.query<AdmissionRow>({
      name: 'get-admissions',
      text: `SELECT ${ADMISSION_COLUMNS} FROM checkins WHERE ticket_id = ANY($1::uuid[])`,
      values: [ticketIds],
    });
    return rows.map(toAdmission);
  }

  queueLines(eventIds: string[], now: string): Promise<QueueLineRead[]> {
    return lockLines(this.client, eventIds, now);
  }

  queueEntries(query: QueueEntryQuery): Promise<StoredQueueEntry[]> {
    return lockEntries(this.client, query);
  }

  /**
   * Every effect in one statement (one round trip for a whole batch): the conditional counter moves,
   * the inserts, the hold and ticket state changes, the keys and the notification to other nodes.
   * If any conditional write changes fewer rows than decided, it throws and the batch rolls back.
   */
  async apply(effects: Effects): Promise<void> {
    const e = effects;
    const stock = [...e.stock.entries()];
    const tickets = e.newBookings.flatMap((b) => b.tickets.map((t) => [t.id, b.id, b.eventId] as const));
    const cancelled = e.cancelledTickets.flatMap((c) => c.ticketIds.map((id) => [id, c.bookingId, c.at] as const));
    const buyers = [...e.buyers.values()];
    // A setting changes the event row, which `moved` below may change too: one statement may not
    // change a row twice, so settings (rare) go first, on their own.
    for (const [eventId, settings] of e.eventSettings) {
      const { rowCount } = await this.client.query('UPDATE events SET offline_checkin = $1 WHERE id = $2', [settings.offlineCheckIn, eventId]);
      if (rowCount !== 1) throw new Error(`event ${eventId} is gone: the batch was rolled back`);
    }
    const { rows } = await this.client.query<{ moved: number; buyers: number; ended: number; cancelled: number; revoked: number; admitted: number }>({
      name: 'apply-effects',
      text: `WITH new_events AS (
               INSERT INTO events (${EVENT_INSERT_COLUMNS})
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[], $10::int[], $46::boolean[], $47::int[],
                                $69::text[], $70::text[], $71::text[], $72::boolean[], $73::text[], $74::text[])),
             moved AS (
               UPDATE events e SET available_tickets = e.available_tickets + d.a, held_tickets = e.held_tickets + d.h, checked_in_tickets = e.checked_in_tickets + d.c,
                 name = coalesce(d.name, e.name), date = coalesce(d.date, e.date), description = coalesce(d.descr, e.description),
                 venue = coalesce(d.venue, e.venue), time_zone = coalesce(d.tz, e.time_zone), total_tickets = coalesce(d.total, e.total_tickets),
                 max_tickets_per_booking = coalesce(d.mtpb, e.max_tickets_per_booking), hold_seconds = coalesce(d.hs, e.hold_seconds),
                 max_held_per_buyer = coalesce(d.mhpb, e.max_held_per_buyer), max_tickets_per_buyer = coalesce(d.mtpu, e.max_tickets_per_buyer),
                 buyer_details = coalesce(d.bd, e.buyer_details), sales_open = coalesce(d.so, e.sales_open), status = coalesce(d.st, e.status)
               FROM unnest($11::uuid[], $12::int[], $13::int[], $48::int[], $75::text[], $76::timestamptz[], $77::text[], $78::text[], $79::text[],
                           $80::int[], $81::int[], $82::int[], $83::int[], $84::int[], $85::text[], $86::boolean[], $87::text[])
                    AS d(id, a, h, c, name, date, descr, venue, tz, total, mtpb, hs, mhpb, mtpu, bd, so, st)
               WHERE e.id = d.id AND e.available_tickets + d.a >= 0 AND e.held_tickets + d.h >= 0
               RETURNING e.id),
             buyers AS (
               UPDATE buyer_tickets t SET held = t.held + d.h, bought = t.bought + d.b
               FROM unnest($14::uuid[], $15::text[], $16::int[], $17::int[]) AS d(e, buyer, h, b)
               WHERE t.event_id = d.e AND t.buyer = d.buyer
               RETURNING 1),
             new_bookings AS (
               INSERT INTO bookings (id, event_id, tickets, created_at, secret_hash, buyer, buyer_name, buyer_email)
               SELECT * FROM unnest($18::uuid[], $19::uuid[], $20::int[], $21::timestamptz[], $22::text[], $23::text[], $88::text[], $89::text[])),
             new_tickets AS (
               INSERT INTO tickets (id, booking_id, event_id) SELECT * FROM unnest($24::uuid[], $25::uuid[], $26::uuid[])),
             new_holds AS (
               INSERT INTO holds (id, event_id, tickets, status, created_at, expires_at, buyer, buyer_name, buyer_email)
               SELECT d.id, d.e, d.n, 'active', d.c, d.x, d.b, d.bn, d.be
               FROM unnest($27::uuid[], $28::uuid[], $29::int[], $30::timestamptz[], $31::timestamptz[], $32::text[], $90::text[], $91::text[]) AS d(id, e, n, c, x, b, bn, be)),
             ended AS (
               UPDATE holds h SET status = d.s, booking_id = d.b
               FROM unnest($33::uuid[], $34::text[], $35::uuid[]) AS d(id, s, b)
               WHERE h.id = d.id AND h.status = 'active'
               RETURNING h.id),
             cancelled AS (
               UPDATE tickets t SET cancelled_at = d.at
               FROM unnest($36::uuid[], $37::uuid[], $38::timestamptz[]) AS d(id, b, at)
               WHERE t.id = d.id AND t.booking_id = d.b AND t.cancelled_at IS NULL
               RETURNING t.id),
             remembered AS (
               INSERT INTO idempotency_keys (key, fingerprint, result, created_at)
               SELECT * FROM unnest($39::text[], $40::text[], $41::text[], $42::timestamptz[])
               ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, result = excluded.result, created_at = excluded.created_at),
             forgotten AS (
               DELETE FROM idempotency_keys WHERE key = ANY($43::text[]) AND result IS NULL),
             new_doors AS (
               INSERT INTO doors (id, event_id, name, token_hash, created_at)
               SELECT * FROM unnest($49::uuid[], $50::uuid[], $51::text[], $52::text[], $53::timestamptz[])),
             revoked AS (
               UPDATE doors SET revoked_at = d.at FROM unnest($54::uuid[], $55::timestamptz[]) AS d(id, at)
               WHERE doors.id = d.id AND doors.revoked_at IS NULL
               RETURNING 1),
             admitted AS (
               INSERT INTO checkins (ticket_id, event_id, booking_id, door_id, at, offline)
               SELECT * FROM unnest($56::uuid[], $57::uuid[], $58::uuid[], $59::uuid[], $60::timestamptz[], $61::boolean[])
               ON CONFLICT (ticket_id) DO NOTHING
               RETURNING 1),
             new_scans AS (
               INSERT INTO scans (event_id, ticket_id, door_id, at, recorded_at, outcome, offline)
               SELECT * FROM unnest($62::uuid[], $63::uuid[], $64::uuid[], $65::timestamptz[], $66::timestamptz[], $67::text[], $68::boolean[]))
             SELECT (SELECT count(*)::int FROM moved) AS moved, (SELECT count(*)::int FROM buyers) AS buyers,
                    (SELECT count(*)::int FROM ended) AS ended, (SELECT count(*)::int FROM cancelled) AS cancelled,
                    (SELECT count(*)::int FROM revoked) AS revoked, (SELECT count(*)::int FROM admitted) AS admitted, pg_notify($44, $45)`,
      values: [
        e.newEvents.map((v) => v.id),
        e.newEvents.map((v) => v.name),
        e.newEvents.map((v) => v.date),
        e.newEvents.map((v) => v.totalTickets),
        e.newEvents.map((v) => v.availableTickets),
        e.newEvents.map((v) => v.heldTickets),
        e.newEvents.map((v) => v.maxTicketsPerBooking),
        e.newEvents.map((v) => v.holdSeconds),
        e.newEvents.map((v) => v.maxHeldPerBuyer),
        e.newEvents.map((v) => v.maxTicketsPerBuyer),
        stock.map(([id]) => id),
        stock.map(([, m]) => m.available),
        stock.map(([, m]) => m.held),
        buyers.map((b) => b.eventId),
        buyers.map((b) => b.buyer),
        buyers.map((b) => b.held),
        buyers.map((b) => b.bought),
        e.newBookings.map((b) => b.id),
        e.newBookings.map((b) => b.eventId),
        e.newBookings.map((b) => b.tickets.length),
        e.newBookings.map((b) => b.createdAt),
        e.newBookings.map((b) => b.secretHash ?? null),
        e.newBookings.map((b) => b.buyer ?? null),
        tickets.map((t) => t[0]),
        tickets.map((t) => t[1]),
        tickets.map((t) => t[2]),
        e.newHolds.map((h) => h.id),
        e.newHolds.map((h) => h.eventId),
        e.newHolds.map((h) => h.tickets),
        e.newHolds.map((h) => h.createdAt),
        e.newHolds.map((h) => h.expiresAt),
        e.newHolds.map((h) => h.buyer ?? null),
        e.endedHolds.map((h) => h.id),
        e.endedHolds.map((h) => h.status),
        e.endedHolds.map((h) => h.bookingId ?? null),
        cancelled.map((c) => c[0]),
        cancelled.map((c) => c[1]),
        cancelled.map((c) => c[2]),
        e.rememberKeys.map((k) => k.key),
        e.rememberKeys.map((k) => k.fingerprint),
        e.rememberKeys.map((k) => k.result),
        e.rememberKeys.map((k) => k.createdAt),
        e.forgetKeys,
        this.notice.channel,
        this.notice.nodeId,
        e.newEvents.map((v) => v.offlineCheckIn),
        e.newEvents.map((v) => v.checkedInTickets),
        stock.map(([, m]) => m.checkedIn ?? 0),
        e.newDoors.map((d) => d.id),
        e.newDoors.map((d) => d.eventId),
        e.newDoors.map((d) => d.name),
        e.newDoors.map((d) => d.tokenHash),
        e.newDoors.map((d) => d.createdAt),
        e.revokedDoors.map((d) => d.id),
        e.revokedDoors.map((d) => d.at),
        e.admissions.map((a) => a.ticketId),
        e.admissions.map((a) => a.eventId),
        e.admissions.map((a) => a.bookingId),
        e.admissions.map((a) => a.doorId),
        e.admissions.map((a) => a.at),
        e.admissions.map((a) => a.offline),
        e.scans.map((v) => v.eventId),
        e.scans.map((v) => v.ticketId),
        e.scans.map((v) => v.doorId),
        e.scans.map((v) => v.at),
        e.scans.map((v) => v.recordedAt),
        e.scans.map((v) => v.outcome),
        e.scans.map((v) => v.offline),
        e.newEvents.map((v) => v.description),
        e.newEvents.map((v) => v.venue),
        e.newEvents.map((v) => v.timeZone),
        e.newEvents.map((v) => v.salesOpen),
        e.newEvents.map((v) => v.status),
        e.newEvents.map((v) => v.buyerDetails),
        ...UPDATE_FIELDS.map((field) => stock.map(([id]) => e.eventUpdates.get(id)?.[field] ?? null)),
        e.newBookings.map((b) => b.contact?.name ?? null),
        e.newBookings.map((b) => b.contact?.email ?? null),
        e.newHolds.map((h) => h.contact?.name ?? null),
        e.newHolds.map((h) => h.contact?.email ?? null),
      ],
    });
    const done = rows[0]! as { moved: number; buyers: number; ended: number; cancelled: number; revoked: number; admitted: number };
    if (
      done.moved !== stock.length ||
      done.buyers !== buyers.length ||
      done.ended !== e.endedHolds.length ||
      done.cancelled !== cancelled.length ||
      done.revoked !== e.revokedDoors.length ||
      done.admitted !== e.admissions.length
    ) {
      throw new Error('a conditional write found its row changed: the batch was rolled back');
    }
    // After the statement above (one statement may not change a row twice): what is left of a
    // cancelled event's tickets and holds goes with it. Its row is locked by this transaction.
    for (const c of e.cancelledEvents) {
      await this.client.query({ name: 'cancel-event-tickets', text: 'UPDATE tickets SET cancelled_at = $1 WHERE event_id = $2 AND cancelled_at IS NULL', values: [c.at, c.eventId] });
      await this.client.query({ name: 'release-event-holds', text: "UPDATE holds SET status = 'released' WHERE event_id = $1 AND status = 'active'", values: [c.eventId] });
    }
    await applyQueue(this.client, e);
  }
}
