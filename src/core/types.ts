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
  /** Whether door devices may admit while offline and upload their scans later (default false). */
  offlineCheckIn: boolean;
  /** Tickets admitted at the door so far (each ticket counts once). */
  checkedInTickets: number;
  /** What the event is, for buyers (0–2000 characters). */
  description: string;
  /** Where it takes place (0–200 characters). */
  venue: string;
  /** The IANA time zone screens show `date` in, with its label (`Europe/Berlin`). */
  timeZone: string;
  /** Whether buyers may book and hold now (the organiser closes and reopens sales). */
  salesOpen: boolean;
  /** `cancelled`: every booking was cancelled and nothing more is sold. */
  status: EventStatus;
  /** Whether booking and hold forms ask for the buyer's name and email. */
  buyerDetails: BuyerDetailsSetting;
  /** RFC 3339: when holds and bookings open (`null`: on sale now). Before it they are refused `not_on_sale`. */
  onSaleAt: string | null;
  /** Whether buyers go through the virtual waiting room (a line, then a single-use admission pass). */
  waitingRoom: boolean;
  /** When the room takes joins: `onSaleAt` minus the server's lead time (`null` without a room or a sale time). */
  waitingRoomOpensAt: string | null;
  /** Admitted buyers not yet finished at once (`null`: derived from the stock, see README "Waiting room"). */
  queueWindow: number | null;
}

export type EventStatus = 'scheduled' | 'cancelled';
export type BuyerDetailsSetting = 'none' | 'optional' | 'required';

/** Who the buyer says they are: stored with the booking, shown to the organiser only, never logged. */
export interface BuyerContact {
  name?: string;
  email?: string;
}

/** What an organiser may change of an event (`PATCH /events/:id`), validated by `validateEventPatch`. */
export interface EventPatch {
  name?: string;
  date?: string;
  description?: string;
  venue?: string;
  timeZone?: string;
  totalTickets?: number;
  maxTicketsPerBooking?: number;
  holdSeconds?: number;
  maxHeldPerBuyer?: number;
  maxTicketsPerBuyer?: number;
  buyerDetails?: BuyerDetailsSetting;
  salesOpen?: boolean;
  onSaleAt?: string | null;
  waitingRoom?: boolean;
  queueWindow?: number | null;
}

/** One booking of an event as the organiser's list shows it (admin only). */
export interface AdminBooking {
  id: string;
  eventId: string;
  createdAt: string;
  tickets: Ticket[];
  validTickets: number;
  cancelledTickets: number;
  checkedIn: number;
  status: 'active' | 'partly_cancelled' | 'cancelled';
  buyer?: BuyerContact;
}

export interface AdminBookingsPage {
  total: number;
  offset: number;
  limit: number;
  bookings: AdminBooking[];
}

export type TicketStatus = 'valid' | 'cancelled';

export interface Ticket {
  id: string;
  eventId: string;
  bookingId: string;
  status: TicketStatus;
  /** The signed code a door scans (`BO1.…`); in booking answers only. */
  code?: string;
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
  /** `GET /bookings/:id` only: whether the event still takes place (`cancelled`: every ticket was cancelled with it). */
  eventStatus?: EventStatus;
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
  offlineCheckIn: boolean;
  description: string;
  venue: string;
  /** Undefined: the server's default zone. */
  timeZone?: string;
  salesOpen: boolean;
  buyerDetails: BuyerDetailsSetting;
  onSaleAt: string | null;
  waitingRoom: boolean;
  queueWindow: number | null;
}

export const DEFAULT_MAX_TICKETS_PER_BOOKING = 100;
export const DEFAULT_HOLD_SECONDS = 600;

/** A door device of one event (its token is shown once, when it is created). */
export interface Door {
  id: string;
  eventId: string;
  name: string;
  createdAt: string;
  /** Set once the organiser revoked it: its token is refused from then on. */
  revokedAt?: string;
}

/** A door as `GET /events/:id/doors` lists it. */
export interface DoorSummary extends Door {
  /** Tickets this door admitted. */
  admitted: number;
}

/** The door and time of a ticket's admission (what a door shows for a second scan). */
export interface FirstCheckIn {
  door: { id: string; name: string };
  at: string;
}

/**
 * What a scan did: `admitted` the ticket, or (offline scans only) found it admitted by another
 * door first: a `conflict`, recorded and reported.
 */
export interface ScanResult {
  outcome: 'admitted' | 'conflict';
  ticket: { id: string; eventId: string; bookingId: string };
  door: { id: string; name: string };
  /** When the scan happened: the server's time online, the door's own `scannedAt` offline. */
  at: string;
  /** For a conflict: the admission that came first. */
  firstCheckIn?: FirstCheckIn;
}

/** One recorded scan, as the organiser's views list it. */
export interface ScanRecord {
  ticketId: string;
  door: { id: string; name: string };
  at: string;
  outcome: 'admitted' | 'already_checked_in' | 'conflict' | 'cancelled';
  offline: boolean;
}

/** One ticket of an event with its booking and check-in, for the attendee list. */
export interface AttendeeRow {
  ticketId: string;
  bookingId: string;
  bookedAt: string;
  status: TicketStatus;
  checkedInAt?: string;
  door?: string;
  name?: string;
  email?: string;
}

/** The issue-17 fields of an event that sets none of them (tests and older callers build events with it). */
export const EVENT_LIFECYCLE_DEFAULTS = {
  description: '',
  venue: '',
  timeZone: 'UTC',
  salesOpen: true,
  status: 'scheduled',
  buyerDetails: 'none',
  onSaleAt: null,
  waitingRoom: false,
  waitingRoomOpensAt: null,
  queueWindow: null,
} as const satisfies Pick<Event, 'description' | 'venue' | 'timeZone' | 'salesOpen' | 'status' | 'buyerDetails' | 'onSaleAt' | 'waitingRoom' | 'waitingRoomOpensAt' | 'queueWindow'>;

/** One scan a door made offline, uploaded later (`POST /events/:id/checkins/sync`). */
export interface OfflineScan {
  code: string;
  /** 16–64 visible ASCII characters, unique per scan of this door. */
  nonce: string;
  /** RFC 3339, the door's own clock. */
  scannedAt: string;
}

/** The answer to one uploaded offline scan. */
export interface SyncResult {
  nonce: string;
  outcome: 'admitted' | 'conflict' | 'refused';
  ticketId?: string;
  error?: string;
  message?: string;
  firstCheckIn?: FirstCheckIn;
  replayed?: boolean;
}

/** What an offline door needs (`GET /events/:id/door-list` adds `publicKeys`). */
export interface DoorListing {
  /** The door the list was made for (its screens show the name from the start). */
  door: { id: string; name: string };
  eventId: string;
  eventName: string;
  publicKey: string;
  offlineAllowed: boolean;
  generatedAt: string;
  cancelled: string[];
  checkedIn: string[];
  /** Tickets this door scanned that another door also admitted (offline). */
  conflicts: ConflictGroup[];
}

export interface ConflictGroup {
  ticketId: string;
  scans: Array<{ door: { id: string; name: string }; at: string; offline: boolean; outcome: ScanRecord['outcome'] }>;
}

/** `GET /events/:id/door-list` as it travels. */
export interface DoorList extends DoorListing {
  /** Every key a genuine code may be signed with (current first; more than one after a server key rotation). */
  publicKeys: string[];
}

/**
 * A buyer's place in an event's waiting room (issue 13). `waiting` in line, `admitted` with a pass,
 * `done` (the pass was used), `expired` (the pass ran out unused), `sold_out` (nothing left to wait for).
 */
export type QueueState = 'waiting' | 'admitted' | 'done' | 'expired' | 'sold_out';

/** `POST /events/:id/queue` and `GET /events/:id/queue/:entryId`. */
export interface QueueEntry {
  id: string;
  eventId: string;
  /** Signed by the server; proves the entry (`Queue-Token` header). */
  token: string;
  state: QueueState;
  /** From 1; `null` until the sale opens and the pre-sale joiners are shuffled. Final once set. */
  position: number | null;
  /** People in front still waiting. */
  ahead: number | null;
  etaSeconds: number | null;
  joinedAt: string;
  /** When the order is drawn (the event's `onSaleAt`). */
  shuffleAt: string | null;
  /** The single-use admission pass (`Admission-Pass` header), once admitted. */
  pass: string | null;
  passExpiresAt: string | null;
  /** Nothing is available but tickets are held by others: the line waits for them. */
  heldElsewhere: boolean;
}

/** One event's line on `GET /events/stream` (`{"type":"queue"}`): enough for a client to place itself. */
export interface QueueUpdate {
  eventId: string;
  /** The highest position admitted so far (0 before anyone). */
  serving: number;
  /** Entries in the line (every state). */
  length: number;
  soldOut: boolean;
  heldElsewhere: boolean;
  paused: boolean;
  admitRatePerMinute: number;
  /** The sale has opened and the order is drawn. */
  open: boolean;
}

/** `GET /events/:id/queue` (admin). */
export interface QueueSummary {
  eventId: string;
  length: number;
  waiting: number;
  admitted: number;
  /** Admitted with a pass still valid and not used (counts against the window). */
  inProgress: number;
  done: number;
  expired: number;
  serving: number;
  /** The window in force (the event's `queueWindow`, or the derived default). */
  window: number;
  paused: boolean;
  admitRatePerMinute: number;
  open: boolean;
  opensAt: string | null;
  onSaleAt: string | null;
}
