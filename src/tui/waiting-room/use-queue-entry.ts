import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../../client/api-error.js';
import type { QueueEntry, QueueUpdate } from '../../client/types.js';
import type { Logger } from '../../core/logger.js';
import type { EntryStore } from './entry-file.js';
import { placeInLine, shouldRead, type LineView } from './line.js';

/** The two buyer calls of the waiting room (`BoxofficeClient` has them; tests pass a fake). */
export interface QueueBackend {
  joinQueue(eventId: string): Promise<QueueEntry>;
  queueEntry(eventId: string, entryId: string, token: string): Promise<QueueEntry>;
}

export interface QueueEntryOptions {
  backend: QueueBackend;
  store: EntryStore;
  /** The server's address: entries are kept per server. */
  server: string;
  eventId: string;
  /** The stream's latest numbers for this event. */
  line: QueueUpdate | undefined;
  /** The stream is connected (otherwise the entry is read every few seconds). */
  streamLive: boolean;
  logger: Logger;
  now: () => number;
}

export interface QueueEntryState {
  entry: QueueEntry | undefined;
  view: LineView | undefined;
  /** The clock, ticking once a second (for countdowns). */
  time: number;
  joining: boolean;
  error: string | undefined;
  /** The entry was answered by the server in this session (a remembered one may be stale: used, expired). */
  fresh: boolean;
  join(): void;
}

/**
 * The buyer's entry in one event's line: remembered in `store` (so a restart of the terminal UI, or
 * leaving the screen, keeps the place; it is read once on return), joined on request, and read again
 * only when the stream cannot tell (see `shouldRead`).
 */
export function useQueueEntry({ backend, store, server, eventId, line, streamLive, logger, now }: QueueEntryOptions): QueueEntryState {
  const [entry, setEntry] = useState<QueueEntry | undefined>(() => store.load(server, eventId));
  const [time, setTime] = useState(now);
  const [joining, setJoining] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [fresh, setFresh] = useState(false);
  const lastRead = useRef(-Infinity);
  const reading = useRef(false);
  const alive = useRef(true);
  useEffect(() => () => void (alive.current = false), []);

  const keep = useCallback(
    (next: QueueEntry) => {
      store.save(server, next);
      if (alive.current) {
        setEntry(next);
        setFresh(true);
      }
    },
    [server, store],
  );

  const read = useCallback(
    async (current: QueueEntry) => {
      if (reading.current) return;
      reading.current = true;
      lastRead.current = now();
      try {
        const fresh = await backend.queueEntry(current.eventId, current.id, current.token);
        keep(fresh);
      } catch (err) {
        // The line no longer knows this entry (a reset server, a changed key): the buyer joins afresh.
        if (err instanceof ApiError && (err.status === 404 || err.status === 403 || err.status === 410)) {
          logger.warn({ eventId, code: err.code }, `the waiting room forgot this place: ${err.message}`);
          store.forget(server, eventId);
          if (alive.current) setEntry(undefined);
        } else {
          logger.debug({ eventId }, `reading the place in line failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      } finally {
        reading.current = false;
      }
    },
    [backend, eventId, keep, logger, now, server, store],
  );

  // Back on the screen (or after a restart): the remembered place is read once, with fresh numbers.
  const initial = useRef(entry);
  useEffect(() => {
    const first = initial.current;
    initial.current = undefined;
    if (first && first.state !== 'done') void read(first);
  }, [read]);

  useEffect(() => {
    const timer = setInterval(() => setTime(now()), 1000);
    return () => clearInterval(timer);
  }, [now]);

  useEffect(() => {
    if (entry && shouldRead(entry, line, streamLive, now() - lastRead.current)) void read(entry);
  }, [entry, line, streamLive, time, now, read]);

  const join = useCallback(() => {
    if (joining) return;
    setJoining(true);
    setError(undefined);
    // A repeat join answers the same entry, so a retry after a lost answer is harmless.
    backend.joinQueue(eventId).then(
      (joined) => {
        logger.info({ eventId, entryId: joined.id }, joined.position === null ? 'joined the line' : `joined the line at place ${joined.position}`);
        lastRead.current = now();
        keep(joined);
        if (alive.current) setJoining(false);
      },
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        logger.error({ eventId, ...(err instanceof ApiError ? { status: err.status, code: err.code } : {}) }, `joining the line failed: ${message}`);
        if (alive.current) {
          setError(message);
          setJoining(false);
        }
      },
    );
  }, [backend, eventId, joining, keep, logger, now]);

  return { entry, view: entry ? placeInLine(entry, line) : undefined, time, joining, error, fresh, join };
}
