import type { Command, Outcome, WriteBatch } from '../commands.js';
import type { Effects } from '../effects.js';
import type { IdSource } from '../identity.js';
import { decideCancel } from './cancel.js';
import { decideCheckin, decideCheckinSettings, decideCreateDoor, decideRevokeDoor } from './checkin.js';
import { decideConfirm, decideExpiry, decideRelease } from './holds.js';
import { Ledger, type LoadedRows } from './ledger.js';
import { decidePlacement } from './place.js';
import { decideCancelEvent, decideUpdateEvent } from './lifecycle.js';
import { decideAdvance, decideJoin, decidePauseQueue } from './queue.js';

export { IDEMPOTENCY_KEY_TTL_MS, type LoadedRows } from './ledger.js';
export type { RememberedResult } from './place.js';
export type { RememberedScan } from './checkin.js';
export { publicDoor } from './checkin.js';

export interface Decision {
  /** One per command, index-aligned. */
  outcomes: Outcome[];
  effects: Effects;
}

/**
 * Every rule of every write, in one pure function: the batch's commands are decided strictly in
 * order against the rows its transaction read, each seeing what the earlier ones did. The adapter
 * applies `effects` in the same transaction and answers with `outcomes` only after COMMIT.
 */
export function decide(batch: WriteBatch, rows: LoadedRows, ids: IdSource): Decision {
  const ledger = new Ledger(batch.now, rows, ids, batch.buyerBudget);
  const outcomes = batch.commands.map((command) => decideOne(ledger, command));
  return { outcomes, effects: ledger.effects };
}

function decideOne(ledger: Ledger, command: Command): Outcome {
  switch (command.type) {
    case 'createEvent':
      ledger.createEvent(command.event);
      return { ok: true, kind: 'event', event: command.event };
    case 'book':
    case 'hold':
      return decidePlacement(ledger, command);
    case 'confirm':
      return decideConfirm(ledger, command.holdId, command.buyer);
    case 'release':
      return decideRelease(ledger, command.holdId);
    case 'cancel':
      return decideCancel(ledger, command.bookingId, command.ticketIds, command.proof);
    case 'expire':
      return decideExpiry(ledger);
    case 'checkin':
      return decideCheckin(ledger, command);
    case 'createDoor':
      return decideCreateDoor(ledger, command.door);
    case 'revokeDoor':
      return decideRevokeDoor(ledger, command.eventId, command.doorId);
    case 'checkinSettings':
      return decideCheckinSettings(ledger, command.eventId, command.offlineCheckIn);
    case 'updateEvent':
      return decideUpdateEvent(ledger, command.eventId, command.patch, command.roomLeadSeconds);
    case 'cancelEvent':
      return decideCancelEvent(ledger, command.eventId);
    case 'joinQueue':
      return decideJoin(ledger, command);
    case 'advanceQueue':
      return decideAdvance(ledger, command);
    case 'pauseQueue':
      return decidePauseQueue(ledger, command.eventId, command.paused);
  }
}
