import { systemIdentity, type IdentitySource } from './decide-batch.js';
import { Errors, isBoxofficeError } from './errors.js';
import { EventCatalog } from './event-catalog.js';
import { GroupCommitter } from './group-commit.js';
import { presentHold, publicBooking } from './hold-decisions.js';
import { Housekeeping } from './housekeeping.js';
import { secretMatches } from './identity.js';
import { silentLogger, type Logger } from './logger.js';
import type { BookingOutcome, BookingRequest, ConfirmOutcome, EventCounts, ExpiryResult, HoldOutcome, Store } from './store.js';
import type { Booking, Event, Hold, Ticket } from './types.js';
import { parseId, parseIdempotencyKey, parseTicketCount, parseTicketIds, validateNewEvent } from './validation.js';

export interface TicketServiceOptions {
  /** Events kept in the LRU for single-event reads. */
  cacheSize?: number;
  /** Most bookings decided in one transaction; 1 disables group commit. */
  maxBatch?: number;
  logger?: Logger;
  identity?: IdentitySource;
  /** Overrides how the group committer defers a flush (tests drive interleavings with it). */
  defer?: (fn: () => void) => void;
  /** How often due holds are looked for, in ms (default 250); 0 leaves expiry to `expireHolds()` calls. */
  sweepIntervalMs?: number;
}

/** An answer that may repeat an earlier one (an idempotent retry or a repeated confirm). */
export interface Placed<T> {
  value: T;
  replayed: boolean;
}

export interface PlaceOptions {
  /** The client's Idempotency-Key, unvalidated. */
  idempotencyKey?: unknown;
}

/** Who asks to cancel: the admin, or a buyer presenting the booking's secret. */
export interface CancelRequest {
  admin: boolean;
  secret?: string;
  /** Ticket ids to cancel (unvalidated); all remaining tickets when absent. */
  tickets?: unknown;
}

export type HoldEvent = 'created' | 'confirmed' | 'released' | 'expired';

export interface ServiceObserver {
  batchCommitted?(size: number, millis: number): void;
  bookingDecided?(outcome: 'booked' | 'refused' | 'failed', tickets: number): void;
  /** `tickets` is the total over those holds. */
  holdsChanged?(what: HoldEvent, holds: number, tickets: number): void;
  ticketsCancelled?(tickets: number): void;
}

/**
 * Listeners learn about every committed change, e.g. to push live availability. `external` means
 * another process changed something: re-read what you show.
 */
export type Change = EventCounts | { eventId: string; created: Event } | { external: true };
export type ChangeListener = (change: Change) => void;

/** How long outside changes are gathered before caches are dropped; bounds staleness across nodes. */
export const EXTERNAL_CHANGE_COALESCE_MS = 100;

export const DEFAULT_MAX_BATCH = 1024;

/** Booking lookups accept a stale cache entry (see EventCatalog); one shared options object. */
const STALE_OK = { allowStale: true } as const;

/** Most tickets one cancellation request may list. */
const MAX_CANCEL_TICKETS = 10_000;

/**
 * The application service: validates input, serves reads from the catalog caches, and funnels every
 * booking through the group committer, so a response is only ever built from a committed outcome.
 */
export class TicketService {
  readonly store: Store;
  private readonly catalog: EventCatalog;
  private readonly committer: GroupCommitter;
  private readonly logger: Logger;
  private readonly identity: IdentitySource;
  private readonly observers: ServiceObserver[] = [];
  private readonly listeners = new Set<ChangeListener>();
  private closed = false;
  /** Bookings between validation and their outcome; close() waits for them. */
  private active = 0;
  private whenIdle: (() => void) | undefined;
  private readonly stopWatching: (() => void) | undefined;
  private invalidateTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly housekeeping: Housekeeping;
  /** Keyed requests of this process still being decided: a repeat waits for the first. */
  private readonly keysInFlight = new Map<string, { fingerprint: string; outcome: Promise<BookingOutcome> }>();

  constructor(store: Store, options: TicketServiceOptions = {}) {
    this.store = store;
    this.logger = options.logger ?? silentLogger;
    this.identity = options.identity ?? systemIdentity;
    this.catalog = new EventCatalog(store, options.cacheSize ?? 10_000);
    this.stopWatching = store.watchExternalChanges?.(() => this.invalidateSoon());
    this.committer = new GroupCommitter((batch) => store.commitBookings(batch), {
      maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH,
      defer: options.defer,
      onBatch: (requests, outcomes, millis) => {
        for (const o of this.observers) o.batchCommitted?.(requests.length, millis);
        this.logBatch(requests, outcomes, millis);
      },
    });
    this.housekeeping = new Housekeeping(store, {
      intervalMs: options.sweepIntervalMs ?? 250,
      purgeEveryMs: 10 * 60_000,
      now: () => this.identity.now(),
      logger: this.logger,
      expire: (now) => this.committer.runSolo(() => store.expireHolds(now)),
      onExpired: (result) => this.afterExpiry(result),
    });
    this.housekeeping.start();
  }

  async createEvent(input: unknown): Promise<Event> {
    this.assertOpen();
    const fields = validateNewEvent(input);
    const event: Event = {
      id: this.identity.newId(),
      name: fields.name,
      date: fields.date,
      totalTickets: fields.totalTickets,
      availableTickets: fields.totalTickets,
      heldTickets: 0,
      maxTicketsPerBooking: fields.maxTicketsPerBooking,
      holdSeconds: fields.holdSeconds,
    };
    await this.withStorage(this.store.createEvent(event));
    this.catalog.added(event);
    this.logger.info({ eventId: event.id, eventName: event.name, totalTickets: event.totalTickets }, 'event created');
    this.emit({ eventId: event.id, created: event });
    return event;
  }

  listEvents(): Promise<Event[]> {
    return this.withStorage(this.catalog.listAll());
  }

  /** The `GET /events` body, serialised once per change. */
  listEventsJson(): Promise<string> {
    return this.withStorage(this.catalog.listJson());
  }

  async getEvent(id: unknown): Promise<Event> {
    const eventId = parseId(id, 'eventId');
    const event = await this.withStorage(this.catalog.get(eventId));
    if (!event) throw Errors.eventNotFound(eventId);
    return event;
  }

  /** Books tickets at once (the original protocol's operation). */
  async bookTickets(eventId: unknown, tickets: unknown): Promise<Booking> {
    return (await this.book(eventId, tickets)).value;
  }

  /** Books tickets at once; with an idempotency key, a repeat answers the first booking again. */
  async book(eventId: unknown, tickets: unknown, options: PlaceOptions = {}): Promise<Placed<Booking>> {
    const outcome = await this.place('book', eventId, tickets, options);
    return { value: outcome.booking!, replayed: outcome.replayed === true };
  }

  /** Sets tickets aside for the event's hold time; they return to stock unless confirmed. */
  async holdTickets(eventId: unknown, tickets: unknown, options: PlaceOptions = {}): Promise<Placed<Hold>> {
    const outcome = await this.place('hold', eventId, tickets, options);
    return { value: outcome.hold!, replayed: outcome.replayed === true };
  }

  private async place(kind: 'book' | 'hold', eventId: unknown, tickets: unknown, options: PlaceOptions): Promise<Extract<BookingOutcome, { ok: true }>> {
    this.assertOpen();
    this.active++;
    try {
      const id = parseId(eventId, 'eventId');
      const key = parseIdempotencyKey(options.idempotencyKey);
      // A stale entry is fine here: existence and the per-booking maximum never change, and
      // availability is decided by the store inside the transaction.
      const event = await this.withStorage(this.catalog.get(id, STALE_OK));
      if (!event) throw Errors.eventNotFound(id);
      const count = parseTicketCount(tickets, event.maxTicketsPerBooking);
      const request: BookingRequest = { eventId: event.id, tickets: count };
      if (kind === 'hold') request.kind = 'hold';
      const outcome = await (key === undefined ? this.submit(request) : this.submitOnce(request, key, `${kind}:${event.id}:${count}`));
      if (!outcome.ok) throw outcome.error;
      return outcome;
    } finally {
      if (--this.active === 0) this.whenIdle?.();
    }
  }

  /**
   * A keyed request: a repeat arriving while the first is still being decided in this process waits
   * for it and shares its outcome. Across processes the store's key row does the same job.
   */
  private async submitOnce(request: BookingRequest, key: string, fingerprint: string): Promise<BookingOutcome> {
    const first = this.keysInFlight.get(key);
    if (first) {
      if (first.fingerprint !== fingerprint) throw Errors.idempotencyKeyReused();
      const outcome = await first.outcome;
      return { ...outcome, replayed: true };
    }
    request.idempotency = { key, fingerprint };
    const outcome = this.submit(request);
    this.keysInFlight.set(key, { fingerprint, outcome });
    try {
      return await outcome;
    } finally {
      this.keysInFlight.delete(key);
    }
  }

  private async submit(request: BookingRequest): Promise<BookingOutcome> {
    let outcome: BookingOutcome;
    try {
      outcome = await this.committer.submit(request);
    } catch (err) {
      this.notifyDecided('failed', request.tickets);
      this.logger.error({ eventId: request.eventId, tickets: request.tickets, kind: request.kind ?? 'book', outcome: 'failed', err: causeOf(err) }, 'booking failed');
      throw err;
    }
    if (outcome.counts) this.noteCounts(outcome.counts);
    if (outcome.replayed) return outcome;
    if (!outcome.ok) this.notifyDecided('refused', request.tickets);
    else if (outcome.hold) this.notifyHolds('created', 1, request.tickets);
    else this.notifyDecided('booked', request.tickets);
    return outcome;
  }

  async getHold(id: unknown): Promise<Hold> {
    const holdId = parseId(id, 'hold id');
    const hold = await this.withStorage(this.store.getHold(holdId));
    if (!hold) throw Errors.notFound('hold', holdId);
    return presentHold(hold, this.identity.now());
  }

  /** Turns a hold into a booking; confirming a confirmed hold again answers the same booking. */
  async confirmHold(id: unknown): Promise<Placed<Booking>> {
    return this.whileActive(async () => {
      const holdId = parseId(id, 'hold id');
      // Through the write lane, so counts are applied in commit order (see GroupCommitter).
      const outcome = this.settle(await this.withStorage(this.committer.runSolo(() => this.store.confirmHold(holdId, this.identity.now()))));
      if (!outcome.replayed) {
        this.notifyHolds('confirmed', 1, outcome.booking.tickets.length);
        this.logger.info({ holdId, bookingId: outcome.booking.id, eventId: outcome.booking.eventId, tickets: outcome.booking.tickets.length }, 'hold confirmed');
      }
      return { value: outcome.booking, replayed: outcome.replayed };
    });
  }

  /** Gives a hold's tickets back; releasing a released hold again is harmless. */
  async releaseHold(id: unknown): Promise<Hold> {
    return this.whileActive(async () => {
      const holdId = parseId(id, 'hold id');
      const outcome = this.settle(await this.withStorage(this.committer.runSolo(() => this.store.releaseHold(holdId, this.identity.now()))));
      if (outcome.counts) {
        this.notifyHolds('released', 1, outcome.hold.tickets);
        this.logger.info({ holdId, eventId: outcome.hold.eventId, tickets: outcome.hold.tickets }, 'hold released');
      }
      return outcome.hold;
    });
  }

  /** Expires every due hold now. The service also does this on its own timer. */
  expireHolds(): Promise<ExpiryResult> {
    return this.withStorage(this.housekeeping.sweep());
  }

  /** Cancels a booking, or some of its tickets; the admin or the booking's secret may do it. */
  async cancelBooking(id: unknown, request: CancelRequest): Promise<Booking> {
    return this.whileActive(async () => {
      const bookingId = parseId(id, 'booking id');
      const ticketIds = request.tickets === undefined ? undefined : parseTicketIds(request.tickets, MAX_CANCEL_TICKETS);
      if (!request.admin) {
        if (!request.secret) throw Errors.unauthorizedCancel();
        const booking = await this.withStorage(this.store.getBooking(bookingId));
        if (!booking) throw Errors.notFound('booking', bookingId);
        if (!secretMatches(request.secret, booking.secretHash)) throw Errors.forbidden('booking');
      }
      const outcome = await this.withStorage(this.committer.runSolo(() => this.store.cancelBooking(bookingId, ticketIds, this.identity.now())));
      if (!outcome.ok) throw outcome.error;
      this.noteCounts(outcome.counts);
      for (const o of this.observers) o.ticketsCancelled?.(outcome.cancelled);
      this.logger.info({ bookingId, eventId: outcome.booking.eventId, by: request.admin ? 'admin' : 'buyer', tickets: ticketIds ?? 'all' }, 'booking cancelled');
      return outcome.booking;
    });
  }

  /** Counts work that close() must wait for (the booking path does the same inline, without a closure). */
  private async whileActive<T>(work: () => Promise<T>): Promise<T> {
    this.assertOpen();
    this.active++;
    try {
      return await work();
    } finally {
      if (--this.active === 0) this.whenIdle?.();
    }
  }

  /**
   * Applies a confirm's or release's counts, then throws its refusal. A hold found past its time was
   * expired by that very transaction, so it counts as an expiry.
   */
  private settle<T extends ConfirmOutcome | HoldOutcome>(outcome: T): Extract<T, { ok: true }> {
    if (outcome.counts) this.noteCounts(outcome.counts);
    if (outcome.ok) return outcome as Extract<T, { ok: true }>;
    if (outcome.error.code === 'hold_expired' && outcome.counts) this.notifyHolds('expired', 1, 0);
    throw outcome.error;
  }

  private afterExpiry(result: ExpiryResult): void {
    for (const counts of result.counts) this.noteCounts(counts);
    this.notifyHolds('expired', result.expired, 0);
    this.logger.info({ expired: result.expired, events: result.counts }, `${result.expired} ${result.expired === 1 ? 'hold' : 'holds'} expired; their tickets are back on sale`);
  }

  /**
   * One log record per committed batch, naming every booking and refusal in it with its event and
   * outcome. A record per booking cost a quarter of the HTTP thread under load (pino's hand-off to
   * its writer thread), and a batch is also how the work really happened: one transaction.
   */
  private logBatch(requests: readonly BookingRequest[], outcomes: readonly BookingOutcome[], millis: number): void {
    if (outcomes.length === 1) {
      const [o, r] = [outcomes[0]!, requests[0]!];
      const availableTickets = o.counts?.availableTickets;
      if (o.ok && o.hold) {
        this.logger.info({ eventId: r.eventId, holdId: o.hold.id, tickets: r.tickets, outcome: 'held', expiresAt: o.hold.expiresAt, availableTickets, replayed: o.replayed }, 'tickets held');
      } else if (o.ok) {
        this.logger.info({ eventId: r.eventId, bookingId: o.booking.id, tickets: r.tickets, outcome: 'booked', availableTickets, replayed: o.replayed }, 'booking confirmed');
      } else {
        this.logger.info({ eventId: r.eventId, tickets: r.tickets, outcome: o.error.code, availableTickets, replayed: o.replayed }, 'booking refused');
      }
      return;
    }
    const booked: Array<{ eventId: string; bookingId?: string; holdId?: string; tickets: number; availableTickets?: number; replayed?: boolean }> = [];
    const refused: Array<{ eventId: string; tickets: number; outcome: string; availableTickets?: number }> = [];
    outcomes.forEach((o, i) => {
      const r = requests[i]!;
      const availableTickets = o.counts?.availableTickets;
      if (o.ok) booked.push({ eventId: r.eventId, ...(o.hold ? { holdId: o.hold.id } : { bookingId: o.booking.id }), tickets: r.tickets, availableTickets, replayed: o.replayed });
      else refused.push({ eventId: r.eventId, tickets: r.tickets, outcome: o.error.code, availableTickets });
    });
    this.logger.info(
      { booked, refused, millis: Math.round(millis * 1000) / 1000 },
      `${booked.length} bookings confirmed, ${refused.length} refused in one commit`,
    );
  }

  async getTicket(id: unknown): Promise<Ticket> {
    const ticketId = parseId(id, 'ticket id');
    const ticket = await this.withStorage(this.store.getTicket(ticketId));
    if (!ticket) throw Errors.notFound('ticket', ticketId);
    return ticket;
  }

  async getBooking(id: unknown): Promise<Booking> {
    const bookingId = parseId(id, 'booking id');
    const booking = await this.withStorage(this.store.getBooking(bookingId));
    if (!booking) throw Errors.notFound('booking', bookingId);
    return publicBooking(booking);
  }

  /** Registers metrics hooks; they run synchronously on the booking path, so keep them cheap. */
  observe(observer: ServiceObserver): void {
    this.observers.push(observer);
  }

  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Coalesces bursts of outside changes into one invalidation per window, so a busy neighbour
   * node costs one re-read per window instead of one per commit.
   */
  private invalidateSoon(): void {
    if (this.invalidateTimer) return;
    this.invalidateTimer = setTimeout(() => {
      this.invalidateTimer = undefined;
      this.catalog.invalidateAll();
      this.emit({ external: true });
    }, EXTERNAL_CHANGE_COALESCE_MS);
    this.invalidateTimer.unref?.();
  }

  /** Finishes every queued booking, then closes storage. New bookings are refused from now on. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.housekeeping.stop();
    this.stopWatching?.();
    clearTimeout(this.invalidateTimer);
    if (this.active > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
    await this.committer.drain();
    await this.store.close();
  }

  private notifyDecided(outcome: 'booked' | 'refused' | 'failed', tickets: number): void {
    for (const o of this.observers) o.bookingDecided?.(outcome, tickets);
  }

  private notifyHolds(what: HoldEvent, holds: number, tickets: number): void {
    for (const o of this.observers) o.holdsChanged?.(what, holds, tickets);
  }

  private noteCounts(counts: EventCounts): void {
    if (this.catalog.countsChanged(counts)) this.emit(counts);
  }

  private emit(change: Change): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        this.logger.warn({ err }, 'change listener failed');
      }
    }
  }

  private assertOpen(): void {
    if (this.closed) throw Errors.shuttingDown();
  }

  /**
   * Storage failures surface as `storage_unavailable`, never as an internal error. Takes the promise
   * itself (not a callback) so the booking path pays one `.then`, not a closure and an async frame.
   */
  private withStorage<T>(pending: Promise<T>): Promise<T> {
    return pending.then(undefined, this.storageFailure);
  }

  private readonly storageFailure = (err: unknown): never => {
    if (isBoxofficeError(err)) throw err;
    this.logger.error({ err }, 'storage operation failed');
    throw Errors.storageUnavailable(err);
  };

}

function causeOf(err: unknown): unknown {
  return err instanceof Error && err.cause ? err.cause : err;
}
