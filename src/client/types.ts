import type {
  AdminBooking,
  AdminBookingsPage,
  Booking,
  BuyerContact,
  BuyerDetailsSetting,
  Door,
  DoorSummary,
  Event,
  EventPatch,
  EventStatus,
  FirstCheckIn,
  Hold,
  HoldStatus,
  QueueEntry,
  QueueState,
  QueueSummary,
  QueueUpdate,
  ScanRecord,
  ScanResult,
  Ticket,
  TicketStatus,
} from '../core/types.js';

export type {
  AdminBooking,
  AdminBookingsPage,
  Booking,
  BuyerContact,
  BuyerDetailsSetting,
  Door,
  DoorSummary,
  Event,
  EventPatch,
  EventStatus,
  FirstCheckIn,
  Hold,
  HoldStatus,
  QueueEntry,
  QueueState,
  QueueSummary,
  QueueUpdate,
  ScanRecord,
  Ticket,
  TicketStatus,
};

/** `POST /events/:id/doors`: the door with its token, shown only in this answer. */
export interface NewDoor extends Door {
  token: string;
}

/** `POST /events/:id/checkins`: admitted (a refusal is an ApiError). */
export type CheckInResult = ScanResult;

/** `GET /events/:id/door-list`. */
/** The door's wire shapes are core's: one definition for server, client and door screens. */
export type { ConflictGroup, DoorList, OfflineScan, SyncResult } from '../core/types.js';
import type { ConflictGroup } from '../core/types.js';
/** `GET /events/:id/door-list`. */
export type DoorListing = import('../core/types.js').DoorList;

/** `GET /events/:id/checkins`. */
export interface CheckinReport {
  checkedIn: number;
  recent: ScanRecord[];
  conflicts: ConflictGroup[];
}

/** What an organiser sends to `POST /events`. */
export interface NewEventInput {
  name: string;
  date: string;
  totalTickets: number;
  maxTicketsPerBooking?: number;
  /** How long a hold on this event lasts, in seconds (1…86400; the server's default is 600). */
  holdSeconds?: number;
  /** Tickets one buyer may hold at once (server default: maxTicketsPerBooking). */
  maxHeldPerBuyer?: number;
  /** Tickets one buyer may have in all, bought and held (server default: totalTickets). */
  maxTicketsPerBuyer?: number;
  /** Whether doors may admit offline (default false). */
  offlineCheckIn?: boolean;
  /** 0–2000 characters. */
  description?: string;
  /** 0–200 characters. */
  venue?: string;
  /** IANA name (Europe/Berlin); default: the server's `--time-zone`. */
  timeZone?: string;
  /** Default true. */
  salesOpen?: boolean;
  /** Whether buyers are asked for name and email (default `none`). */
  buyerDetails?: BuyerDetailsSetting;
  /** RFC 3339: when holds and bookings open (default: now). */
  onSaleAt?: string | null;
  /** Buyers go through the waiting room (default false). */
  waitingRoom?: boolean;
  /** Admitted-but-unfinished buyers at once (default: derived from the stock). */
  queueWindow?: number | null;
}

/** `GET /events/:id/bookings` query. */
export interface BookingsQuery {
  /** Part of the buyer's name or email (any case), or the start of a booking id. */
  search?: string;
  offset?: number;
  /** 1–1000, default 100. */
  limit?: number;
}

/** One event's new counts in a `changes` message. */
export interface AvailabilityChange {
  id: string;
  availableTickets: number;
  /** Absent from servers older than holds; treat absence as "unchanged". */
  heldTickets?: number;
  /** Present when tickets were admitted at the door; absent means "unchanged". */
  checkedInTickets?: number;
}

/** One message of `GET /events/stream`. */
export type EventStreamMessage =
  | { type: 'snapshot'; events: Event[] }
  | { type: 'changes'; created: Event[]; availability: AvailabilityChange[] }
  /** Waiting rooms that changed (coalesced): a client computes `ahead = max(0, position − serving − 1)`. */
  | { type: 'queue'; queues: QueueUpdate[] };

/** Where a live subscription stands, for a status indicator. */
export type StreamStatus =
  | { state: 'connecting' }
  | { state: 'open' }
  | { state: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { state: 'closed' };

/**
 * Why a request is being sent again: `busy` (429), `unavailable` (503), `unreachable` (no answer:
 * refused, reset…) or `timeout`. Only the first is ever retried for a request that is not safe to
 * repeat; the others are retried only for calls carrying an Idempotency-Key (or idempotent by design).
 */
export type RetryCause = 'busy' | 'unavailable' | 'unreachable' | 'timeout';

/** A failed request is being retried: why, and how long we wait before the next try. */
export interface RetryNotice {
  /** 1 for the first retry. */
  attempt: number;
  maxRetries: number;
  delayMs: number;
  /** `POST /events/…/bookings` and the like, for the log. */
  request: string;
  cause: RetryCause;
  /** The failure being retried, one sentence (the server's message, or "Cannot reach …"). */
  reason: string;
}
