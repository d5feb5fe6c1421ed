import type { FastifyBaseLogger } from 'fastify';
import type { ServerResponse } from 'node:http';
import { soldOut } from '../core/decisions/queue.js';
import type { Change, TicketService } from '../core/ticket-service.js';
import type { Event, QueueUpdate } from '../core/types.js';
import type { ListSnapshot, ListVersion } from './list-snapshot.js';
import type { Metrics } from './metrics.js';

/** The shortest time changes are gathered before one message goes out to every subscriber. */
export const STREAM_FLUSH_MS = 100;
/** The longest: a position or a count on screen is at most this late. */
export const STREAM_FLUSH_MAX_MS = 1000;
/**
 * Socket writes per second the stream aims to stay under. A write is a syscall (~12 µs measured on
 * loopback, where it also runs the receiver's TCP stack): at 10,000 subscribers and a message every
 * 100 ms the stream alone would need more than a core. Past this budget the window grows instead.
 */
export const STREAM_WRITES_PER_SECOND = 10_000;
/** A comment line this often keeps proxies and the client's idle watchdog happy. */
export const STREAM_HEARTBEAT_MS = 15_000;

/** How long the next window gathers changes for this many subscribers. */
export function flushWindowMs(subscribers: number): number {
  return Math.min(STREAM_FLUSH_MAX_MS, Math.max(STREAM_FLUSH_MS, Math.ceil((subscribers * 1000) / STREAM_WRITES_PER_SECOND)));
}

export interface BroadcastLimits {
  /** A subscriber whose unread bytes stay above `maxBufferedBytes` this long is dropped. */
  idleTimeoutMs: number;
  maxBufferedBytes: number;
}

const CRLF = Buffer.from('\r\n');

/**
 * Bytes made once for every subscriber, and framed once as an HTTP/1.1 chunk: each subscriber's socket
 * is given one shared buffer, one write, instead of the three pieces (length, data, CRLF) and the
 * cork per write that `res.write` makes. With 10,000 subscribers that is the stream's whole cost,
 * and what piles up in memory for those that read slowly.
 */
class Frame {
  private chunk: Buffer | undefined;
  constructor(readonly raw: Buffer) {}
  get chunked(): Buffer {
    this.chunk ??= Buffer.concat([Buffer.from(`${this.raw.length.toString(16)}\r\n`), this.raw, CRLF]);
    return this.chunk;
  }
}

/** A message is either a frame made once for every subscriber, or a version of the list (a snapshot). */
type Message = Frame | ListVersion;

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

const SNAPSHOT_PREFIX = Buffer.from('data: {"type":"snapshot","events":');
const SNAPSHOT_SUFFIX = Buffer.from('}\n\n');
const PING = new Frame(Buffer.from(': ping\n\n'));
const sse = (message: object): string => `data: ${JSON.stringify(message)}\n\n`;
const queueMessage = (queues: QueueUpdate[]): Frame => new Frame(Buffer.from(sse({ type: 'queue', queues })));

/**
 * The event stream's fan-out. Commits and the waiting rooms' line updates are gathered in a window
 * and go out as ONE write per subscriber: the `changes` and `queue` messages of a window share one
 * buffer, serialised and encoded once, whose bytes every subscriber's socket queues by reference. The
 * window is 100 ms, longer with more subscribers (flushWindowMs), so the writes per second stay bounded
 * however many buyers follow a line; a sell-out is sent at once. A change made by another process (`external`) is answered
 * with a fresh snapshot (the list's shared Buffer, never encoded per subscriber).
 */
export class ChangeBroadcaster {
  private readonly subscribers = new Set<Subscriber>();
  private readonly perClient = new Map<string, number>();
  private availability = new Map<string, { availableTickets: number; heldTickets: number; checkedInTickets?: number }>();
  private created: Event[] = [];
  private lines = new Map<string, QueueUpdate>();
  private resnapshot = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private sweeper: ReturnType<typeof setInterval> | undefined;
  /** When the pending window's flush fires (performance.now()). */
  private dueAt = 0;
  /** Lines whose sold-out state the stream last sent, so news of a sell-out is sent at once. */
  private readonly soldOutSent = new Map<string, boolean>();
  private flushing = false;
  private closed = false;
  private readonly stopListening: () => void;
  private readonly stopQueue: () => void;

  constructor(
    private readonly service: TicketService,
    private readonly log: FastifyBaseLogger,
    private readonly deps: { snapshot: ListSnapshot; metrics: Metrics; limits: BroadcastLimits },
  ) {
    this.stopListening = service.onChange(this.onChange);
    // The lines come already coalesced (one update per line per tick, only on change); a later one
    // of the same line in the same window replaces the earlier (they carry absolute values).
    this.stopQueue = service.queue.subscribe((queues) => {
      if (this.subscribers.size === 0) return;
      let news = false;
      for (const update of queues) {
        this.lines.set(update.eventId, update);
        if (update.soldOut !== (this.soldOutSent.get(update.eventId) ?? false)) news = true;
        this.soldOutSent.set(update.eventId, update.soldOut);
      }
      this.schedule(news);
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
    // Its snapshot may stay unread once written: the allowance goes when it has all drained (the
    // socket's drain: frames are written to it directly).
    res.socket?.on('drain', () => {
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
      // Sold out is news nobody should wait a long window for. (Not "all held": holds coming and
      // going at the last tickets would cut every window short.)
      if (soldOut(change)) {
        this.schedule(true);
        return;
      }
    }
    this.schedule();
  };

  /** Starts a window unless one is open; `urgent` news (a sell-out) closes the window at once. */
  private schedule(urgent = false): void {
    if (this.flushing || this.closed) return;
    const delay = urgent ? 0 : flushWindowMs(this.subscribers.size);
    if (this.timer) {
      if (performance.now() + delay >= this.dueAt) return;
      clearTimeout(this.timer);
    }
    this.dueAt = performance.now() + delay;
    this.timer = setTimeout(() => void this.flush(), delay);
  }

  private clearPending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.resnapshot = false;
    this.created = [];
    this.availability.clear();
    this.lines.clear();
  }

  private hasPending(): boolean {
    return this.resnapshot || this.created.length > 0 || this.availability.size > 0 || this.lines.size > 0;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.subscribers.size === 0) {
      this.clearPending();
      return;
    }
    const messages: Message[] = [];
    if (this.resnapshot) {
      // Another process changed things: everything may be different, send the whole list once.
      this.resnapshot = false;
      this.created = [];
      this.availability.clear();
      this.flushing = true;
      try {
        messages.push(await this.deps.snapshot.get());
      } catch (err) {
        this.log.warn({ err }, 'event stream: cannot read the list after an outside change');
        this.resnapshot = true;
        return;
      } finally {
        this.flushing = false;
        // Changes that arrived while the list was read (or a failed read) go out in the next window.
        if (this.hasPending()) this.schedule();
      }
    }
    // The window's messages in one buffer, encoded once: every subscriber's socket queues a reference
    // to these same bytes, one write each.
    let text = '';
    if (this.created.length > 0 || this.availability.size > 0) {
      const availability = [...this.availability].map(([id, counts]) => ({ id, ...counts }));
      text += sse({ type: 'changes', created: this.created, availability });
      this.created = [];
      this.availability = new Map();
    }
    if (this.lines.size > 0) {
      text += sse({ type: 'queue', queues: [...this.lines.values()] });
      this.lines = new Map();
    }
    if (text !== '') messages.push(new Frame(Buffer.from(text)));
    for (const sub of this.subscribers) {
      for (const message of messages) {
        if (sub.queued) sub.queued.push(message);
        else this.write(sub, message);
      }
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
    const snapshot = !(message instanceof Frame);
    const bytes = snapshot ? SNAPSHOT_PREFIX.length + message.body.length + SNAPSHOT_SUFFIX.length : message.raw.length;
    // A snapshot is the one message allowed beyond the cap (it is shared, and a fresh subscriber has
    // nothing unread); a later one goes only to a subscriber that has read all but the cap of the last.
    if (res.writableLength + bytes > this.deps.limits.maxBufferedBytes + (snapshot ? bytes : sub.allowance)) {
      this.drop(sub, 'slow_reader');
      return;
    }
    if (!snapshot) {
      // Straight to the socket, after the headers and whatever `res` wrote (they are on it already):
      // a chunk for HTTP/1.1, the bytes as they are for an HTTP/1.0 reader (its body ends with the connection).
      const socket = res.socket;
      if (socket && !socket.destroyed) socket.write(res.chunkedEncoding ? message.chunked : message.raw);
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
