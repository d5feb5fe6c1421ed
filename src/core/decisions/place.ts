import { refusal, type Command, type Outcome, type Refusal } from '../commands.js';
import { BoxofficeError, Errors } from '../errors.js';
import { hashSecret } from '../identity.js';
import type { Booking, Hold } from '../types.js';
import { parseTicketCount } from '../validation.js';
import type { Ledger } from './ledger.js';
import { salesRefusal } from './lifecycle.js';
import { admissionGate, notOnSale, usePass } from './queue.js';

type Placement = Extract<Command, { type: 'book' | 'hold' }>;

/**
 * What an idempotency key row remembers: the first answer, to be given again to every repeat. A
 * booking is remembered without its secret, with the secret's hash (the bookings table has it
 * too): a replay recomputes the secret from the booking id and the server key, and checks it
 * against the hash. (Rows written before secrets were derived held `booking.secret`; migration 4
 * removed it.)
 */
export type RememberedResult =
  | { kind: 'booking'; booking: Booking; secretHash?: string }
  | { kind: 'hold'; hold: Hold }
  | { kind: 'refused'; code: BoxofficeError['code']; message: string };

/**
 * A booking or a hold, decided in arrival order against the stock as this batch has left it. With
 * an Idempotency-Key, a repeat (in this batch, or remembered from an earlier one on any node) gets
 * the first answer again, and the same key for another request is refused.
 */
export function decidePlacement(ledger: Ledger, command: Placement): Outcome {
  const claim = command.key;
  if (claim) {
    const earlier = ledger.keysDecided.get(claim.key);
    if (earlier) return earlier.fingerprint === claim.fingerprint ? ({ ...earlier.outcome, replayed: true } as Outcome) : refusal(Errors.idempotencyKeyReused());
    const stored = ledger.key(claim.key);
    if (stored) return stored.fingerprint === claim.fingerprint ? replay(ledger, JSON.parse(stored.result) as RememberedResult) : refusal(Errors.idempotencyKeyReused());
  }
  const outcome = place(ledger, command);
  if (claim) {
    ledger.keysDecided.set(claim.key, { fingerprint: claim.fingerprint, outcome });
    const remembered = remember(outcome);
    if (!remembered) ledger.forget(claim.key);
    else if (remembered.kind !== 'refused') ledger.remember(claim.key, claim.fingerprint, JSON.stringify(remembered));
    // A refusal took nothing: past the buyer's budget it is not stored (the batch's `buyerBudget`).
    else if (!ledger.rememberRefusal(command.eventId, command.buyer, claim.key, claim.fingerprint, JSON.stringify(remembered))) ledger.forget(claim.key);
  }
  return outcome;
}

function place(ledger: Ledger, { type, eventId, tickets, buyer, contact, admission }: Placement): Outcome {
  const event = ledger.event(eventId);
  if (!event) return refusal(Errors.eventNotFound(eventId));
  const closed = salesRefusal(event, ledger.now) ?? notOnSale(event, ledger.now);
  if (closed) return closed;
  const pass = admissionGate(ledger, event, admission);
  if (pass && 'ok' in pass) return pass;
  if (event.buyerDetails === 'required' && (contact?.name === undefined || contact.email === undefined)) {
    return refusal(Errors.buyerDetailsRequired(contact?.name === undefined ? 'name' : 'email'));
  }
  const badCount = tooMany(tickets, event.maxTicketsPerBooking);
  if (badCount) return badCount;
  if (tickets > event.availableTickets) {
    return refusal(Errors.notEnoughTickets(tickets, event.availableTickets), { counts: ledger.counts(eventId) });
  }
  if (buyer !== undefined) {
    const { givenBack } = ledger.usage(eventId, buyer);
    if (givenBack >= ledger.budget.givenBack) return refusal(Errors.buyerGaveBackTooMany(givenBack));
    const mine = ledger.buyer(eventId, buyer);
    if (type === 'hold' && mine.held + tickets > event.maxHeldPerBuyer) return refusal(Errors.buyerHoldLimit(mine.held, tickets, event.maxHeldPerBuyer));
    if (mine.held + mine.bought + tickets > event.maxTicketsPerBuyer) {
      return refusal(Errors.buyerTicketLimit(mine.held + mine.bought, tickets, event.maxTicketsPerBuyer));
    }
  }
  // Only a hold or booking that succeeds uses the pass up, in its own transaction: used twice, it books once.
  if (pass) usePass(ledger, pass);
  if (type === 'hold') {
    const counts = ledger.moveStock(eventId, -tickets, tickets);
    ledger.moveBuyer(eventId, buyer, tickets, 0);
    const hold: Hold = {
      id: ledger.ids.newId(),
      eventId,
      tickets,
      status: 'active',
      createdAt: ledger.nowIso,
      expiresAt: new Date(ledger.now.getTime() + event.holdSeconds * 1000).toISOString(),
    };
    ledger.addHold({ ...hold, ...(buyer === undefined ? {} : { buyer }), ...(contact === undefined ? {} : { contact }) });
    return { ok: true, kind: 'hold', hold, counts };
  }
  const counts = ledger.moveStock(eventId, -tickets, 0);
  ledger.moveBuyer(eventId, buyer, 0, tickets);
  return { ok: true, kind: 'booking', booking: ledger.addBooking(eventId, tickets, buyer, contact), counts };
}

/** The event's own per-booking maximum, worded exactly as the edge words the absolute one. */
function tooMany(tickets: number, max: number): Refusal | undefined {
  try {
    parseTicketCount(tickets, max);
    return undefined;
  } catch (err) {
    return refusal(err as BoxofficeError);
  }
}

/**
 * Only answers about real stock are remembered; a refusal of bad input, or of a buyer's limit that
 * may have room again later, may be retried.
 */
function remember(outcome: Outcome): RememberedResult | undefined {
  if (!outcome.ok) return outcome.code === 'not_enough_tickets' ? { kind: 'refused', code: outcome.code, message: outcome.message } : undefined;
  if (outcome.kind === 'hold') return { kind: 'hold', hold: outcome.hold };
  if (outcome.kind === 'booking') {
    const { secret, ...booking } = outcome.booking;
    return secret ? { kind: 'booking', booking, secretHash: hashSecret(secret) } : { kind: 'booking', booking };
  }
  return undefined;
}

function replay(ledger: Ledger, result: RememberedResult): Outcome {
  switch (result.kind) {
    case 'booking': {
      const { secret: _stale, ...booking } = result.booking;
      const secret = ledger.secrets.recover(booking.id, result.secretHash);
      return { ok: true, kind: 'booking', booking: secret ? { ...booking, secret } : booking, replayed: true };
    }
    case 'hold':
      return { ok: true, kind: 'hold', hold: result.hold, replayed: true };
    case 'refused':
      return { ok: false, code: result.code, message: result.message, replayed: true };
  }
}
