import { refusal, type Command, type Outcome } from '../commands.js';
import { Errors, type ErrorCode } from '../errors.js';
import type { StoredDoor } from '../effects.js';
import type { Door, Event, FirstCheckIn, ScanResult } from '../types.js';
import type { Ledger } from './ledger.js';

type Checkin = Extract<Command, { type: 'checkin' }>;

/** What a door's nonce remembers: the first answer, given again to every repeat of the scan. */
export type RememberedScan = { kind: 'checkin'; scan: ScanResult } | { kind: 'refused'; code: ErrorCode; message: string; firstCheckIn?: FirstCheckIn };

/** Refusals that are final for this ticket and door: a repeat of the scan gets them again. */
const FINAL: ReadonlySet<ErrorCode> = new Set(['already_checked_in', 'ticket_cancelled', 'ticket_not_found', 'wrong_event']);

/**
 * A door's scan of a ticket whose signature the service verified. Exactly once: the decision reads
 * the ticket's admission (loaded after its booking row was locked) and admits only when there is
 * none, this batch included; storage enforces it again (the admission's primary key is the ticket).
 * The door's nonce is an idempotency key: a repeated scan answers the first answer again.
 */
export function decideCheckin(ledger: Ledger, command: Checkin): Outcome {
  const claim = command.key;
  const earlier = ledger.keysDecided.get(claim.key);
  if (earlier) return earlier.fingerprint === claim.fingerprint ? ({ ...earlier.outcome, replayed: true } as Outcome) : refusal(Errors.idempotencyKeyReused());
  const stored = ledger.key(claim.key);
  if (stored) return stored.fingerprint === claim.fingerprint ? replay(JSON.parse(stored.result) as RememberedScan) : refusal(Errors.idempotencyKeyReused());
  const outcome = scan(ledger, command);
  ledger.keysDecided.set(claim.key, { fingerprint: claim.fingerprint, outcome });
  const remembered: RememberedScan | undefined = outcome.ok
    ? outcome.kind === 'checkin'
      ? { kind: 'checkin', scan: outcome.scan }
      : undefined
    : FINAL.has(outcome.code)
      ? { kind: 'refused', code: outcome.code, message: outcome.message, ...(outcome.firstCheckIn ? { firstCheckIn: outcome.firstCheckIn } : {}) }
      : undefined;
  if (remembered) ledger.remember(claim.key, claim.fingerprint, JSON.stringify(remembered));
  else ledger.forget(claim.key);
  return outcome;
}

function scan(ledger: Ledger, command: Checkin): Outcome {
  const { eventId, ticketId, doorId, scannedAt } = command;
  const door = ledger.door(doorId);
  // Checked again here, in the transaction: a door revoked while its scan waited admits nothing.
  if (!door || door.revokedAt) return refusal(Errors.doorRevoked());
  if (door.eventId !== eventId) return refusal(Errors.wrongEvent('door'));
  const event = ledger.event(eventId);
  if (!event) return refusal(Errors.eventNotFound(eventId));
  const offline = scannedAt !== undefined;
  if (offline && !event.offlineCheckIn) return refusal(Errors.offlineNotAllowed());
  const ticket = ledger.ticket(ticketId);
  if (!ticket) return refusal(Errors.ticketNotFound(ticketId));
  if (ticket.eventId !== eventId) return refusal(Errors.wrongEvent('ticket'));
  const at = scannedAt ?? ledger.nowIso;
  const record = { eventId, ticketId, doorId, at, offline };
  if (ticket.cancelled) {
    ledger.recordScan({ ...record, outcome: 'cancelled' });
    return refusal(Errors.ticketCancelled(ticketId));
  }
  const ticketRef = { id: ticketId, eventId, bookingId: ticket.bookingId };
  const doorRef = { id: door.id, name: door.name };
  const first = ledger.admission(ticketId);
  if (first) {
    const firstCheckIn: FirstCheckIn = { door: { id: first.doorId, name: ledger.door(first.doorId)?.name ?? 'another door' }, at: first.at };
    // Two doors that admitted one ticket while apart: record the second as a conflict (its door
    // already let the person in); online, or the same door again, it is a plain refusal.
    if (offline && first.doorId !== doorId) {
      ledger.recordScan({ ...record, outcome: 'conflict' });
      return { ok: true, kind: 'checkin', scan: { outcome: 'conflict', ticket: ticketRef, door: doorRef, at, firstCheckIn } };
    }
    ledger.recordScan({ ...record, outcome: 'already_checked_in' });
    return refusal(Errors.alreadyCheckedIn(ticketId, first.at, firstCheckIn.door.name), { firstCheckIn });
  }
  const counts = ledger.admit({ ticketId, eventId, bookingId: ticket.bookingId, doorId, at, offline });
  ledger.recordScan({ ...record, outcome: 'admitted' });
  return { ok: true, kind: 'checkin', scan: { outcome: 'admitted', ticket: ticketRef, door: doorRef, at }, counts };
}

function replay(result: RememberedScan): Outcome {
  if (result.kind === 'checkin') return { ok: true, kind: 'checkin', scan: result.scan, replayed: true };
  const { code, message, firstCheckIn } = result;
  return firstCheckIn ? { ok: false, code, message, firstCheckIn, replayed: true } : { ok: false, code, message, replayed: true };
}

export function decideCreateDoor(ledger: Ledger, door: StoredDoor): Outcome {
  if (!ledger.event(door.eventId)) return refusal(Errors.eventNotFound(door.eventId));
  ledger.addDoor(door);
  return { ok: true, kind: 'door', door: publicDoor(door) };
}

/** Revoking a revoked door again is harmless and answers the door as it is. */
export function decideRevokeDoor(ledger: Ledger, eventId: string, doorId: string): Outcome {
  const door = ledger.door(doorId);
  if (!door || door.eventId !== eventId) return refusal(Errors.notFound('door', doorId));
  return { ok: true, kind: 'door', door: publicDoor(door.revokedAt ? door : ledger.revokeDoor(door)) };
}

export function decideCheckinSettings(ledger: Ledger, eventId: string, offlineCheckIn: boolean): Outcome {
  if (!ledger.event(eventId)) return refusal(Errors.eventNotFound(eventId));
  const event: Event = ledger.setOfflineCheckIn(eventId, offlineCheckIn);
  return { ok: true, kind: 'settings', event };
}

export function publicDoor(door: StoredDoor): Door {
  const { tokenHash: _hidden, ...rest } = door;
  return rest;
}
