import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import { Errors } from '../../core/errors.js';
import type { Change, TicketService } from '../../core/ticket-service.js';
import type { Event } from '../../core/types.js';
import type { AdmissionState } from '../admission.js';

/** How long changes are gathered before one message goes out to every subscriber. */
export const STREAM_FLUSH_MS = 100;
/** A comment line this often keeps proxies and the client's idle watchdog happy. */
export const STREAM_HEARTBEAT_MS = 15_000;
/** A subscriber that lets this much pile up unread is dropped; it reconnects and gets a snapshot. */
const MAX_BUFFERED_BYTES = 1 << 20;

interface Subscriber {
  res: ServerResponse;
  /** Messages broadcast while this subscriber's first snapshot was still being read. */
  queued: string[] | undefined;
}

/**
 * `GET /events/stream`: Server-Sent Events with live availability.
 *
 * Every subscriber first gets `{"type":"snapshot","events":[…]}` (the list as `GET /events` shows it),
 * then `{"type":"changes","created":[…],"availability":[{"id","availableTickets","heldTickets"}]}` messages. Holds,
 * releases, expiries, confirmations and cancellations change counts just like bookings. Commits
 * are coalesced: whatever changed in a window of STREAM_FLUSH_MS goes out as ONE message, serialised
 * once and written to every subscriber, so a booking costs the stream a Map.set, not a write per
 * subscriber. A change made by another process (`external`) is answered with a fresh snapshot.
 *
 * The route is admitted regardless of the in-flight limit (a subscription is long-lived and idle) and
 * hijacks the reply to stream on the raw response, as fastify recommends for SSE.
 */
export function streamRoutes(app: FastifyInstance, deps: { service: TicketService; state: AdmissionState }): void {
  const broadcaster = new ChangeBroadcaster(deps.service, app.log);

  app.get(
    '/events/stream',
    {
      config: { alwaysAdmit: true },
      exposeHeadRoute: false,
      schema: { summary: 'Server-Sent Events: a snapshot, then coalesced count changes', tags: ['events'] },
    },
    (request, reply) => {
      if (deps.state.shuttingDown) throw Errors.shuttingDown();
      reply.hijack();
      const res = reply.raw;
      request.raw.socket.setNoDelay(true);
      request.raw.socket.setKeepAlive(true, 30_000);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // The stream only ends when the server closes it; the socket should go with it rather than
        // linger in a client's keep-alive pool and hold up the server's shutdown.
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      // Tells EventSource-style clients how soon to reconnect; our client has its own backoff.
      res.write('retry: 1000\n\n');
      broadcaster.add(res);
    },
  );

  app.addHook('preClose', (done) => {
    broadcaster.close();
    done();
  });
}

export class ChangeBroadcaster {
  private readonly subscribers = new Set<Subscriber>();
  private availability = new Map<string, { availableTickets: number; heldTickets: number; checkedInTickets?: number }>();
  private created: Event[] = [];
  private resnapshot = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private flushing = false;
  private closed = false;
  private readonly stopListening: () => void;

  constructor(
    private readonly service: TicketService,
    private readonly log: FastifyBaseLogger,
  ) {
    this.stopListening = service.onChange(this.onChange);
  }

  get size(): number {
    return this.subscribers.size;
  }

  add(res: ServerResponse): void {
    if (this.closed) {
      res.end();
      return;
    }
    const sub: Subscriber = { res, queued: [] };
    this.subscribers.add(sub);
    res.once('close', () => {
      this.subscribers.delete(sub);
      if (this.subscribers.size === 0) {
        this.stopHeartbeat();
        this.clearPending();
      }
    });
    this.startHeartbeat();
    // Subscribed before the snapshot is read, so no commit can fall between the two; what is broadcast
    // meanwhile waits in `queued` and follows the snapshot (messages carry absolute values, so replaying
    // one the snapshot already includes is harmless).
    this.service.listEventsJson().then(
      (json) => {
        const queued = sub.queued ?? [];
        sub.queued = undefined;
        if (res.destroyed) return;
        this.write(sub, snapshotFrame(json));
        for (const message of queued) this.write(sub, message);
      },
      (err: unknown) => {
        this.log.warn({ err }, 'event stream: cannot read the snapshot; closing the subscription');
        this.subscribers.delete(sub);
        res.destroy();
      },
    );
  }

  /** Ends every subscription (the server is closing) and stops listening. */
  close(): void {
    this.closed = true;
    this.stopListening();
    clearTimeout(this.timer);
    this.stopHeartbeat();
    for (const sub of this.subscribers) sub.res.end();
    this.subscribers.clear();
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
    let message: string;
    if (this.resnapshot) {
      // Another process changed things: everything may be different, send the whole list once.
      this.resnapshot = false;
      this.created = [];
      this.availability.clear();
      this.flushing = true;
      try {
        message = snapshotFrame(await this.service.listEventsJson());
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
      message = `data: ${JSON.stringify({ type: 'changes', created: this.created, availability })}\n\n`;
      this.created = [];
      this.availability = new Map();
    }
    for (const sub of this.subscribers) {
      if (sub.queued) sub.queued.push(message);
      else this.write(sub, message);
    }
  }

  private write(sub: Subscriber, text: string): void {
    const { res } = sub;
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      this.log.warn('event stream: dropping a subscriber that stopped reading');
      this.subscribers.delete(sub);
      res.destroy();
      return;
    }
    res.write(text);
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      for (const sub of this.subscribers) if (!sub.queued) this.write(sub, ': ping\n\n');
    }, STREAM_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

function snapshotFrame(listJson: string): string {
  return `data: {"type":"snapshot","events":${listJson}}\n\n`;
}
