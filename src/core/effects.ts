import { noQueueEffects, queueEffectsEmpty, type QueueEffects, type SaleSettings } from './queue-effects.js';
import type { Booking, BuyerContact, Door, Event, Hold, ScanRecord } from './types.js';

/**
 * What a decision asks storage to do, as plain data. An adapter applies all of it in the batch's
 * one transaction, each write conditional, so a wrong decision rolls the batch back instead of
 * breaking `available + held + sold == total`.
 */
export interface Effects {
  newEvents: Event[];
  /**
   * Per event, how its counters move. Applied as one conditional update per event that refuses to
   * take either counter below zero (and the schema's CHECK refuses `available + held > total`).
   */
  stock: Map<string, StockMove>;
  /**
   * Per buyer of an event, how their counters move. Applied as an upsert that refuses to take
   * either counter below zero.
   */
  buyers: Map<string, BuyerMove>;
  /** With the secret's hash, never the secret. */
  newBookings: StoredBooking[];
  newHolds: StoredHold[];
  /** Each applies only to a hold still `active`; any other count of changed rows rolls back. */
  endedHolds: HoldEnding[];
  /** Each ticket applies only while not yet cancelled. */
  cancelledTickets: TicketCancellation[];
  /** Idempotency answers to store (insert or replace). */
  rememberKeys: KeyToRemember[];
  /** Keys claimed for this batch whose outcome is not worth remembering (bad input). */
  forgetKeys: string[];
  newDoors: StoredDoor[];
  /** Each applies only to a door not yet revoked. */
  revokedDoors: Array<{ id: string; at: string }>;
  /**
   * Admissions: at most one per ticket, ever. Each is a conditional insert (the table's primary key
   * is the ticket id); a count other than one rolls the batch back.
   */
  admissions: Admission[];
  /** Every scan the decisions recorded (admissions, repeats, conflicts, cancelled tickets), for the organiser. */
  scans: StoredScan[];
  /** Per event, a new offline check-in setting. */
  eventSettings: Map<string, { offlineCheckIn: boolean }>;
  /**
   * Per event, every editable field as the batch leaves it. Always paired with an entry in `stock`
   * (zero when nothing moved): the adapter writes both in one statement, so a new total and the
   * availability it frees or takes change together and `available + held <= total` holds throughout.
   */
  eventUpdates: Map<string, EventFields>;
  /**
   * Events cancelled: every ticket not yet cancelled is cancelled and every active hold released, in
   * bulk (the decision does not read them one by one; the stock is zeroed by `stock`).
   */
  cancelledEvents: Array<{ eventId: string; at: string }>;
  /** Per event, its sale time and waiting-room settings (after any new event row is inserted). */
  saleSettings: Map<string, SaleSettings>;
  /** The waiting room's lines and entries (queue-effects.ts). */
  queue: QueueEffects;
}

/** The columns of an event an organiser's change or cancellation may write. */
export type EventFields = Pick<
  Event,
  | 'name'
  | 'date'
  | 'description'
  | 'venue'
  | 'timeZone'
  | 'totalTickets'
  | 'maxTicketsPerBooking'
  | 'holdSeconds'
  | 'maxHeldPerBuyer'
  | 'maxTicketsPerBuyer'
  | 'buyerDetails'
  | 'salesOpen'
  | 'status'
>;

export function eventFields(e: Event): EventFields {
  return {
    name: e.name,
    date: e.date,
    description: e.description,
    venue: e.venue,
    timeZone: e.timeZone,
    totalTickets: e.totalTickets,
    maxTicketsPerBooking: e.maxTicketsPerBooking,
    holdSeconds: e.holdSeconds,
    maxHeldPerBuyer: e.maxHeldPerBuyer,
    maxTicketsPerBuyer: e.maxTicketsPerBuyer,
    buyerDetails: e.buyerDetails,
    salesOpen: e.salesOpen,
    status: e.status,
  };
}

/** A door as stored: with the SHA-256 hash of its token, never the token. */
export interface StoredDoor extends Door {
  tokenHash: string;
}

/** A ticket as the check-in decision reads it: its booking and whether it is cancelled. */
export interface TicketRef {
  id: string;
  eventId: string;
  bookingId: string;
  cancelled: boolean;
}

/** The one admission of a ticket. */
export interface Admission {
  ticketId: string;
  eventId: string;
  bookingId: string;
  doorId: string;
  /** When the door scanned it (the door's clock for an offline scan). */
  at: string;
  offline: boolean;
}

export interface StoredScan {
  eventId: string;
  ticketId: string;
  doorId: string;
  at: string;
  /** The batch's time: the order in which the server learned of scans. */
  recordedAt: string;
  outcome: ScanRecord['outcome'];
  offline: boolean;
}

export interface StockMove {
  /** Change of availableTickets (negative: taken). */
  available: number;
  /** Change of heldTickets. */
  held: number;
  /** Change of checkedInTickets (absent: none). */
  checkedIn?: number;
}

export interface HoldEnding {
  id: string;
  status: 'confirmed' | 'released' | 'expired';
  /** The booking a confirmed hold became. */
  bookingId?: string;
}

export interface TicketCancellation {
  bookingId: string;
  eventId: string;
  ticketIds: string[];
  /** ISO 8601. */
  at: string;
}

/** A booking as stored: with the hash of its secret (never the secret itself) and its buyer. */
export interface StoredBooking extends Booking {
  secretHash?: string;
  buyer?: string;
  /** The buyer's name and email, if given: for the organiser only. */
  contact?: BuyerContact;
}

/** A hold as stored, with its buyer (never shown to clients). */
export interface StoredHold extends Hold {
  buyer?: string;
  /** Passed on to the booking a confirmation makes. */
  contact?: BuyerContact;
}

/** What one buyer has of one event: tickets held at once, and tickets bought (not cancelled). */
export interface BuyerTickets {
  eventId: string;
  buyer: string;
  held: number;
  bought: number;
}

export type BuyerMove = BuyerTickets;

/** The map key of a buyer's counters. */
export const buyerKey = (eventId: string, buyer: string): string => `${eventId} ${buyer}`;

/**
 * The name of a buyer's second counter row for an event, which bounds what the buyer can make the
 * server store (see `BUYER_BUDGET` in decisions/ledger.ts): in it, `bought` counts the tickets the
 * buyer gave back (cancelled themselves, released or let expire) and `held` counts the refusals
 * remembered under the buyer's idempotency keys. A row of the same table, so every adapter reads,
 * locks and moves it as it does the buyer's own counters, with no schema change. Buyer keys are
 * base64url (identity.ts `buyerOf`): a `~` never occurs in one.
 */
export const usageOf = (buyer: string): string => `${buyer}~usage`;

/** An idempotency key row as an adapter reads it back (result still serialised). */
export interface StoredKey {
  key: string;
  fingerprint: string;
  result: string;
  createdAt: string;
}

export interface KeyToRemember extends StoredKey {}

export function noEffects(): Effects {
  return {
    newEvents: [],
    stock: new Map(),
    buyers: new Map(),
    newBookings: [],
    newHolds: [],
    endedHolds: [],
    cancelledTickets: [],
    rememberKeys: [],
    forgetKeys: [],
    newDoors: [],
    revokedDoors: [],
    admissions: [],
    scans: [],
    eventSettings: new Map(),
    eventUpdates: new Map(),
    cancelledEvents: [],
    saleSettings: new Map(),
    queue: noQueueEffects(),
  };
}

/** True when applying `effects` would write nothing. */
export function isEmpty(effects: Effects): boolean {
  return (
    effects.newEvents.length === 0 &&
    effects.stock.size === 0 &&
    effects.buyers.size === 0 &&
    effects.newBookings.length === 0 &&
    effects.newHolds.length === 0 &&
    effects.endedHolds.length === 0 &&
    effects.cancelledTickets.length === 0 &&
    effects.rememberKeys.length === 0 &&
    effects.forgetKeys.length === 0 &&
    effects.newDoors.length === 0 &&
    effects.revokedDoors.length === 0 &&
    effects.admissions.length === 0 &&
    effects.scans.length === 0 &&
    effects.eventSettings.size === 0 &&
    effects.eventUpdates.size === 0 &&
    effects.cancelledEvents.length === 0 &&
    effects.saleSettings.size === 0 &&
    queueEffectsEmpty(effects.queue)
  );
}
