import { systemIdentity, type IdentitySource } from './decide-batch.js';
import { Errors, isBoxofficeError } from './errors.js';
import { EventCatalog } from './event-catalog.js';
import { GroupCommitter } from './group-commit.js';
import { silentLogger, type Logger } from './logger.js';
import type { BookingOutcome, BookingRequest, Store } from './store.js';
import type { Booking, Event, Ticket } from './types.js';
import { parseId, parseTicketCount, validateNewEvent } from './validation.js';

export interface TicketServiceOptions {
  /** Events kept in the LRU for single-event reads. */
  cacheSize?: number;
  /** Most bookings decided in one transaction; 1 disables group commit. */
  maxBatch?: number;
  logger?: Logger;
  identity?: IdentitySource;
  /** Overrides how the group committer defers a flush (tests drive interleavings with it). */
  defer?: (fn: () => void) => void;
}

export interface ServiceObserver {
  batchCommitted?(size: number, millis: number): void;
  bookingDecided?(outcome: 'booked' | 'refused' | 'failed', tickets: number): void;
}

/**
 * Listeners learn about every committed change, e.g. to push live availability. `external` means
 * another process changed something: re-read what you show.
 */
export type Change = { eventId: string; availableTickets: number } | { eventId: string; created: Event } | { external: true };
export type ChangeListener = (change: Change) => void;

/** How long outside changes are gathered before caches are dropped; bounds staleness across nodes. */
export const EXTERNAL_CHANGE_COALESCE_MS = 100;

export const DEFAULT_MAX_BATCH = 1024;

/** Booking lookups accept a stale cache entry (see EventCatalog); one shared options object. */
const STALE_OK = { allowStale: true } as const;

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
      maxTicketsPerBooking: fields.maxTicketsPerBooking,
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

  async bookTickets(eventId: unknown, tickets: unknown): Promise<Booking> {
    this.assertOpen();
    this.active++;
    try {
      return await this.book(eventId, tickets);
    } finally {
      if (--this.active === 0) this.whenIdle?.();
    }
  }

  private async book(eventId: unknown, tickets: unknown): Promise<Booking> {
    const id = parseId(eventId, 'eventId');
    // A stale entry is fine here: existence and the per-booking maximum never change, and
    // availability is decided by the store inside the transaction.
    const event = await this.withStorage(this.catalog.get(id, STALE_OK));
    if (!event) throw Errors.eventNotFound(id);
    const count = parseTicketCount(tickets, event.maxTicketsPerBooking);
    let outcome: BookingOutcome;
    try {
      outcome = await this.committer.submit({ eventId: event.id, tickets: count });
    } catch (err) {
      this.notifyDecided('failed', count);
      this.logger.error({ eventId: event.id, tickets: count, outcome: 'failed', err: causeOf(err) }, 'booking failed');
      throw err;
    }
    if (outcome.availableTickets !== undefined) this.noteAvailability(event.id, outcome.availableTickets);
    if (!outcome.ok) {
      this.notifyDecided('refused', count);
      throw outcome.error;
    }
    this.notifyDecided('booked', count);
    return outcome.booking;
  }

  /**
   * One log record per committed batch, naming every booking and refusal in it with its event and
   * outcome. A record per booking cost a quarter of the HTTP thread under load (pino's hand-off to
   * its writer thread), and a batch is also how the work really happened: one transaction.
   */
  private logBatch(requests: readonly BookingRequest[], outcomes: readonly BookingOutcome[], millis: number): void {
    if (outcomes.length === 1) {
      const [o, r] = [outcomes[0]!, requests[0]!];
      if (o.ok) {
        this.logger.info(
          { eventId: r.eventId, bookingId: o.booking.id, tickets: r.tickets, outcome: 'booked', availableTickets: o.availableTickets },
          'booking confirmed',
        );
      } else {
        this.logger.info({ eventId: r.eventId, tickets: r.tickets, outcome: o.error.code, availableTickets: o.availableTickets }, 'booking refused');
      }
      return;
    }
    const booked: Array<{ eventId: string; bookingId: string; tickets: number; availableTickets: number }> = [];
    const refused: Array<{ eventId: string; tickets: number; outcome: string; availableTickets?: number }> = [];
    outcomes.forEach((o, i) => {
      const r = requests[i]!;
      if (o.ok) booked.push({ eventId: r.eventId, bookingId: o.booking.id, tickets: r.tickets, availableTickets: o.availableTickets });
      else refused.push({ eventId: r.eventId, tickets: r.tickets, outcome: o.error.code, availableTickets: o.availableTickets });
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
    return booking;
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
    this.stopWatching?.();
    clearTimeout(this.invalidateTimer);
    if (this.active > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
    await this.committer.drain();
    await this.store.close();
  }

  private notifyDecided(outcome: 'booked' | 'refused' | 'failed', tickets: number): void {
    for (const o of this.observers) o.bookingDecided?.(outcome, tickets);
  }

  private noteAvailability(eventId: string, availableTickets: number): void {
    if (this.catalog.availabilityChanged(eventId, availableTickets)) this.emit({ eventId, availableTickets });
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
