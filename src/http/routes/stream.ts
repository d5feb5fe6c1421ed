import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Errors } from '../../core/errors.js';
import type { Change, TicketService } from '../../core/ticket-service.js';
import type { Event, QueueUpdate } from '../../core/types.js';
import type { AdmissionState } from '../admission.js';
import type { ListSnapshot, ListVersion } from '../list-snapshot.js';
import type { Metrics } from '../metrics.js';
import { errorResponses } from '../schemas.js';

/** How long changes are gathered before one message goes out to every subscriber. */
export const STREAM_FLUSH_MS = 100;
/** A comment line this often keeps proxies and the client's idle watchdog happy. */
export const STREAM_HEARTBEAT_MS = 15_000;
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

/** A message is either bytes made once for every subscriber, or a version of the list (a snapshot). */
type Message = Buffer | ListVersion;

interface Subscriber {
  res: ServerResponse;
  client: string;
  /** Messages broadcast while this subscriber's first snapshot was still being read. */
  queued: Message[] | undefined;
  /** Bytes of the snapshot it was last sent, allowed on top of the cap until they have drained. */
  allowance: number;
  /** Since when its unread bytes have been above the cap (the idle clock). */
  overSince: number | undefined;
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
 * are coalesced: whatever changed in a window of STREAM_FLUSH_MS goes out as ONE message, serialised
 * and encoded once and written to every subscriber, so a booking costs the stream a Map.set, not a write per
 * subscriber. A change made by another process (`external`) is answered with a fresh snapshot. The
 * snapshot is the list's shared Buffer (list-snapshot.ts), never encoded per subscriber.
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

const SNAPSHOT_PREFIX = Buffer.from('data: {"type":"snapshot","events":');
const SNAPSHOT_SUFFIX = Buffer.from('}\n\n');
const PING = Buffer.from(': ping\n\n');
const queueMessage = (queues: QueueUpdate[]): Buffer => Buffer.from(`data: ${JSON.stringify({ type: 'queue', queues })}\n\n`);

export class ChangeBroadcaster {
  private readonly subscribers = new Set<Subscriber>();
  private readonly perClient = new Map<string, number>();
  private availability = new Map<string, { availableTickets: number; heldTickets: number; checkedInTickets?: number }>();
  private created: Event[] = [];
  private resnapshot = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private flushing = false;
  private closed = false;
  private readonly stopListening: () => void;
  private readonly stopQueue: () => void;

  constructor(
    private readonly service: TicketService,
    private readonly log: FastifyBaseLogger,
    private readonly deps: { snapshot: ListSnapshot; metrics: Metrics; limits: StreamLimits },
  ) {
    this.stopListening = service.onChange(this.onChange);
    // The waiting rooms' lines, already coalesced (one update per line per tick, only on change):
    // one message for every subscriber, never one per waiting buyer.
    this.stopQueue = service.queue.subscribe((queues) => {
      const message = queueMessage(queues);
      for (const sub of this.subscribers) {
        if (sub.queued) sub.queued.push(message);
        else this.write(sub, message);
      }
    });
  }

  get size(): number {
    return this.subscribers.size;
  }

  countOf(client: string): number {
    return this.perClient.get(client) ?? 0;
  }

  add(res: ServerResponse, client: string): void {
    if (this.closed) {
      res.end();
      return;
    }
    const sub: Subscriber = { res, client, queued: [], allowance: 0, overSince: undefined };
    this.subscribers.add(sub);
    this.perClient.set(client, this.countOf(client) + 1);
    this.deps.metrics.streams.inc();
    res.once('close', () => {
      this.subscribers.delete(sub);
      const left = this.countOf(client) - 1;
      if (left <= 0) this.perClient.delete(client);
      else this.perClient.set(client, left);
      this.deps.metrics.streams.dec();
      if (this.subscribers.size === 0) {
        this.stopTimers();
        this.clearPending();
      }
    });
    // Its snapshot may stay unread once written: the allowance goes when it has all drained.
    res.on('drain', () => {
      if (res.writableLength === 0) sub.allowance = 0;
    });
    this.startTimers();
    // Subscribed before the snapshot is read, so no commit can fall between the two; what is broadcast
    // meanwhile waits in `queued` and follows the snapshot (messages carry absolute values, so replaying
    // one the snapshot already includes is harmless).
    this.deps.snapshot.get().then(
      (version) => {
        const queued = sub.queued ?? [];
        sub.queued = undefined;
        if (res.destroyed) return;
        this.write(sub, version);
        const lines = this.service.queue.current();
        if (lines.length > 0) this.write(sub, queueMessage(lines));
        for (const message of queued) this.write(sub, message);
      },
      (err: unknown) => {
        this.log.warn({ err }, 'event stream: cannot read the snapshot; closing the subscription');
        res.destroy();
      },
    );
  }

  /** Ends every subscription (the server is closing) and stops listening. */
  close(): void {
    this.closed = true;
    this.stopListening();
    this.stopQueue();
    clearTimeout(this.timer);
    this.stopTimers();
    // A subscriber with unread bytes may never read them: it would hold the server's close.
    for (const sub of this.subscribers) {
      if (sub.res.writableLength > 0) sub.res.destroy();
      else sub.res.end();
    }
  }

  private readonly onChange = (change: Change): void => {
    // Nobody listening: nothing to remember, and nothing already remembered may go out later either
    // (a `created` event kept from before would carry availability this change made stale).
    if (this.subscribers.size === 0) {
      if (this.timer || this.hasPending()) this.clearPending();
      return;
    }
    if ('external' in change) this.resnapshot = true;
    else if ('created' in change) this.created.push(change.created);
    else {
      // A check-in count is known only to commits that admitted someone: keep it across later changes of the window.
      const before = this.availability.get(change.eventId);
      const checkedIn = change.checkedInTickets ?? before?.checkedInTickets;
      this.availability.set(change.eventId, { availableTickets: change.availableTickets, heldTickets: change.heldTickets, ...(checkedIn === undefined ? {} : { checkedInTickets: checkedIn }) });
    }
    this.schedule();
  };

  private schedule(): void {
    if (this.timer || this.flushing || this.closed) return;
    this.timer = setTimeout(() => void this.flush(), STREAM_FLUSH_MS);
  }

  private clearPending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.resnapshot = false;
    this.created = [];
    this.availability.clear();
  }

  private hasPending(): boolean {
    return this.resnapshot || this.created.length > 0 || this.availability.size > 0;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.subscribers.size === 0) {
      this.clearPending();
      return;
    }
    let message: Message;
    if (this.resnapshot) {
      // Another process changed things: everything may be different, send the whole list once.
      this.resnapshot = false;
      this.created = [];
      this.availability.clear();
      this.flushing = true;
      try {
        message = await this.deps.snapshot.get();
      } catch (err) {
        this.log.warn({ err }, 'event stream: cannot read the list after an outside change');
        this.resnapshot = true;
        return;
      } finally {
        this.flushing = false;
        // Changes that arrived while the list was read (or a failed read) go out in the next window.
        if (this.hasPending()) this.schedule();
      }
    } else {
      const availability = [...this.availability].map(([id, counts]) => ({ id, ...counts }));
      // Encoded once: every subscriber's socket queues a reference to these same bytes.
      message = Buffer.from(`data: ${JSON.stringify({ type: 'changes', created: this.created, availability })}\n\n`);
      this.created = [];
      this.availability = new Map();
    }
    for (const sub of this.subscribers) {
      if (sub.queued) sub.queued.push(message);
      else this.write(sub, message);
    }
  }

  /**
   * Queues a message unless that would leave more than the cap unread (on top of a snapshot still
   * being read): then the subscriber is dropped instead, so a reader that stopped costs at most the
   * cap plus one snapshot, and the snapshot's bytes are shared with everyone else anyway.
   */
  private write(sub: Subscriber, message: Message): void {
    const { res } = sub;
    if (res.destroyed || res.writableEnded) return;
    const snapshot = !Buffer.isBuffer(message);
    const bytes = snapshot ? SNAPSHOT_PREFIX.length + message.body.length + SNAPSHOT_SUFFIX.length : message.length;
    // A snapshot is the one message allowed beyond the cap (it is shared, and a fresh subscriber has
    // nothing unread); a later one goes only to a subscriber that has read all but the cap of the last.
    if (res.writableLength + bytes > this.deps.limits.maxBufferedBytes + (snapshot ? bytes : sub.allowance)) {
      this.drop(sub, 'slow_reader');
      return;
    }
    if (!snapshot) {
      res.write(message);
      return;
    }
    sub.allowance = bytes;
    res.cork();
    res.write(SNAPSHOT_PREFIX);
    res.write(message.body);
    res.write(SNAPSHOT_SUFFIX);
    res.uncork();
  }

  private drop(sub: Subscriber, reason: 'slow_reader' | 'idle'): void {
    this.log.info({ reason, client: sub.client, unread: sub.res.writableLength }, 'event stream: dropping a subscriber that stopped reading');
    this.deps.metrics.streamsDropped.inc({ reason });
    this.subscribers.delete(sub);
    sub.res.destroy();
  }

  /** The idle clock: a subscriber whose unread bytes stay above the cap for the idle timeout goes. */
  private sweep(): void {
    const { maxBufferedBytes, idleTimeoutMs } = this.deps.limits;
    const now = Date.now();
    for (const sub of this.subscribers) {
      if (sub.res.writableLength <= maxBufferedBytes) sub.overSince = undefined;
      else if (sub.overSince === undefined) sub.overSince = now;
      else if (now - sub.overSince >= idleTimeoutMs) this.drop(sub, 'idle');
    }
  }

  private startTimers(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const sub of this.subscribers) if (!sub.queued) this.write(sub, PING);
    }, STREAM_HEARTBEAT_MS);
    this.heartbeat.unref();
    const every = Math.max(50, Math.min(1000, Math.floor(this.deps.limits.idleTimeoutMs / 4)));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  private stopTimers(): void {
    clearInterval(this.heartbeat);
    clearInterval(this.sweeper);
    this.heartbeat = undefined;
    this.sweeper = undefined;
  }
}
