import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Command, Outcome, Success } from './commands.js';
import { DEFAULT_PASS_SECONDS, queueWindow, soldOut } from './decisions/queue.js';
import { Errors } from './errors.js';
import { buyerOf, type IdentitySource } from './identity.js';
import type { Logger } from './logger.js';
import type { QueueLine, QueueLineRead, StoredQueueEntry } from './queue-effects.js';
import type { QueueCounts, Store } from './store.js';
import type { Event, QueueEntry, QueueSummary, QueueUpdate } from './types.js';
import { isUuidV4, parseId } from './validation.js';

/** How often each node runs every live line's housekeeping and publishes what changed (≤ 4 messages/s per event). */
export const QUEUE_TICK_MS = 250;
/** The admission rate (for ETAs) is measured over this much recent time. */
const RATE_WINDOW_MS = 60_000;
/** The pace (passes used per second, which the default window follows) over this much: it reacts within a few ticks. */
const PACE_WINDOW_MS = 2_000;
/** How often each node looks for waiting-room events (new ones, or made on another node). */
const ROOMS_REFRESH_MS = 1000;

export interface WaitingRoomDeps {
  store: Store;
  identity: IdentitySource;
  logger: Logger;
  /** One write through the service's lane, answered as it is. */
  submit: (command: Command) => Promise<Outcome>;
  /** Throws refusals as errors. */
  write: <K extends Extract<Outcome, { ok: true }>['kind']>(command: Command) => Promise<Success<K>>;
  getEvent: (id: string) => Promise<Event>;
  passSeconds?: number;
  /** 0: no timer (tests call `tick()`). */
  tickMs?: number;
}

export type QueueListener = (updates: QueueUpdate[]) => void;

/**
 * The virtual waiting room (issue 13), the service side: joining, the signed entry tokens and
 * admission passes, each buyer's authoritative state, the organiser's summary and pause, and the
 * housekeeping tick that advances every live line and publishes one coalesced update per change.
 * The rules themselves are decisions (decisions/queue.ts), decided in the write lane.
 */
export class WaitingRoom {
  private key: Promise<Buffer> | undefined;
  private readonly listeners = new Set<QueueListener>();
  private readonly published = new Map<string, string>();
  private readonly latest = new Map<string, QueueUpdate>();
  /** Per line, what this node saw after each advance: admitted so far, and finished (passes used) so far. */
  private readonly samples = new Map<string, Array<{ at: number; serving: number; finished: number }>>();
  /** Passes this node marked expired, per line: a slot freed, but nobody finished. */
  private readonly expiredSeen = new Map<string, number>();
  private readonly seenAdmitted = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking = false;
  /** `soon()` was asked while a tick ran: another runs when it ends. */
  private again = false;
  private nudged = false;
  /** The scheduled waiting-room events, re-read from storage at most once a second (never the whole event list). */
  private rooms: { ids: string[]; at: number } = { ids: [], at: 0 };
  private roomsStale = true;
  readonly passSeconds: number;
  /** Hears each buyer's wait (join or sale opening → admission) the first time this node shows the admission. */
  onWait: ((seconds: number) => void) | undefined;

  constructor(private readonly deps: WaitingRoomDeps) {
    this.passSeconds = deps.passSeconds ?? DEFAULT_PASS_SECONDS;
    const every = deps.tickMs ?? QUEUE_TICK_MS;
    if (every > 0) {
      this.timer = setInterval(() => void this.tick(), every);
      this.timer.unref?.();
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Joins the line, or answers the buyer's active entry again (`cookie`: the `bo_queue` value). */
  async join(eventId: unknown, address: string, cookie?: string): Promise<{ entry: QueueEntry; created: boolean }> {
    const id = parseId(eventId, 'eventId');
    const command: Command = { type: 'joinQueue', eventId: id, entryId: this.deps.identity.newId(), buyer: buyerOf(address) };
    const known = cookie === undefined ? undefined : await this.verifyToken(id, cookie);
    if (known !== undefined) command.knownEntryId = known;
    const outcome = await this.deps.write<'queueEntry'>(command);
    const event = await this.deps.getEvent(id);
    return { entry: await this.present(outcome.entry, outcome.line, event), created: outcome.created };
  }

  /** The entry's authoritative state, for a holder of its token. */
  async status(eventId: unknown, entryId: unknown, token: unknown): Promise<QueueEntry> {
    const id = parseId(eventId, 'eventId');
    const entryKey = typeof entryId === 'string' && isUuidV4(entryId) ? entryId.toLowerCase() : undefined;
    const entry = entryKey === undefined ? undefined : await this.deps.store.getQueueEntry(entryKey);
    if (!entry) throw Errors.queueEntryNotFound(String(entryId));
    if (typeof token !== 'string' || (await this.verifyToken(id, token)) !== entry.id || entry.eventId !== id) throw Errors.invalidQueueToken();
    const [event, line] = await Promise.all([this.deps.getEvent(id), this.deps.store.queueLine(id)]);
    return this.present(entry, line!, event);
  }

  /** The organiser's view of the line. */
  async summary(eventId: unknown): Promise<QueueSummary> {
    const event = await this.deps.getEvent(parseId(eventId, 'eventId'));
    if (!event.waitingRoom) throw Errors.noWaitingRoom(event.name);
    const counts = await this.deps.store.queueSummary(event.id, this.nowIso());
    return this.summarise(event, counts);
  }

  async setPaused(eventId: unknown, paused: boolean): Promise<QueueSummary> {
    const id = parseId(eventId, 'eventId');
    await this.deps.write<'queueLine'>({ type: 'pauseQueue', eventId: id, paused });
    return this.summary(id);
  }

  /**
   * What a hold or booking carries for its pass: the entry it names when the signature binds it to
   * this event (its use and expiry are decided in the transaction), else `invalid`.
   */
  async readPass(eventId: string, pass: unknown): Promise<{ entryId: string } | 'invalid'> {
    if (typeof pass !== 'string' || pass.length > 200) return 'invalid';
    const [entryId, expires, mac] = pass.split('.');
    if (!entryId || !expires || !mac || !isUuidV4(entryId)) return 'invalid';
    return (await this.matches(mac, `pass:${eventId}:${entryId}:${expires}`)) ? { entryId } : 'invalid';
  }

  /**
   * Runs a tick as soon as possible instead of at the next interval (a sell-out is news to send at
   * once). Only with the timer running: tests drive `tick()` themselves.
   */
  soon(): void {
    if (this.timer === undefined || this.nudged) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.nudged = true;
    setImmediate(() => {
      this.nudged = false;
      // Closed meanwhile (the server is stopping): its storage may be gone.
      if (this.timer !== undefined) void this.tick();
    });
  }

  /** An event was created or changed (here or, as far as this node knows, elsewhere): look for rooms again on the next tick. */
  eventsChanged(): void {
    this.roomsStale = true;
  }

  subscribe(listener: QueueListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every live line as last published (a new stream subscriber starts from these). */
  current(): QueueUpdate[] {
    return [...this.latest.values()];
  }

  /**
   * One round of housekeeping: each waiting room whose joins are open and whose event is still to
   * come is advanced through the lane (any node may do it; the decision is conditional on the
   * line's version), and what changed is published once.
   */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = this.deps.identity.now().getTime();
      if (this.roomsStale || now - this.rooms.at >= ROOMS_REFRESH_MS || now < this.rooms.at) {
        this.roomsStale = false;
        this.rooms = { ids: await this.deps.store.waitingRoomEvents(new Date(now).toISOString()), at: now };
      }
      const changed: QueueUpdate[] = [];
      for (const id of this.rooms.ids) {
        const event = await this.deps.getEvent(id);
        if (!event.waitingRoom || event.status !== 'scheduled' || Date.parse(event.date) <= now || (event.waitingRoomOpensAt !== null && Date.parse(event.waitingRoomOpensAt) > now)) continue;
        const outcome = await this.deps.submit({ type: 'advanceQueue', eventId: event.id, passSeconds: this.passSeconds, finishedPerSecond: this.pace(event.id) });
        if (!outcome.ok || outcome.kind !== 'queueLine') continue;
        if (outcome.expiredNow > 0) this.expiredSeen.set(event.id, (this.expiredSeen.get(event.id) ?? 0) + outcome.expiredNow);
        const fresh = await this.deps.getEvent(event.id);
        const update = this.update(fresh, outcome.line, now);
        const text = JSON.stringify(update);
        if (this.published.get(event.id) !== text) {
          this.published.set(event.id, text);
          this.latest.set(event.id, update);
          changed.push(update);
        }
      }
      if (changed.length > 0) for (const listener of this.listeners) listener(changed);
    } catch (err) {
      this.deps.logger.warn({ err }, 'waiting room housekeeping failed; retrying on the next tick');
    } finally {
      this.ticking = false;
      if (this.again) {
        this.again = false;
        this.soon();
      }
    }
  }

  /** Admissions per minute over the last minute, measured from the serving counter this node saw. */
  rate(eventId: string): number {
    const samples = this.samples.get(eventId);
    if (!samples || samples.length < 2) return 0;
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    const span = Math.max(last.at - first.at, 1000);
    return Math.round(((last.serving - first.serving) / span) * 60_000);
  }

  /** Passes used per second on this line over the last couple of seconds (0 until measured). */
  pace(eventId: string): number {
    const samples = this.samples.get(eventId);
    if (!samples || samples.length < 2) return 0;
    const last = samples[samples.length - 1]!;
    let first = samples[samples.length - 2]!;
    for (let i = samples.length - 2; i >= 0 && samples[i]!.at >= last.at - PACE_WINDOW_MS; i--) first = samples[i]!;
    const span = last.at - first.at;
    return span > 0 ? Math.max(0, ((last.finished - first.finished) / span) * 1000) : 0;
  }

  private update(event: Event, line: QueueLineRead, now: number): QueueUpdate {
    const samples = this.samples.get(event.id) ?? [];
    samples.push({ at: now, serving: line.serving, finished: line.serving - line.admitted - (this.expiredSeen.get(event.id) ?? 0) });
    while (samples.length > 2 && samples[0]!.at < now - RATE_WINDOW_MS) samples.shift();
    this.samples.set(event.id, samples);
    return {
      eventId: event.id,
      serving: line.serving,
      length: line.joined,
      soldOut: soldOut(event),
      heldElsewhere: event.availableTickets === 0 && event.heldTickets > 0,
      paused: line.paused,
      admitRatePerMinute: this.rate(event.id),
      open: line.openedAt !== null,
    };
  }

  private summarise(event: Event, counts: QueueCounts | undefined): QueueSummary {
    const c = counts ?? { serving: 0, paused: false, openedAt: null, joined: 0, waiting: 0, admitted: 0, due: 0, done: 0, expired: 0 };
    return {
      eventId: event.id,
      length: c.joined,
      waiting: c.waiting,
      admitted: c.serving,
      inProgress: c.admitted - c.due,
      done: c.done,
      expired: c.expired + c.due,
      serving: c.serving,
      window: queueWindow(event, this.pace(event.id)),
      paused: c.paused,
      admitRatePerMinute: this.rate(event.id),
      open: c.openedAt !== null,
      opensAt: event.waitingRoomOpensAt,
      onSaleAt: event.onSaleAt,
    };
  }

  private async present(entry: StoredQueueEntry, line: QueueLine, event: Event): Promise<QueueEntry> {
    const now = this.nowIso();
    let state: QueueEntry['state'] = entry.state;
    if (state === 'admitted' && entry.passExpiresAt! <= now) state = 'expired';
    if (state === 'waiting' && soldOut(event)) state = 'sold_out';
    const ahead = entry.position === null ? null : state === 'waiting' || state === 'sold_out' ? Math.max(0, entry.position - line.serving - 1) : 0;
    const rate = this.rate(event.id);
    const admitted = state === 'admitted';
    if (admitted && !this.seenAdmitted.has(entry.id)) {
      this.seenAdmitted.add(entry.id);
      if (this.seenAdmitted.size > 100_000) this.seenAdmitted.clear();
      const from = Math.max(Date.parse(entry.joinedAt), line.openedAt ? Date.parse(line.openedAt) : 0);
      this.onWait?.(Math.max(0, (Date.parse(entry.admittedAt!) - from) / 1000));
    }
    return {
      id: entry.id,
      eventId: entry.eventId,
      token: await this.token(entry.eventId, entry.id),
      state,
      position: entry.position,
      ahead,
      etaSeconds: ahead === null || state !== 'waiting' ? null : rate > 0 ? Math.round(((ahead + 1) / rate) * 60) : null,
      joinedAt: entry.joinedAt,
      shuffleAt: event.onSaleAt,
      pass: admitted ? await this.pass(entry) : null,
      passExpiresAt: admitted ? entry.passExpiresAt : null,
      heldElsewhere: event.availableTickets === 0 && event.heldTickets > 0,
    };
  }

  /** The entry's token: proves the entry of this event (HMAC-SHA256 with the key every node shares). */
  async token(eventId: string, entryId: string): Promise<string> {
    return `${entryId}.${await this.mac(`token:${eventId}:${entryId}`)}`;
  }

  private async pass(entry: StoredQueueEntry): Promise<string> {
    const expires = Date.parse(entry.passExpiresAt!);
    return `${entry.id}.${expires}.${await this.mac(`pass:${entry.eventId}:${entry.id}:${expires}`)}`;
  }

  /** The entry id a token proves for this event, if it is genuine. */
  private async verifyToken(eventId: string, token: string): Promise<string | undefined> {
    if (token.length > 200) return undefined;
    const [entryId, mac, extra] = token.split('.');
    if (!entryId || !mac || extra !== undefined || !isUuidV4(entryId)) return undefined;
    return (await this.matches(mac, `token:${eventId}:${entryId}`)) ? entryId : undefined;
  }

  /** Compared in constant time: a forged MAC learns nothing from how long the refusal took. */
  private async matches(mac: string, message: string): Promise<boolean> {
    const expected = Buffer.from(await this.mac(message));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async mac(message: string): Promise<string> {
    this.key ??= this.deps.store.sharedKey('waiting-room').then(
      (hex) => Buffer.from(hex, 'hex'),
      (err: unknown) => {
        this.key = undefined;
        throw err;
      },
    );
    return createHmac('sha256', await this.key).update(message).digest('base64url');
  }

  private nowIso(): string {
    return this.deps.identity.now().toISOString();
  }
}
