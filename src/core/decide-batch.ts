import { BoxofficeError, Errors } from './errors.js';
import { newBookingFor } from './hold-decisions.js';
import { systemIdentity, type IdentitySource } from './identity.js';
import type { BookingOutcome, BookingRequest, EventCounts, RememberedResult, StoredKey } from './store.js';
import type { Booking, Hold } from './types.js';

export { systemIdentity, type IdentitySource } from './identity.js';

/** How long an idempotency key is remembered. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** What a transaction read about an event before deciding. */
export interface EventStock {
  availableTickets: number;
  heldTickets: number;
  holdSeconds: number;
}

export interface StockChange {
  /** Tickets leaving availability (sold or held). */
  taken: number;
  /** Of those, tickets going into holds. */
  held: number;
}

export interface KeyToRemember {
  key: string;
  fingerprint: string;
  /** The serialised RememberedResult. */
  result: string;
  createdAt: string;
}

export interface BatchDecision {
  /** One outcome per request, index-aligned. */
  outcomes: BookingOutcome[];
  /** Accepted bookings in arrival order: what the adapter must insert (each with its secret, to hash). */
  bookings: Booking[];
  /** Accepted holds: what the adapter must insert. */
  holds: Hold[];
  /** Per event, what the adapter must apply with a conditional update. */
  changes: Map<string, StockChange>;
  /** Idempotency keys the adapter must record in the same transaction. */
  keys: KeyToRemember[];
}

/**
 * The booking decision, shared by every adapter so they cannot disagree.
 * `stock` holds each requested event's counts as read inside the adapter's transaction (missing = the
 * event does not exist); `previous` holds the stored rows of the batch's idempotency keys. Requests are
 * decided strictly in order: an earlier request is served before a later one may take what is left.
 */
export function decideBatch(
  requests: readonly BookingRequest[],
  stock: ReadonlyMap<string, EventStock>,
  previous: ReadonlyMap<string, StoredKey> = new Map(),
  identity: IdentitySource = systemIdentity,
): BatchDecision {
  const left = new Map<string, EventStock>();
  const outcomes: BookingOutcome[] = [];
  const bookings: Booking[] = [];
  const holds: Hold[] = [];
  const changes = new Map<string, StockChange>();
  const keys: KeyToRemember[] = [];
  const decidedKeys = new Map<string, { fingerprint: string; outcome: BookingOutcome }>();
  const now = identity.now();
  const createdAt = now.toISOString();
  const keyCutoff = new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_MS).toISOString();

  for (const request of requests) {
    const claim = request.idempotency;
    if (claim) {
      const earlier = decidedKeys.get(claim.key);
      if (earlier) {
        outcomes.push(earlier.fingerprint === claim.fingerprint ? { ...earlier.outcome, replayed: true } : refusedReuse());
        continue;
      }
      const stored = previous.get(claim.key);
      if (stored && stored.createdAt > keyCutoff) {
        outcomes.push(stored.fingerprint === claim.fingerprint ? replay(JSON.parse(stored.result) as RememberedResult) : refusedReuse());
        continue;
      }
    }
    const outcome = decideOne(request);
    outcomes.push(outcome);
    if (claim) {
      decidedKeys.set(claim.key, { fingerprint: claim.fingerprint, outcome });
      keys.push({ key: claim.key, fingerprint: claim.fingerprint, result: JSON.stringify(remember(outcome)), createdAt });
    }
  }
  return { outcomes, bookings, holds, changes, keys };

  function decideOne({ eventId, tickets, kind }: BookingRequest): BookingOutcome {
    const current = left.get(eventId) ?? stock.get(eventId);
    if (current === undefined) return { ok: false, error: Errors.eventNotFound(eventId) };
    if (tickets > current.availableTickets) {
      return {
        ok: false,
        error: Errors.notEnoughTickets(tickets, current.availableTickets),
        counts: { eventId, availableTickets: current.availableTickets, heldTickets: current.heldTickets },
      };
    }
    const holding = kind === 'hold';
    const next: EventStock = {
      ...current,
      availableTickets: current.availableTickets - tickets,
      heldTickets: current.heldTickets + (holding ? tickets : 0),
    };
    left.set(eventId, next);
    const change = changes.get(eventId) ?? { taken: 0, held: 0 };
    change.taken += tickets;
    if (holding) change.held += tickets;
    changes.set(eventId, change);
    const counts: EventCounts = { eventId, availableTickets: next.availableTickets, heldTickets: next.heldTickets };
    if (holding) {
      const hold: Hold = {
        id: identity.newId(),
        eventId,
        tickets,
        status: 'active',
        createdAt,
        expiresAt: new Date(now.getTime() + current.holdSeconds * 1000).toISOString(),
      };
      holds.push(hold);
      return { ok: true, hold, counts };
    }
    const booking = newBookingFor(eventId, tickets, identity, createdAt);
    bookings.push(booking);
    return { ok: true, booking, counts };
  }
}

function refusedReuse(): BookingOutcome {
  return { ok: false, error: Errors.idempotencyKeyReused() };
}

function remember(outcome: BookingOutcome): RememberedResult {
  if (!outcome.ok) return { kind: 'refused', code: outcome.error.code, message: outcome.error.message };
  return outcome.hold ? { kind: 'hold', hold: outcome.hold } : { kind: 'booking', booking: outcome.booking };
}

function replay(result: RememberedResult): BookingOutcome {
  switch (result.kind) {
    case 'booking':
      return { ok: true, booking: result.booking, replayed: true };
    case 'hold':
      return { ok: true, hold: result.hold, replayed: true };
    case 'refused':
      return { ok: false, error: new BoxofficeError(result.code, result.message), replayed: true };
  }
}
