import { useCallback, useEffect, useRef, useState } from 'react';
import type { BoxofficeClient } from '../client/boxoffice-client.js';
import type { EventSubscription } from '../client/event-stream.js';
import type { StreamStatus } from '../client/types.js';
import type { Logger } from '../core/logger.js';
import type { Status } from './components/StatusLine.js';
import { EventsModel } from './events-model.js';
import { QueueLines } from './waiting-room/queue-lines.js';
import { formatDelay, plural } from './format.js';
import { useThrottledSubscription } from './hooks.js';
import type { StartFn } from './startup.js';

/** Where the connection reports to the status line. */
export interface ConnectionNotices {
  setStatus(status: Status): void;
  notice(status: Status): void;
  refreshNotice(status: Status): void;
}

/**
 * The buyer's view of the server: `connect` waits for /healthz (with retries), then loads the list
 * and keeps it live over the event stream; a lost stream is said in the status line (refreshed on
 * each retry while nothing else was said) and so is its return. `close` ends the stream.
 */
export function useBuyerConnection(client: BoxofficeClient, logger: Logger, connectTimeoutMs: number, notices: ConnectionNotices) {
  const [model] = useState(() => new EventsModel());
  useThrottledSubscription(useCallback((listener) => model.subscribe(listener), [model]));
  // The waiting rooms' serving counters (issue 13), apart from the events: they change more often.
  const [lines] = useState(() => new QueueLines());
  useThrottledSubscription(useCallback((listener) => lines.subscribe(listener), [lines]));
  const subscription = useRef<EventSubscription | undefined>(undefined);
  const lost = useRef(false);
  const { setStatus, notice, refreshNotice } = notices;

  const onStreamStatus = useCallback(
    (s: StreamStatus) => {
      model.setStatus(s);
      if (s.state === 'reconnecting') {
        if (!lost.current) logger.warn({ reason: s.reason }, `lost the live connection to ${client.baseUrl}: ${s.reason}`);
        else logger.debug({ reason: s.reason, attempt: s.attempt, delayMs: s.delayMs }, 'live connection: retrying');
        const text: Status = { kind: 'error', text: `Lost connection to the server: ${s.reason}. Retrying in ${formatDelay(s.delayMs)}…` };
        if (lost.current) refreshNotice(text);
        else notice(text);
        lost.current = true;
      } else if (s.state === 'open' && lost.current) {
        lost.current = false;
        logger.info(`live connection to ${client.baseUrl} is back`);
        setStatus({ kind: 'success', text: 'Reconnected to the server; the list is live again.' });
      }
    },
    [client.baseUrl, logger, model, notice, refreshNotice, setStatus],
  );

  const connect: StartFn = useCallback(
    async (signal, onProgress) => {
      logger.info(`connecting to ${client.baseUrl}`);
      try {
        await client.waitForServer({
          timeoutMs: connectTimeoutMs,
          intervalMs: 500,
          signal,
          onAttempt: (n, elapsed, lastError) => {
            if (lastError) logger.debug({ attempt: n - 1 }, lastError.message);
            onProgress({
              fraction: (0.6 * elapsed) / connectTimeoutMs,
              label: n === 1 ? `Connecting to ${client.baseUrl}…` : `Connecting to ${client.baseUrl}… (attempt ${n}; ${lastError?.message ?? ''})`,
            });
          },
        });
        if (signal.aborted) return;
        onProgress({ fraction: 0.6, label: 'Loading events…' });
        subscription.current?.close();
        subscription.current = client.subscribe({ onMessage: (m) => (m.type === 'queue' ? lines.apply(m.queues) : model.apply(m)), onStatus: onStreamStatus });
        const events = await client.listEvents({ signal });
        if (!model.loaded) model.apply({ type: 'snapshot', events });
        logger.info(`connected to ${client.baseUrl}: ${plural(events.length, 'event')}`);
        onProgress({ fraction: 1, label: `Connected to ${client.baseUrl}.` });
      } catch (err) {
        if (!signal.aborted) {
          logger.error({ url: client.baseUrl }, err instanceof Error ? err.message : String(err));
          subscription.current?.close();
          subscription.current = undefined;
        }
        throw err;
      }
    },
    [client, connectTimeoutMs, lines, logger, model, onStreamStatus],
  );

  const close = useCallback(() => subscription.current?.close(), []);
  useEffect(() => close, [close]);

  return { model, lines, connect, close };
}
