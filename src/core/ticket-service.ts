import { refusalError, type CancelProof, type Command, type Outcome, type Success } from './commands.js';
import { CheckinService } from './checkin-service.js';
import { ticketCodes, type TicketCodes } from './ticket-codes.js';
import { Errors, isBoxofficeError } from './errors.js';
import { EventCatalog } from './event-catalog.js';
import { GroupCommitter } from './group-commit.js';
import { Housekeeping, type ExpiryResult } from './housekeeping.js';
import { buyerOf, PROCESS_SECRET_KEY, scopedKey, secretMatches, systemIdentity, type IdentitySource } from './identity.js';
import { logObserver } from './log-observer.js';
import { silentLogger, type Logger } from './logger.js';
import { reportFailure, type ChangeListener, type ServiceObserver } from './observers.js';
import { presentHold, publicBooking } from './presenting.js';
import { StorageHealth, type StorageStatus } from './storage-health.js';
import { StorageProbe } from './storage-probe.js';
import type { ClockStatus, Store } from './store.js';
import type { Booking, Event, Hold, Ticket } from './types.js';
import { LIMITS, parseBuyerContact, parseId, parseIdempotencyKey, parseTicketCount, parseTicketIds, systemTimeZone, validateNewEvent } from './validation.js';
import { EventLifecycle } from './event-lifecycle.js';
import { ChangeRelay } from './change-relay.js';
import { DEFAULT_WAITING_ROOM_LEAD_SECONDS, roomOpensAt } from './decisions/sale-time.js';
import { WaitingRoom } from './waiting-room.js';
import { soldOut } from './decisions/queue.js';

export type { Change, ChangeListener, HoldEvent, ServiceObserver } from './observers.js';
export type { ExpiryResult } from './housekeeping.js';
export type { CancelRequest, PlaceOptions, Placed } from './service-options.js';
import type { CancelRequest, PlaceOptions, Placed } from './service-options.js';

export interface TicketServiceOptions {
  /** Events kept in the LRU for single-event reads. */
  cacheSize?: number;
  /** Most commands decided in one transaction; 1 disables group commit. */
  maxBatch?: number;
  logger?: Logger;
  /** The clock of every write (passed in each batch) and the ids of new events. */
  identity?: IdentitySource;
  /** Overrides how the group committer defers a flush (tests drive interleavings with it). */
  defer?: (fn: () => void) => void;
  /** How often due holds are looked for, in ms (default 250); 0 leaves expiry to `expireHolds()` calls. */
  sweepIntervalMs?: number;
  /** Signs and verifies ticket codes; the server builds it from its secret key (default: this process's key). */
  ticketCodes?: TicketCodes;
  /** What one buyer may make the server store per event (default `BUYER_BUDGET`); sent with every batch. */
  buyerBudget?: { givenBack: number; refusals: number };
  /** The time zone of events created without one (`--time-zone`; default: this machine's). */
  defaultTimeZone?: string;
  /** How long before `onSaleAt` a waiting room takes joins (`--waiting-room-lead`; default 1800), and a pass lasts (default 600). */
  waitingRoomLeadSeconds?: number;
  admissionPassSeconds?: number;
  /** How often lines advance, in ms (default 250); 0 leaves it to `queue.tick()` calls. */
  queueTickMs?: number;
}

export const DEFAULT_MAX_BATCH = 1024;

/** Most tickets one cancellation request may list. */
const MAX_CANCEL_TICKETS = 10_000;

/**
 * The application service: parses input into commands, sends every write through the one write
 * lane (group commit) to the store, and tells observers and caches what each committed batch did.
 * Reads come from the catalog caches. The rules themselves live in decisions/, not here.
 */
export class TicketService {
  readonly store: Store;
  private readonly catalog: EventCatalog;
  private readonly committer: GroupCommitter<Command, Outcome>;
  private readonly identity: IdentitySource;
  private readonly observers: ServiceObserver[] = [];
  private readonly logger: Logger;
  private closed = false;
  /** Writes between parsing and their outcome; close() waits for them. */
  private active = 0;
  private whenIdle: (() => void) | undefined;
  private readonly stopWatching: () => void;
  private readonly changes: ChangeRelay;
  private readonly housekeeping: Housekeeping;
  readonly codes: TicketCodes;
  /** Doors, scans and the organiser's check-in views (issue 14). */
  readonly checkins: CheckinService;
  private readonly health = new StorageHealth();
  private readonly probe: StorageProbe | undefined;
  private readonly defaultTimeZone: string;
  private readonly roomLead: number;
  /** Editing, closing and cancelling events; the organiser's list of bookings (issue 17). */
  readonly lifecycle: EventLifecycle;
  /** The virtual waiting room (issue 13). */
  readonly queue: WaitingRoom;

  constructor(store: Store, options: TicketServiceOptions = {}) {
    this.store = store;
    this.logger = options.logger ?? silentLogger;
    // Deadlines several nodes judge (hold expiry) need one clock: the storage's when it has one.
    const clock = store.clock;
    this.identity = options.identity ?? (clock ? { ...systemIdentity, now: () => clock.now() } : systemIdentity);
    this.catalog = new EventCatalog(store, options.cacheSize ?? 10_000);
    this.probe = store.ping ? new StorageProbe(() => store.ping!()) : undefined;
    this.observers.push(logObserver(this.logger));
    this.changes = new ChangeRelay(this.catalog, this.observers, this.logger, store.watchCommits !== undefined);
    const stopExternal = store.watchExternalChanges?.(() => this.changes.externalChange());
    const stopCommits = store.watchCommits?.((commit) => this.changes.sharedCommit(commit));
    this.stopWatching = () => (stopExternal?.(), stopCommits?.());
    this.committer = new GroupCommitter<Command, Outcome>(
      (commands) =>
        store.write({ now: this.identity.now().toISOString(), commands, ...(options.buyerBudget && { buyerBudget: options.buyerBudget }) }).then(
          (outcomes) => {
            this.health.succeeded('write');
            return outcomes;
          },
          (err: unknown) => {
            this.health.failed('write', err);
            reportFailure(this.observers, commands, err);
            throw err;
          },
        ),
      {
        maxBatch: options.maxBatch ?? DEFAULT_MAX_BATCH,
        defer: options.defer,
        pipeline: store.watchCommits !== undefined || store.pipelinedWrites === true,
        onBatch: (commands, outcomes, millis) => this.changes.committed(commands, outcomes, millis),
      },
    );
    this.housekeeping = new Housekeeping(store, {
      intervalMs: options.sweepIntervalMs ?? 250,
      purgeEveryMs: 10 * 60_000,
      now: () => this.identity.now(),
      logger: this.logger,
      expire: async () => {
        const outcome = (await this.committer.submit({ type: 'expire' })) as Success<'expired'>;
        return { expired: outcome.expired, counts: outcome.counts };
      },
    });
    // A shared writer sweeps for the whole machine; each process sweeping too would only contend.
    if (!store.watchCommits) this.housekeeping.start();
    this.codes = options.ticketCodes ?? ticketCodes(PROCESS_SECRET_KEY);
    this.defaultTimeZone = options.defaultTimeZone ?? systemTimeZone();
    this.roomLead = options.waitingRoomLeadSeconds ?? DEFAULT_WAITING_ROOM_LEAD_SECONDS;
    this.queue = new WaitingRoom({
      ...{ store, identity: this.identity, logger: this.logger, passSeconds: options.admissionPassSeconds, tickMs: options.queueTickMs },
      ...{ submit: (command) => this.submitOutcome(command), write: (command) => this.write(command), getEvent: (id) => this.getEvent(id) },
    });
    // New rooms are looked for; a sell-out is news for the line at once, not at its next tick.
    this.changes.onChange((c) => ('created' in c || 'external' in c ? this.queue.eventsChanged() : soldOut(c) && this.queue.soon()));
    this.lifecycle = new EventLifecycle({ roomLeadSeconds: this.roomLead, store, write: (command) => this.write(command), withStorage: (pending) => this.withStorage(pending) });
    this.checkins = new CheckinService({
      store,
      codes: this.codes,
      identity: this.identity,
      observers: this.observers,
      submit: (command) => this.submitOutcome(command),
      getEvent: (id) => this.getEvent(id),
      withStorage: (pending) => this.withStorage(pending),
    });
  }

  async createEvent(input: unknown): Promise<Event> {
    const fields = validateNewEvent(input);
    // Only a new event must lie ahead; PATCH may still correct a past one.
    if (Date.parse(fields.date) <= this.identity.now().getTime()) throw Errors.pastDate(fields.date);
    const event: Event = {
      id: this.identity.newId(),
      name: fields.name,
      date: fields.date,
      totalTickets: fields.totalTickets,
      availableTickets: fields.totalTickets,
      heldTickets: 0,
      maxTicketsPerBooking: fields.maxTicketsPerBooking,
      holdSeconds: fields.holdSeconds,
      maxHeldPerBuyer: fields.maxHeldPerBuyer,
      maxTicketsPerBuyer: fields.maxTicketsPerBuyer,
      offlineCheckIn: fields.offlineCheckIn,
      checkedInTickets: 0,
      description: fields.description,
      venue: fields.venue,
      timeZone: fields.timeZone ?? this.defaultTimeZone,
      salesOpen: fields.salesOpen,
      status: 'scheduled',
      buyerDetails: fields.buyerDetails,
      onSaleAt: fields.onSaleAt,
      waitingRoom: fields.waitingRoom,
      waitingRoomOpensAt: roomOpensAt(fields, this.roomLead),
      queueWindow: fields.queueWindow,
    };
    return (await this.write<'event'>({ type: 'createEvent', event })).event;
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

  /** Books tickets at once; with an idempotency key, a repeat answers the first booking again. */
  async book(eventId: unknown, tickets: unknown, options: PlaceOptions = {}): Promise<Placed<Booking>> {
    const outcome = await this.place<'booking'>('book', eventId, tickets, options);
    return { value: this.withCodes(outcome.booking), replayed: outcome.replayed === true };
  }

  /** The original protocol's booking: it answers ticket ids only, so no ticket code is signed for it. */
  async reserve(eventId: unknown, tickets: unknown, options: PlaceOptions = {}): Promise<Placed<string[]>> {
    const outcome = await this.place<'booking'>('book', eventId, tickets, options);
    return { value: outcome.booking.tickets.map((t) => t.id), replayed: outcome.replayed === true };
  }

  /** Sets tickets aside for the event's hold time; they return to stock unless confirmed. */
  async holdTickets(eventId: unknown, tickets: unknown, options: PlaceOptions = {}): Promise<Placed<Hold>> {
    const outcome = await this.place<'hold'>('hold', eventId, tickets, options);
    return { value: outcome.hold, replayed: outcome.replayed === true };
  }

  private async place<K extends 'booking' | 'hold'>(type: 'book' | 'hold', eventId: unknown, tickets: unknown, options: PlaceOptions): Promise<Success<K>> {
    const id = parseId(eventId, 'eventId');
    const key = parseIdempotencyKey(options.idempotencyKey);
    let count: number;
    try {
      // The event's own maximum is a rule of the decision; here only the shape is checked.
      count = parseTicketCount(tickets, LIMITS.maxTicketsPerBookingMax);
    } catch (err) {
      throw await this.explainTicketCount(id, tickets, err);
    }
    const command: Extract<Command, { type: 'book' | 'hold' }> = { type, eventId: id, tickets: count };
    const contact = parseBuyerContact(options.contact);
    if (contact !== undefined) command.contact = contact;
    const buyer = options.buyer === undefined ? undefined : buyerOf(options.buyer);
    // A key is the asker's own: stored under a hash of (buyer, key), so another client sending the
    // same key makes a new request of its own and learns nothing of the first.
    if (key !== undefined) command.key = { key: scopedKey(key, buyer), fingerprint: `${type}:${id}:${count}` };
    if (buyer !== undefined) command.buyer = buyer;
    if (options.admissionPass !== undefined) command.admission = await this.queue.readPass(id, options.admissionPass);
    return this.write<K>(command);
  }

  /** Words a malformed count with the event's own maximum, as a buyer reads it (error path only). */
  private async explainTicketCount(eventId: string, tickets: unknown, err: unknown): Promise<unknown> {
    const event = await this.withStorage(this.catalog.get(eventId, { allowStale: true }));
    if (!event) return Errors.eventNotFound(eventId);
    try {
      parseTicketCount(tickets, event.maxTicketsPerBooking);
    } catch (worded) {
      return worded;
    }
    return err;
  }

  async getHold(id: unknown): Promise<Hold> {
    const holdId = parseId(id, 'hold id');
    const hold = await this.withStorage(this.store.getHold(holdId));
    if (!hold) throw Errors.notFound('hold', holdId);
    return presentHold(hold, this.identity.now());
  }

  /**
   * Turns a hold into a booking; confirming a confirmed hold again answers the same booking. The
   * booking's secret is told only to the hold's own buyer (`options.buyer`, the client address).
   */
  async confirmHold(id: unknown, options: { buyer?: string } = {}): Promise<Placed<Booking>> {
    const command: Command = { type: 'confirm', holdId: parseId(id, 'hold id') };
    if (options.buyer !== undefined) command.buyer = buyerOf(options.buyer);
    const outcome = await this.write<'booking'>(command);
    return { value: this.withCodes(outcome.booking), replayed: outcome.replayed === true };
  }

  /** Gives a hold's tickets back; releasing a released hold again is harmless. */
  async releaseHold(id: unknown): Promise<Hold> {
    return (await this.write<'hold'>({ type: 'release', holdId: parseId(id, 'hold id') })).hold;
  }

  /** Expires every due hold now. The service also does this on its own timer. */
  /** How this node's clock compares with the storage's shared one (undefined: one process, no shared clock). */
  clockStatus(): ClockStatus | undefined {
    return this.store.clock?.status();
  }

  /** Whether storage works, for /readyz: failing while writes or reads keep failing, or the store reports a fault. */
  storageStatus(): StorageStatus {
    return this.health.status(this.store.fault?.());
  }

  /** Readiness: storageStatus, and when that is fine, whether the database answers a cheap read now (cached ≤ 1 s). */
  async storageReadiness(): Promise<StorageStatus> {
    const known = this.storageStatus();
    if (known.status !== 'ok' || !this.probe) return known;
    return this.probe.check();
  }

  expireHolds(): Promise<ExpiryResult> {
    return this.withStorage(this.housekeeping.sweep());
  }

  /** Cancels a booking, or some of its tickets; the admin or the booking's secret may do it. */
  async cancelBooking(id: unknown, request: CancelRequest): Promise<Booking> {
    const bookingId = parseId(id, 'booking id');
    const ticketIds = request.tickets === undefined ? undefined : parseTicketIds(request.tickets, MAX_CANCEL_TICKETS);
    const proof: CancelProof = request.admin ? { admin: true } : { admin: false, secret: request.secret };
    const command: Command = ticketIds ? { type: 'cancel', bookingId, ticketIds, proof } : { type: 'cancel', bookingId, proof };
    return (await this.write<'cancelled'>(command)).booking;
  }

  async getTicket(id: unknown): Promise<Ticket> {
    const ticketId = parseId(id, 'ticket id');
    const ticket = await this.withStorage(this.store.getTicket(ticketId));
    if (!ticket) throw Errors.notFound('ticket', ticketId);
    return ticket;
  }

  /**
   * A booking as anyone with its id sees it; with its secret (or the admin token) also the signed
   * code of each ticket, which its holder shows at the door: a buyer on a new device gets their
   * tickets back from the booking's address alone. A wrong secret is refused, never answered.
   */
  async getBooking(id: unknown, proof: CancelProof = { admin: false }): Promise<Booking> {
    const bookingId = parseId(id, 'booking id');
    const booking = await this.withStorage(this.store.getBooking(bookingId));
    if (!booking) throw Errors.notFound('booking', bookingId);
    const owner = proof.admin || (proof.secret !== undefined && secretMatches(proof.secret, booking.secretHash));
    if (!owner && proof.secret !== undefined) throw Errors.forbidden('booking');
    // Whether the event still takes place, so the buyer's page can say it was cancelled.
    const event = await this.withStorage(this.catalog.get(booking.eventId, { allowStale: true }));
    const shown = owner ? this.withCodes(publicBooking(booking)) : publicBooking(booking);
    return event ? { ...shown, eventStatus: event.status } : shown;
  }

  /** Registers hooks run after each committed batch, on the booking path: keep them cheap. */
  observe(observer: ServiceObserver): void {
    this.observers.push(observer);
  }

  onChange(listener: ChangeListener): () => void {
    return this.changes.onChange(listener);
  }

  /** Finishes every queued write, then closes storage. New writes are refused from now on. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.housekeeping.stop();
    this.stopWatching();
    this.changes.close();
    this.queue.close();
    if (this.active > 0) await new Promise<void>((resolve) => (this.whenIdle = resolve));
    await this.committer.drain();
    await this.store.close();
  }

  /** Each ticket with the signed code its holder shows at the door (recomputed: nothing is stored). */
  withCodes(booking: Booking): Booking {
    return { ...booking, tickets: booking.tickets.map((t) => ({ ...t, code: this.codes.codeFor(t.id, t.eventId) })) };
  }

  /** One write through the lane, answered with its outcome as it is (refusals included). */
  private async submitOutcome(command: Command): Promise<Outcome> {
    if (this.closed) throw Errors.shuttingDown();
    this.active++;
    try {
      return await this.committer.submit(command);
    } finally {
      if (--this.active === 0) this.whenIdle?.();
    }
  }

  /** One write through the lane; a refusal becomes the error the edge answers with. */
  private async write<K extends Extract<Outcome, { ok: true }>['kind']>(command: Command): Promise<Success<K>> {
    if (this.closed) throw Errors.shuttingDown();
    this.active++;
    try {
      const outcome = await this.committer.submit(command);
      if (!outcome.ok) throw refusalError(outcome);
      return outcome as Success<K>;
    } finally {
      if (--this.active === 0) this.whenIdle?.();
    }
  }

  /** Storage failures surface as `storage_unavailable`, never as an internal error. */
  private withStorage<T>(pending: Promise<T>): Promise<T> {
    return pending.then(this.storageSuccess, this.storageFailure);
  }

  private readonly storageSuccess = <T>(value: T): T => {
    this.health.succeeded('read');
    return value;
  };

  private readonly storageFailure = (err: unknown): never => {
    if (isBoxofficeError(err)) throw err;
    this.health.failed('read', err);
    this.logger.error({ err }, 'storage operation failed');
    throw Errors.storageUnavailable(err);
  };
}
