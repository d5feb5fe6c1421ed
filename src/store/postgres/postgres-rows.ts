import type pg from 'pg';
import type { KeyClaim } from '../../core/commands.js';
import type { Admission, BuyerTickets, Effects, EventFields, StoredBooking, StoredDoor, StoredHold, StoredKey, TicketRef } from '../../core/effects.js';
import { readBookings, readHolds } from './postgres-reads.js';
import type { AsyncRowAccess } from '../../core/store.js';
import type { QueueEntryQuery, QueueLineRead, StoredQueueEntry } from '../../core/queue-effects.js';
import { applyQueue, lockEntries, lockLines } from './postgres-queue.js';
import type { Event } from '../../core/types.js';
import { PATCHABLE_FIELDS } from '../../core/validation.js';
import { eventTotalsSelect, foldShares, ShareShortage, type BatchEscrow } from './escrow.js';
import { ADMISSION_COLUMNS, DOOR_COLUMNS, EVENT_COLUMNS, EVENT_INSERT_COLUMNS, HOLD_COLUMNS, toAdmission, toEvent, toStoredDoor, toStoredHold, type AdmissionRow, type DoorRow, type EventRow, type HoldRow } from '../rows.js';

/** The order of the event fields the `moved` step writes ($73 to $85). */
const UPDATE_FIELDS = [...PATCHABLE_FIELDS, 'status'] as const satisfies ReadonlyArray<keyof EventFields>;

/**
 * The PostgreSQL side of the write plan, on the batch's connection. Every read of a row that the
 * batch may change takes its row lock (FOR UPDATE), in the plan's fixed order and sorted by id, so
 * nodes never deadlock; the locks hold until COMMIT, so decisions are made on rows nobody else
 * can change meanwhile.
 */
export class PostgresRows implements AsyncRowAccess {
  /** Whether `apply` wrote anything (the store then tells the other nodes, after COMMIT). */
  changed = false;
  /** Share mode: the events this node has a share row of (their stock moves go there). */
  private shared = new Set<string>();
  constructor(
    private readonly client: pg.PoolClient,
    private readonly escrow: BatchEscrow,
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

  async events(ids: string[]): Promise<Array<Event & { sellable?: number }>> {
    if (this.escrow.mode === 'event') {
      const { rows } = await this.client.query<EventRow>({
        name: 'lock-events',
        text: `SELECT ${EVENT_COLUMNS} FROM events WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`,
        values: [ids],
      });
      const folded = await foldShares(this.client, rows.map((r) => r.id));
      return rows.map((row) => {
        const event = toEvent(row);
        const back = folded.get(event.id);
        return back ? { ...event, availableTickets: event.availableTickets + back.available, heldTickets: event.heldTickets + back.held } : event;
      });
    }
    // Share mode: this node's share rows are the only locks, taken with the events as everyone sees
    // them, in one statement. Should a share's lock be waited for, the events' columns may be those of
    // the statement's start: harmless, because every event-level write deletes the event's shares
    // (foldShares), so a share that survived the wait was not under one; a steal changes only counts.
    const { rows: joined } = await this.client.query<EventRow & { mine: number }>({
      name: 'lock-my-shares',
      text: `${eventTotalsSelect(undefined, ', m.available AS mine')} JOIN event_shares m ON m.event_id = e.id AND m.node_id = $2 WHERE e.id = ANY($1::uuid[]) ORDER BY e.id FOR UPDATE OF m`,
      values: [ids, this.escrow.nodeId],
    });
    const shares = joined.map((r) => ({ event_id: r.id, available: r.mine }));
    let rows: EventRow[] = joined;
    if (joined.length < ids.length) {
      // Events without a share of this node's (or no such event): read on their own.
      const have = new Set(joined.map((r) => r.id));
      const rest = await this.client.query<EventRow>({ name: 'read-event-totals', text: `${eventTotalsSelect()} WHERE e.id = ANY($1::uuid[])`, values: [ids.filter((id) => !have.has(id))] });
      rows = [...joined, ...rest.rows];
    }
    const mine = new Map(shares.map((s) => [s.event_id, s.available]));
    const short = new Map<string, number>();
    const { demand, settled } = this.escrow;
    for (const row of rows) {
      const have = mine.get(row.id);
      const need = demand.get(row.id) ?? 0;
      if (settled === 'all') continue;
      // Without a row here even a release has nowhere to put its stock back: a top-up makes one.
      if (have === undefined || (have < need && !settled.has(row.id))) short.set(row.id, need);
    }
    if (short.size > 0) throw new ShareShortage(short);
    this.shared = new Set(mine.keys());
    return rows.map((row) => ({ ...toEvent(row), sellable: mine.get(row.id) ?? 0 }));
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
   * the inserts, the hold and ticket state changes and the keys. (The other nodes are told after
   * COMMIT, not here: see PostgresStore.announce.)
   * If any conditional write changes fewer rows than decided, it throws and the batch rolls back.
   */
  async apply(effects: Effects): Promise<void> {
    const e = effects;
    const share = this.escrow.mode === 'share';
    const stock = share ? [] : [...e.stock.entries()];
    const shareStock = share ? [...e.stock.entries()] : [];
    if (share && (e.eventUpdates.size > 0 || e.eventSettings.size > 0 || shareStock.some(([, m]) => (m.checkedIn ?? 0) !== 0))) throw new Error('an event-level change in a share-mode batch: the batch was rolled back');
    if (shareStock.some(([id]) => !this.shared.has(id))) throw new Error('stock of an event without a share on this node: the batch was rolled back');
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
               SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[], $10::int[], $44::boolean[], $45::int[],
                                $67::text[], $68::text[], $69::text[], $70::boolean[], $71::text[], $72::text[])),
             moved AS (
               UPDATE events e SET available_tickets = e.available_tickets + d.a, held_tickets = e.held_tickets + d.h, checked_in_tickets = e.checked_in_tickets + d.c,
                 name = coalesce(d.name, e.name), date = coalesce(d.date, e.date), description = coalesce(d.descr, e.description),
                 venue = coalesce(d.venue, e.venue), time_zone = coalesce(d.tz, e.time_zone), total_tickets = coalesce(d.total, e.total_tickets),
                 max_tickets_per_booking = coalesce(d.mtpb, e.max_tickets_per_booking), hold_seconds = coalesce(d.hs, e.hold_seconds),
                 max_held_per_buyer = coalesce(d.mhpb, e.max_held_per_buyer), max_tickets_per_buyer = coalesce(d.mtpu, e.max_tickets_per_buyer),
                 buyer_details = coalesce(d.bd, e.buyer_details), sales_open = coalesce(d.so, e.sales_open), status = coalesce(d.st, e.status)
               FROM unnest($11::uuid[], $12::int[], $13::int[], $46::int[], $73::text[], $74::timestamptz[], $75::text[], $76::text[], $77::text[],
                           $78::int[], $79::int[], $80::int[], $81::int[], $82::int[], $83::text[], $84::boolean[], $85::text[])
                    AS d(id, a, h, c, name, date, descr, venue, tz, total, mtpb, hs, mhpb, mtpu, bd, so, st)
               WHERE e.id = d.id AND e.available_tickets + d.a >= 0 AND e.held_tickets + d.h >= 0
               RETURNING e.id),
             share_moved AS (
               UPDATE event_shares s SET available = s.available + d.a, held = s.held + d.h
               FROM unnest($90::uuid[], $91::int[], $92::int[]) AS d(id, a, h)
               WHERE s.event_id = d.id AND s.node_id = $93 AND s.available + d.a >= 0
               RETURNING 1),
             buyers AS (
               UPDATE buyer_tickets t SET held = t.held + d.h, bought = t.bought + d.b
               FROM unnest($14::uuid[], $15::text[], $16::int[], $17::int[]) AS d(e, buyer, h, b)
               WHERE t.event_id = d.e AND t.buyer = d.buyer
               RETURNING 1),
             new_bookings AS (
               INSERT INTO bookings (id, event_id, tickets, created_at, secret_hash, buyer, buyer_name, buyer_email)
               SELECT * FROM unnest($18::uuid[], $19::uuid[], $20::int[], $21::timestamptz[], $22::text[], $23::text[], $86::text[], $87::text[])),
             new_tickets AS (
               INSERT INTO tickets (id, booking_id, event_id) SELECT * FROM unnest($24::uuid[], $25::uuid[], $26::uuid[])),
             new_holds AS (
               INSERT INTO holds (id, event_id, tickets, status, created_at, expires_at, buyer, buyer_name, buyer_email)
               SELECT d.id, d.e, d.n, 'active', d.c, d.x, d.b, d.bn, d.be
               FROM unnest($27::uuid[], $28::uuid[], $29::int[], $30::timestamptz[], $31::timestamptz[], $32::text[], $88::text[], $89::text[]) AS d(id, e, n, c, x, b, bn, be)),
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
               SELECT * FROM unnest($47::uuid[], $48::uuid[], $49::text[], $50::text[], $51::timestamptz[])),
             revoked AS (
               UPDATE doors SET revoked_at = d.at FROM unnest($52::uuid[], $53::timestamptz[]) AS d(id, at)
               WHERE doors.id = d.id AND doors.revoked_at IS NULL
               RETURNING 1),
             admitted AS (
               INSERT INTO checkins (ticket_id, event_id, booking_id, door_id, at, offline)
               SELECT * FROM unnest($54::uuid[], $55::uuid[], $56::uuid[], $57::uuid[], $58::timestamptz[], $59::boolean[])
               ON CONFLICT (ticket_id) DO NOTHING
               RETURNING 1),
             new_scans AS (
               INSERT INTO scans (event_id, ticket_id, door_id, at, recorded_at, outcome, offline)
               SELECT * FROM unnest($60::uuid[], $61::uuid[], $62::uuid[], $63::timestamptz[], $64::timestamptz[], $65::text[], $66::boolean[]))
             SELECT (SELECT count(*)::int FROM moved) + (SELECT count(*)::int FROM share_moved) AS moved, (SELECT count(*)::int FROM buyers) AS buyers,
                    (SELECT count(*)::int FROM ended) AS ended, (SELECT count(*)::int FROM cancelled) AS cancelled,
                    (SELECT count(*)::int FROM revoked) AS revoked, (SELECT count(*)::int FROM admitted) AS admitted`,
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
        shareStock.map(([id]) => id),
        shareStock.map(([, m]) => m.available),
        shareStock.map(([, m]) => m.held),
        this.escrow.nodeId,
      ],
    });
    this.changed = true;
    const done = rows[0]! as { moved: number; buyers: number; ended: number; cancelled: number; revoked: number; admitted: number };
    if (
      done.moved !== stock.length + shareStock.length ||
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
