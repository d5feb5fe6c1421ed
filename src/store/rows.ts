import type { Admission, StoredDoor, StoredHold } from '../core/effects.js';
import type { QueueLine, QueueLineRead, StoredQueueEntry, StoredQueueState } from '../core/queue-effects.js';
import type { AdminBooking, AttendeeRow, BuyerContact, BuyerDetailsSetting, Event, EventStatus, Hold, HoldStatus, ScanRecord } from '../core/types.js';

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
  /** 0/1 on SQLite, boolean on PostgreSQL. */
  offline_checkin: number | boolean;
  checked_in_tickets: number;
  description: string;
  venue: string;
  time_zone: string;
  /** 0/1 on SQLite, boolean on PostgreSQL. */
  sales_open: number | boolean;
  status: EventStatus;
  buyer_details: BuyerDetailsSetting;
  on_sale_at: SqlDate | null;
  /** 0/1 on SQLite, boolean on PostgreSQL. */
  waiting_room: number | boolean;
  waiting_room_opens_at: SqlDate | null;
  queue_window: number | null;
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
  buyer_name: string | null;
  buyer_email: string | null;
}

/** The columns a new event row is inserted with; the sale settings (issue 13) follow in a statement of their own. */
export const EVENT_INSERT_COLUMNS =
  'id, name, date, total_tickets, available_tickets, held_tickets, max_tickets_per_booking, hold_seconds, max_held_per_buyer, max_tickets_per_buyer, offline_checkin, checked_in_tickets, description, venue, time_zone, sales_open, status, buyer_details';
export const EVENT_COLUMNS = `${EVENT_INSERT_COLUMNS}, on_sale_at, waiting_room, waiting_room_opens_at, queue_window`;
export const HOLD_COLUMNS = 'id, event_id, tickets, status, created_at, expires_at, booking_id, buyer, buyer_name, buyer_email';

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
    offlineCheckIn: row.offline_checkin === true || row.offline_checkin === 1,
    checkedInTickets: row.checked_in_tickets,
    description: row.description,
    venue: row.venue,
    timeZone: row.time_zone,
    salesOpen: row.sales_open === true || row.sales_open === 1,
    status: row.status,
    buyerDetails: row.buyer_details,
    onSaleAt: row.on_sale_at === null ? null : iso(row.on_sale_at),
    waitingRoom: row.waiting_room === true || row.waiting_room === 1,
    waitingRoomOpensAt: row.waiting_room_opens_at === null ? null : iso(row.waiting_room_opens_at),
    queueWindow: row.queue_window,
  };
}

/** The buyer's details from two nullable columns (undefined when neither was given). */
export function toContact(name: string | null | undefined, email: string | null | undefined): BuyerContact | undefined {
  if (!name && !email) return undefined;
  const contact: BuyerContact = {};
  if (name) contact.name = name;
  if (email) contact.email = email;
  return contact;
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
  const contact = toContact(row.buyer_name, row.buyer_email);
  if (contact) hold.contact = contact;
  return hold;
}

export interface DoorRow {
  id: string;
  event_id: string;
  name: string;
  token_hash: string;
  created_at: SqlDate;
  revoked_at: SqlDate | null;
}

export const DOOR_COLUMNS = 'id, event_id, name, token_hash, created_at, revoked_at';

export function toStoredDoor(row: DoorRow): StoredDoor {
  const door: StoredDoor = { id: row.id, eventId: row.event_id, name: row.name, tokenHash: row.token_hash, createdAt: iso(row.created_at) };
  if (row.revoked_at) door.revokedAt = iso(row.revoked_at);
  return door;
}

export interface AdmissionRow {
  ticket_id: string;
  event_id: string;
  booking_id: string;
  door_id: string;
  at: SqlDate;
  offline: number | boolean;
}

export const ADMISSION_COLUMNS = 'ticket_id, event_id, booking_id, door_id, at, offline';

export function toAdmission(row: AdmissionRow): Admission {
  return { ticketId: row.ticket_id, eventId: row.event_id, bookingId: row.booking_id, doorId: row.door_id, at: iso(row.at), offline: row.offline === true || row.offline === 1 };
}

/** A scan joined with its door's name. */
export interface ScanRow {
  ticket_id: string;
  door_id: string;
  door_name: string;
  at: SqlDate;
  outcome: ScanRecord['outcome'];
  offline: number | boolean;
}

export function toScanRecord(row: ScanRow): ScanRecord {
  return { ticketId: row.ticket_id, door: { id: row.door_id, name: row.door_name }, at: iso(row.at), outcome: row.outcome, offline: row.offline === true || row.offline === 1 };
}

export interface AttendeeSqlRow {
  ticket_id: string;
  booking_id: string;
  booked_at: SqlDate;
  cancelled: number | boolean;
  checked_in_at: SqlDate | null;
  door_name: string | null;
  buyer_name: string | null;
  buyer_email: string | null;
}

export function toAttendee(row: AttendeeSqlRow): AttendeeRow {
  const attendee: AttendeeRow = {
    ticketId: row.ticket_id,
    bookingId: row.booking_id,
    bookedAt: iso(row.booked_at),
    status: row.cancelled === true || row.cancelled === 1 ? 'cancelled' : 'valid',
  };
  if (row.checked_in_at) attendee.checkedInAt = iso(row.checked_in_at);
  if (row.door_name !== null) attendee.door = row.door_name;
  if (row.buyer_name) attendee.name = row.buyer_name;
  if (row.buyer_email) attendee.email = row.buyer_email;
  return attendee;
}

/** One booking of the organiser's list: its tickets (ids, cancelled flags) and admissions aggregated. */
export interface AdminBookingRow {
  id: string;
  event_id: string;
  created_at: SqlDate;
  buyer_name: string | null;
  buyer_email: string | null;
  ticket_ids: string[];
  cancelled: boolean[];
  checked_in: number;
}

export function toAdminBooking(row: AdminBookingRow): AdminBooking {
  const tickets = row.ticket_ids.map((id, i) => ({ id, eventId: row.event_id, bookingId: row.id, status: row.cancelled[i] ? ('cancelled' as const) : ('valid' as const) }));
  const cancelledTickets = tickets.filter((t) => t.status === 'cancelled').length;
  const booking: AdminBooking = {
    id: row.id,
    eventId: row.event_id,
    createdAt: iso(row.created_at),
    tickets,
    validTickets: tickets.length - cancelledTickets,
    cancelledTickets,
    checkedIn: Number(row.checked_in),
    status: cancelledTickets === 0 ? 'active' : cancelledTickets === tickets.length ? 'cancelled' : 'partly_cancelled',
  };
  const contact = toContact(row.buyer_name, row.buyer_email);
  if (contact) booking.buyer = contact;
  return booking;
}

/** `search` as a LIKE pattern: %, _ and the escape character taken literally (ESCAPE '\\'). */
export function likePattern(search: string): string {
  return `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The waiting room's rows (issue 13), as both SQL adapters read them. */
export interface QueueLineRow {
  event_id: string;
  version: number;
  joined: number;
  positioned: number;
  opened_at: SqlDate | null;
  serving: number;
  paused: number | boolean;
  /** Counted with the line: passes neither used nor marked expired, and of those, the ones past their time. */
  admitted: number | string;
  due: number | string;
}

export interface QueueEntryRow {
  id: string;
  event_id: string;
  buyer: string;
  seq: number;
  position: number | null;
  state: StoredQueueState;
  joined_at: SqlDate;
  admitted_at: SqlDate | null;
  pass_expires_at: SqlDate | null;
  finished_at: SqlDate | null;
}

export const QUEUE_ENTRY_COLUMNS = 'id, event_id, buyer, seq, position, state, joined_at, admitted_at, pass_expires_at, finished_at';
export const QUEUE_LINE_COLUMNS = 'event_id, version, joined, positioned, opened_at, serving, paused';

const isoOrNull = (value: SqlDate | null): string | null => (value === null ? null : iso(value));

/** The line's own row (no counts): what a buyer's poll reads. */
export function toPlainQueueLine(row: Omit<QueueLineRow, 'admitted' | 'due'>): QueueLine {
  return {
    eventId: row.event_id,
    version: row.version,
    joined: row.joined,
    positioned: row.positioned,
    openedAt: isoOrNull(row.opened_at),
    serving: row.serving,
    paused: row.paused === true || row.paused === 1,
  };
}

export function toQueueLine(row: QueueLineRow): QueueLineRead {
  return { ...toPlainQueueLine(row), admitted: Number(row.admitted), due: Number(row.due) };
}

export function toQueueEntry(row: QueueEntryRow): StoredQueueEntry {
  return {
    id: row.id,
    eventId: row.event_id,
    buyer: row.buyer,
    seq: row.seq,
    position: row.position,
    state: row.state,
    joinedAt: iso(row.joined_at),
    admittedAt: isoOrNull(row.admitted_at),
    passExpiresAt: isoOrNull(row.pass_expires_at),
    finishedAt: isoOrNull(row.finished_at),
  };
}
