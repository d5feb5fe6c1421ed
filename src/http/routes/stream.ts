import type { FastifyInstance } from 'fastify';
import { Errors } from '../../core/errors.js';
import type { TicketService } from '../../core/ticket-service.js';
import type { AdmissionState } from '../admission.js';
import { ChangeBroadcaster } from '../change-broadcaster.js';
import type { ListSnapshot } from '../list-snapshot.js';
import type { Metrics } from '../metrics.js';
import { errorResponses } from '../schemas.js';

/** A subscriber that lets this much pile up unread (beyond its snapshot) is dropped; it reconnects and gets a snapshot. */
export const MAX_BUFFERED_BYTES = 1 << 20;
export const DEFAULT_MAX_STREAMS = 1000;
export const DEFAULT_MAX_STREAMS_PER_CLIENT = 8;
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 30_000;

export interface StreamLimits {
  /** Subscribers at once for the whole process. */
  maxStreams: number;
  /** Subscribers at once per client address (request.ip, so --trust-proxy applies); 0 turns it off. */
  maxStreamsPerClient: number;
  /** A subscriber whose unread bytes stay above `maxBufferedBytes` this long is dropped. */
  idleTimeoutMs: number;
  maxBufferedBytes: number;
  retryAfterSeconds: number;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/**
 * `GET /events/stream`: Server-Sent Events with live availability.
 *
 * Every subscriber first gets `{"type":"snapshot","events":[…]}` (the list as `GET /events` shows it),
 * then `{"type":"changes","created":[…],"availability":[{"id","availableTickets","heldTickets"}]}` messages,
 * and `{"type":"queue","queues":[…]}` when a waiting room's line moved (waiting-room.ts). Holds,
 * releases, expiries, confirmations and cancellations change counts just like bookings. Commits
 * and line updates are coalesced (change-broadcaster.ts): whatever changed in a window of 100 ms
 * (up to 1 s with many subscribers; a sell-out at once) goes out as ONE write per subscriber, encoded once, so a booking
 * costs the stream a Map.set, not a write per subscriber.
 *
 * The route is admitted regardless of the in-flight limit (a subscription is long-lived and idle) and
 * hijacks the reply to stream on the raw response, as fastify recommends for SSE. What bounds it
 * instead: a quota of streams per client address and in all (429 too_many_streams), and dropping a
 * subscriber that does not read (unread bytes over the cap, or over it for the idle timeout).
 */
export function streamRoutes(
  app: FastifyInstance,
  deps: { service: TicketService; state: AdmissionState; snapshot: ListSnapshot; metrics: Metrics; limits: StreamLimits },
): void {
  const { limits, metrics } = deps;
  const broadcaster = new ChangeBroadcaster(deps.service, app.log, { snapshot: deps.snapshot, metrics, limits });
  const schema = { summary: 'Server-Sent Events: a snapshot, then coalesced count changes', tags: ['events'], response: { 200: { description: 'text/event-stream: `data:` lines of JSON messages (snapshot, changes)', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errorResponses(429, 503) } };

  app.get('/events/stream', { config: { alwaysAdmit: true }, exposeHeadRoute: false, schema: { ...schema, operationId: 'eventStream' } }, (request, reply) => {
    if (deps.state.shuttingDown) throw Errors.shuttingDown();
    const client = request.ip;
    const refusal =
      broadcaster.size >= limits.maxStreams
        ? Errors.tooManyStreams('server', limits.maxStreams)
        : limits.maxStreamsPerClient > 0 && broadcaster.countOf(client) >= limits.maxStreamsPerClient
          ? Errors.tooManyStreams('client', limits.maxStreamsPerClient)
          : undefined;
    if (refusal) {
      metrics.refused.inc({ reason: 'too_many_streams' });
      reply.header('retry-after', String(limits.retryAfterSeconds));
      throw refusal;
    }
    reply.hijack();
    const res = reply.raw;
    request.raw.socket.setNoDelay(true);
    request.raw.socket.setKeepAlive(true, 30_000);
    res.writeHead(200, {
      ...SSE_HEADERS,
      // The stream only ends when the server closes it; the socket should go with it rather than
      // linger in a client's keep-alive pool and hold up the server's shutdown.
      connection: 'close',
    });
    // Tells EventSource-style clients how soon to reconnect; our client has its own backoff.
    res.write('retry: 1000\n\n');
    broadcaster.add(res, client);
  });

  // What a GET would answer, without the stream: lets a monitor check the route (HEAD of a GET route,
  // as fastify does for every other one).
  app.head('/events/stream', { config: { alwaysAdmit: true }, schema: { ...schema, operationId: 'eventStreamHeaders', summary: 'The stream\'s headers, no body' } }, async (_request, reply) => {
    if (deps.state.shuttingDown) throw Errors.shuttingDown();
    return reply.code(200).headers(SSE_HEADERS).send();
  });

  app.addHook('preClose', (done) => {
    broadcaster.close();
    done();
  });
}
