import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describeNetworkError } from './api-error.js';
import type { EventStreamMessage, StreamStatus } from './types.js';

export interface SubscribeHandlers {
  onMessage(message: EventStreamMessage): void;
  onStatus?(status: StreamStatus): void;
}

export interface SubscribeOptions {
  /** First reconnect delay; doubles per failed attempt (default 250 ms). */
  minDelayMs?: number;
  /** Longest reconnect delay (default 5 s). */
  maxDelayMs?: number;
  /** Reconnect when nothing, not even a heartbeat, arrived for this long (default 45 s). */
  idleTimeoutMs?: number;
}

export interface EventSubscription {
  /** Stops for good: closes the connection and cancels any pending reconnect. */
  close(): void;
}

export interface StreamContext {
  url: string;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * Follows `GET /events/stream`, reconnecting with exponential backoff whenever the connection fails or
 * ends. After every (re)connect the server sends a full snapshot first, so nothing missed while
 * disconnected is ever lost; the backoff starts over once a connection delivered a message.
 *
 * The stream uses its own connection (node:http, no agent) rather than fetch: a pooled client keeps
 * or re-opens sockets after an abort, which would hold up a server that is trying to shut down.
 */
export function subscribeToEvents(context: StreamContext, handlers: SubscribeHandlers, options: SubscribeOptions = {}): EventSubscription {
  const minDelay = options.minDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 5_000;
  const idleTimeout = options.idleTimeoutMs ?? 45_000;
  const stop = new AbortController();
  const status = (s: StreamStatus) => {
    if (!stop.signal.aborted || s.state === 'closed') {
      try {
        handlers.onStatus?.(s);
      } catch {
        // a status display must not break the subscription
      }
    }
  };

  const run = async () => {
    let attempt = 0;
    status({ state: 'connecting' });
    while (!stop.signal.aborted) {
      const connection = new AbortController();
      const abortConnection = () => connection.abort(stop.signal.reason);
      stop.signal.addEventListener('abort', abortConnection, { once: true });
      let idleTimer: ReturnType<typeof setTimeout> | undefined;
      let idle = false;
      const touch = () => {
        clearTimeout(idleTimer);
        idleTimer = setTimeout(() => {
          idle = true;
          connection.abort(new Error('idle'));
        }, idleTimeout);
        idleTimer.unref?.();
      };
      let reason: string;
      try {
        touch();
        const res = await get(context.url, connection.signal);
        if (res.statusCode !== 200) {
          reason = await describeRefusal(res);
        } else {
          let opened = false;
          for await (const data of readEventStream(res, touch)) {
            let message: EventStreamMessage;
            try {
              message = JSON.parse(data) as EventStreamMessage;
            } catch {
              continue;
            }
            if (!opened) {
              opened = true;
              attempt = 0;
              status({ state: 'open' });
            }
            try {
              handlers.onMessage(message);
            } catch {
              // a failing consumer must not break the subscription
            }
          }
          reason = 'the stream was closed';
        }
      } catch (err) {
        if (stop.signal.aborted) break;
        reason = idle ? `nothing heard for ${Math.round(idleTimeout / 1000)} s` : describeNetworkError(err).reason;
      } finally {
        clearTimeout(idleTimer);
        stop.signal.removeEventListener('abort', abortConnection);
        connection.abort();
      }
      if (stop.signal.aborted) break;
      attempt++;
      const delayMs = Math.min(maxDelay, minDelay * 2 ** (attempt - 1));
      status({ state: 'reconnecting', attempt, delayMs, reason });
      try {
        await context.sleep(delayMs, stop.signal);
      } catch {
        break;
      }
    }
    status({ state: 'closed' });
  };
  void run();
  return { close: () => stop.abort() };
}

/** One GET on a connection of its own; aborting `signal` destroys it. */
function get(url: string, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(url, { agent: false, headers: { accept: 'text/event-stream' }, signal }, resolve);
    req.once('error', reject);
    req.end();
  });
}

async function describeRefusal(res: IncomingMessage): Promise<string> {
  let message = `HTTP ${res.statusCode}`;
  try {
    let text = '';
    for await (const chunk of res) text += String(chunk);
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') message = `${message}: ${body.message}`;
  } catch {
    // not JSON
  }
  return message;
}

/**
 * The `data` of each Server-Sent Event in a byte stream. Comments (heartbeats) and other fields are
 * skipped; `onBytes` hears every chunk, so a caller can watch for silence.
 */
export async function* readEventStream(body: AsyncIterable<Uint8Array>, onBytes: () => void = () => {}): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  for await (const chunk of body) {
    onBytes();
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\n|\r/)) !== -1) {
      // A lone CR at the end may be the first half of CRLF: wait for the next chunk.
      if (buffer[newline] === '\r' && newline === buffer.length - 1) break;
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer[newline] === '\r' && buffer[newline + 1] === '\n' ? 2 : 1));
      if (line === '') {
        if (data.length > 0) yield data.join('\n');
        data = [];
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line[5] === ' ' ? 6 : 5));
      }
      // ':' comments, event:, id: and retry: carry nothing we use.
    }
  }
}
