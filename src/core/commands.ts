import { BoxofficeError, type ErrorCode } from './errors.js';
import type { StoredDoor } from './effects.js';
import type { QueueLineRead, StoredQueueEntry } from './queue-effects.js';
import type { Booking, BuyerContact, Door, Event, EventPatch, FirstCheckIn, Hold, ScanResult } from './types.js';

/**
 * The write path's vocabulary: every write is a command (plain data), and every answer an outcome
 * (plain data). Both cross the SQLite writer thread and any process boundary by structured clone or
 * JSON as they are; an outcome becomes an HTTP error only at the edge (see `refusalError`).
 */

/**
 * `buyer` on a booking or hold is who asks (an opaque key derived from the client address): the
 * per-buyer limits of the event count against it.
 */

/** An Idempotency-Key claim: the same key with another fingerprint is refused. */
export interface KeyClaim {
  key: string;
  /** What the request asked for (`book:<event>:<n>`). */
  fingerprint: string;
}

/** Who asks to cancel: the admin, or a buyer presenting the booking's secret (checked by the decision). */
export type CancelProof = { admin: true } | { admin: false; secret?: string };

export type Command =
  | { type: 'createEvent'; event: Event }
  /** `contact`: the buyer's own name and email, kept with the booking for the organiser (never logged). */
  /** `admission`: the waiting room's pass (its signature already checked by the service), or `invalid`. */
  | { type: 'book'; eventId: string; tickets: number; key?: KeyClaim; buyer?: string; contact?: BuyerContact; admission?: Admission }
  | { type: 'hold'; eventId: string; tickets: number; key?: KeyClaim; buyer?: string; contact?: BuyerContact; admission?: Admission }
  /** `buyer`: who confirms; only the hold's own buyer is told the booking's secret. */
  | { type: 'confirm'; holdId: string; buyer?: string }
  | { type: 'release'; holdId: string }
  | { type: 'cancel'; bookingId: string; ticketIds?: string[]; proof: CancelProof }
  /** Expire every active hold due at the batch's `now`. */
  | { type: 'expire' }
  /**
   * A door scanned a ticket whose code's signature the service already verified. `key` is the
   * door's nonce (`scan:<doorId>:<nonce>`, fingerprint of the code): a repeat answers the first
   * answer again. `scannedAt`: an offline scan uploaded later, at the door's own time.
   */
  | { type: 'checkin'; eventId: string; ticketId: string; doorId: string; key: KeyClaim; scannedAt?: string }
  | { type: 'createDoor'; door: StoredDoor }
  | { type: 'revokeDoor'; eventId: string; doorId: string }
  | { type: 'checkinSettings'; eventId: string; offlineCheckIn: boolean }
  /** The organiser corrects an event (validated fields; whether they fit the stock is decided). */
  /** `roomLeadSeconds`: the server's waiting-room lead, for the room's opening time when the sale time changes. */
  | { type: 'updateEvent'; eventId: string; patch: EventPatch; roomLeadSeconds?: number }
  /** The organiser cancels an event: every ticket cancelled, active holds released, stock zeroed. */
  | { type: 'cancelEvent'; eventId: string }
  /** A buyer joins the waiting room (`entryId` is fresh; `knownEntryId` from the buyer's cookie). */
  | { type: 'joinQueue'; eventId: string; entryId: string; buyer: string; knownEntryId?: string }
  /**
   * The line's housekeeping: draw the order when due, expire passes, admit within the window.
   * `finishedPerSecond`: the pace the advancing node measured (passes used per second), which the default window follows.
   */
  | { type: 'advanceQueue'; eventId: string; passSeconds: number; finishedPerSecond?: number }
  | { type: 'pauseQueue'; eventId: string; paused: boolean };

/** A hold's or booking's admission pass, as the service found it. */
export type Admission = { entryId: string } | 'invalid';

export type CommandType = Command['type'];

/** Commands decided together in one transaction, in order, on one clock. */
export interface WriteBatch {
  /** ISO 8601: the one `now` of every decision in the batch (expiry, createdAt, key age). */
  now: string;
  commands: readonly Command[];
  /** What one buyer may make the server store per event (default `BUYER_BUDGET`): a server setting the decisions need. */
  buyerBudget?: { givenBack: number; refusals: number };
}

/** An event's stock after a change, for caches and live views. */
export interface EventCounts {
  eventId: string;
  availableTickets: number;
  heldTickets: number;
  /** Present when a commit admitted tickets of the event. */
  checkedInTickets?: number;
}

export interface Refusal {
  ok: false;
  code: ErrorCode;
  message: string;
  /** The event's counts as the decision saw them, when it read them (caches may use them). */
  counts?: EventCounts;
  /** The answer repeats a remembered one (idempotency key). */
  replayed?: boolean;
  /** A hold found past its time was expired by this very transaction. */
  expiredHold?: boolean;
  /** `already_checked_in`: the admission that came first. */
  firstCheckIn?: FirstCheckIn;
}

export type Outcome =
  | { ok: true; kind: 'event'; event: Event }
  /** From `book` and `confirm`. `replayed`: a repeat answered with the first booking. */
  | { ok: true; kind: 'booking'; booking: Booking; counts?: EventCounts; replayed?: boolean }
  /** From `hold` and `release`. `counts` is absent when nothing moved (a repeated release, a replay). */
  | { ok: true; kind: 'hold'; hold: Hold; counts?: EventCounts; replayed?: boolean }
  /** `cancelled`: how many tickets this cancellation took back. */
  | { ok: true; kind: 'cancelled'; booking: Booking; counts: EventCounts; cancelled: number }
  | { ok: true; kind: 'expired'; expired: number; counts: EventCounts[] }
  /** From `checkin`: admitted, or an offline scan in conflict with an earlier admission. */
  | { ok: true; kind: 'checkin'; scan: ScanResult; counts?: EventCounts; replayed?: boolean }
  /** From `checkinSettings`, `updateEvent` and `cancelEvent`: the event as it is now. */
  | { ok: true; kind: 'settings'; event: Event }
  /** From `createDoor` and `revokeDoor`. */
  | { ok: true; kind: 'door'; door: Door }
  /** From `joinQueue`: the buyer's entry, `created` or answered again. */
  | { ok: true; kind: 'queueEntry'; entry: StoredQueueEntry; line: QueueLineRead; created: boolean }
  /**
   * From `advanceQueue` and `pauseQueue`: the line as the batch left it; `drawnNow` (only when this advance
   * opened the sale), how many entries' order it drew; `changed`, whether a pause or resume changed anything.
   */
  | { ok: true; kind: 'queueLine'; line: QueueLineRead; admittedNow: number; expiredNow: number; drawnNow?: number; changed?: boolean }
  | Refusal;

export type Success<K extends Extract<Outcome, { ok: true }>['kind']> = Extract<Outcome, { ok: true; kind: K }>;

/** A refusal as data, from one of the error constructors in errors.ts. */
export function refusal(error: BoxofficeError, extra: Omit<Refusal, 'ok' | 'code' | 'message'> = {}): Refusal {
  return { ok: false, code: error.code, message: error.message, ...extra };
}

/** The one place a refusal becomes an error again: at the edge, to be thrown or answered. */
export function refusalError(refused: Refusal): BoxofficeError {
  const error = new BoxofficeError(refused.code, refused.message);
  if (refused.firstCheckIn) error.details = { firstCheckIn: refused.firstCheckIn };
  if (refused.replayed) error.replayed = true;
  return error;
}
