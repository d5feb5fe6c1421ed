import type { QueueEntry, QueueState, QueueUpdate } from '../../client/types.js';
import { plural } from '../format.js';

/** Where a buyer stands, from the entry and the stream's latest line numbers. */
export interface LineView {
  state: QueueState;
  /** From 1; null until the order is drawn at the sale's opening. */
  position: number | null;
  ahead: number | null;
  etaSeconds: number | null;
  heldElsewhere: boolean;
  paused: boolean;
  /** 0…1 through the line once placed. */
  progress: number | undefined;
}

/**
 * The entry's numbers brought forward by the stream's serving counter: the server publishes one
 * counter per event instead of one message per waiting buyer, and each buyer works out
 * `ahead = position − serving − 1` (the contract's formula). Sold out on the stream wins at once.
 */
export function placeInLine(entry: QueueEntry, line: QueueUpdate | undefined): LineView {
  let { state, ahead, etaSeconds } = entry;
  const { position } = entry;
  if (state === 'waiting' && line?.soldOut) state = 'sold_out';
  if (state === 'waiting' && position !== null && line) {
    ahead = Math.max(0, position - line.serving - 1);
    if (line.admitRatePerMinute > 0) etaSeconds = Math.round((ahead / line.admitRatePerMinute) * 60);
    else if (ahead > 0) etaSeconds = null;
  }
  const progress = state === 'waiting' && position !== null && ahead !== null ? (position > 1 ? (position - 1 - ahead) / (position - 1) : 1) : undefined;
  return { state, position, ahead, etaSeconds, heldElsewhere: line?.heldElsewhere ?? entry.heldElsewhere, paused: line?.paused ?? false, progress };
}

/** The read intervals: while the stream is down, and once the counter reached this place (the pass is waiting). */
export const READ_WHILE_OFFLINE_MS = 5_000;
export const READ_FOR_NEWS_MS = 1_000;

/**
 * Whether the entry should be read (`GET …/queue/:entryId`) now. Only a waiting entry is read, and only
 * when the stream cannot tell: the order was drawn (the entry learns its place), the counter reached it
 * (the pass), or the stream is down (every few seconds).
 */
export function shouldRead(entry: QueueEntry, line: QueueUpdate | undefined, streamLive: boolean, sinceLastReadMs: number): boolean {
  if (entry.state !== 'waiting') return false;
  const expectsNews = Boolean(line?.open) && (entry.position === null || (line?.serving ?? 0) >= entry.position);
  if (expectsNews && sinceLastReadMs >= READ_FOR_NEWS_MS) return true;
  return (!streamLive || !line) && sinceLastReadMs >= READ_WHILE_OFFLINE_MS;
}

/** "about 3 minutes". */
export function etaWords(seconds: number | null): string {
  if (seconds === null) return 'waiting time not known yet';
  if (seconds < 60) return 'about a minute or less';
  const minutes = Math.round(seconds / 60);
  return minutes < 90 ? `about ${plural(minutes, 'minute')}` : `about ${plural(Math.round(minutes / 60), 'hour')}`;
}
