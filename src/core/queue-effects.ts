/**
 * The waiting room's rows and effects (issue 13), as plain data like the rest of the write path.
 * A line per event, an entry per buyer's turn; the order is drawn once, when the sale opens.
 */

export type StoredQueueState = 'waiting' | 'admitted' | 'done' | 'expired';

/** One event's line as stored. `version` makes every change of it conditional. */
export interface QueueLine {
  eventId: string;
  version: number;
  /** Entries ever made (the arrival sequence). */
  joined: number;
  /** Highest position given (0 before the sale opened). */
  positioned: number;
  /** When the order was drawn; null before the sale opened. */
  openedAt: string | null;
  /** Highest position admitted so far. */
  serving: number;
  paused: boolean;
}

/** A line as the write plan reads it: with what its entries are doing at the batch's `now`. */
export interface QueueLineRead extends QueueLine {
  /** Entries admitted whose pass is neither used nor marked expired. */
  admitted: number;
  /** Of those, passes already past their time at `now` (the sweep marks them expired). */
  due: number;
}

export interface StoredQueueEntry {
  id: string;
  eventId: string;
  /** Who joined (identity.ts `buyerOf` of the address): one active entry per buyer and event. */
  buyer: string;
  seq: number;
  position: number | null;
  state: StoredQueueState;
  joinedAt: string;
  admittedAt: string | null;
  passExpiresAt: string | null;
  finishedAt: string | null;
}

/** What the plan reads of entries: by id, each buyer's active one, and every entry still without a position. */
export interface QueueEntryQuery {
  ids: string[];
  buyers: Array<{ eventId: string; buyer: string }>;
  unpositioned: string[];
}

export interface QueueEffects {
  /** Per event, the line as the batch leaves it; applied only where the stored version is still `expectVersion`. */
  lines: Map<string, { line: QueueLine; expectVersion: number }>;
  newEntries: StoredQueueEntry[];
  /** The drawn order: each applies only to an entry still without a position. */
  positions: Array<{ id: string; position: number }>;
  /** Positions `from..to` of an event admitted; each entry must still be waiting (count checked). */
  admitRanges: Array<{ eventId: string; from: number; to: number; at: string; passExpiresAt: string }>;
  /** Every admitted entry of the event whose pass ran out by `now` marked expired; `count` of them expected. */
  expiredPasses: Array<{ eventId: string; now: string; count: number }>;
  /** Passes used by a hold or booking of this batch: admitted → done. */
  finished: Array<{ id: string; at: string }>;
}

export function noQueueEffects(): QueueEffects {
  return { lines: new Map(), newEntries: [], positions: [], admitRanges: [], expiredPasses: [], finished: [] };
}

export function queueEffectsEmpty(q: QueueEffects): boolean {
  return q.lines.size === 0 && q.newEntries.length === 0 && q.positions.length === 0 && q.admitRanges.length === 0 && q.expiredPasses.length === 0 && q.finished.length === 0;
}

/** A new line: what every adapter creates when the plan first asks for an event's line. */
export function emptyLine(eventId: string): QueueLine {
  return { eventId, version: 1, joined: 0, positioned: 0, openedAt: null, serving: 0, paused: false };
}

/** The sale settings of an event, written apart from its other fields. */
export interface SaleSettings {
  onSaleAt: string | null;
  waitingRoom: boolean;
  waitingRoomOpensAt: string | null;
  queueWindow: number | null;
}
