import type { Booking, Event, Hold } from './types.js';

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
}

export interface StockMove {
  /** Change of availableTickets (negative: taken). */
  available: number;
  /** Change of heldTickets. */
  held: number;
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
}

/** A hold as stored, with its buyer (never shown to clients). */
export interface StoredHold extends Hold {
  buyer?: string;
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
  return { newEvents: [], stock: new Map(), buyers: new Map(), newBookings: [], newHolds: [], endedHolds: [], cancelledTickets: [], rememberKeys: [], forgetKeys: [] };
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
    effects.forgetKeys.length === 0
  );
}
