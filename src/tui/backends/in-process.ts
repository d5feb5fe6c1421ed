import type { Event, NewEventInput } from '../../client/types.js';
import type { Change, TicketService } from '../../core/ticket-service.js';
import type { AdminBackend, CheckinOps, LifecycleOps, QueueOps, StartHooks } from '../admin-backend.js';
import { EventsModel } from '../events-model.js';
import { MAX_LIVE_RENDERS_PER_SECOND } from '../hooks.js';

export interface LocalServer {
  url: string;
  service: TicketService;
  stop(reason: string): Promise<void>;
}

export type StartStep = { step: 'storage' | 'listen'; detail: string };

/**
 * The admin screens inside `boxoffice serve`: the server runs in this process and the screens read
 * the service directly. Committed changes are folded into a pending map and applied to the screen's
 * model once per render interval, so a booking costs the server one Map.set here, however many arrive.
 */
export class InProcessBackend implements AdminBackend {
  readonly kind = 'local';
  readonly model = new EventsModel();
  private server: LocalServer | undefined;
  private stopListening: (() => void) | undefined;
  private pendingAvailability = new Map<string, { availableTickets: number; heldTickets: number }>();
  private pendingCreated: Event[] = [];
  private resnapshot = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly startServer: (onStep: (step: StartStep) => void) => Promise<LocalServer>,
    private readonly fallbackAddress: string,
    /** The waiting rooms, reached over this server's own HTTP API (given its address) with the admin token. */
    private readonly queueAt?: (url: string) => QueueOps,
  ) {}

  private queueOps: QueueOps | undefined;
  get queue(): QueueOps | undefined {
    if (!this.server || !this.queueAt) return undefined;
    return (this.queueOps ??= this.queueAt(this.server.url));
  }

  get address(): string {
    return this.server?.url ?? this.fallbackAddress;
  }

  async start(hooks: StartHooks): Promise<void> {
    hooks.onProgress({ fraction: 0.05, label: 'Starting boxoffice…' });
    const server = await this.startServer(({ step, detail }) => {
      if (step === 'storage') hooks.onProgress({ fraction: 0.2, label: `Opening storage: ${detail}…` });
      else hooks.onProgress({ fraction: 0.6, label: `Binding the HTTP server to ${detail}…` });
    });
    this.server = server;
    hooks.onProgress({ fraction: 0.85, label: 'Loading events…' });
    this.stopListening = server.service.onChange(this.onChange);
    this.model.apply({ type: 'snapshot', events: await server.service.listEvents() });
    this.model.setStatus({ state: 'open' });
    hooks.onProgress({ fraction: 1, label: `Serving on ${server.url}` });
  }

  async createEvent(input: NewEventInput): Promise<Event> {
    if (!this.server) throw new Error('The server is not running.');
    const event = await this.server.service.createEvent(input);
    this.model.add(event);
    return event;
  }

  readonly checkin: CheckinOps = {
    listDoors: (eventId) => this.service().checkins.listDoors(eventId),
    createDoor: (eventId, name) => this.service().checkins.createDoor(eventId, { name }),
    revokeDoor: (eventId, doorId) => this.service().checkins.revokeDoor(eventId, doorId),
    setOfflineCheckIn: (eventId, allowed) => this.service().checkins.setOfflineCheckIn(eventId, { offlineCheckIn: allowed }),
    report: (eventId) => this.service().checkins.report(eventId),
  };

  readonly lifecycle: LifecycleOps = {
    updateEvent: async (eventId, patch) => this.shown(await this.service().lifecycle.updateEvent(eventId, patch)),
    cancelEvent: async (eventId) => this.shown(await this.service().lifecycle.cancelEvent(eventId)),
    bookings: (eventId, query) => this.service().lifecycle.bookings(eventId, query),
    cancelBooking: (bookingId) => this.service().cancelBooking(bookingId, { admin: true }),
  };

  /** An edit shows at once on this screen (other screens learn of it through the service's change). */
  private shown(event: Event): Event {
    this.model.add(event);
    return event;
  }

  private service(): TicketService {
    if (!this.server) throw new Error('The server is not running.');
    return this.server.service;
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    clearTimeout(this.timer);
    const server = this.server;
    this.server = undefined;
    await server?.stop('quit from the admin screen');
  }

  private readonly onChange = (change: Change): void => {
    if ('external' in change) this.resnapshot = true;
    else if ('created' in change) this.pendingCreated.push(change.created);
    else this.pendingAvailability.set(change.eventId, { availableTickets: change.availableTickets, heldTickets: change.heldTickets });
    this.timer ??= setTimeout(this.flush, 1000 / MAX_LIVE_RENDERS_PER_SECOND);
  };

  private readonly flush = (): void => {
    this.timer = undefined;
    const availability = [...this.pendingAvailability].map(([id, counts]) => ({ id, ...counts }));
    const created = this.pendingCreated;
    this.pendingAvailability = new Map();
    this.pendingCreated = [];
    this.model.apply({ type: 'changes', created, availability });
    if (this.resnapshot && this.server) {
      this.resnapshot = false;
      // Another process (a --workers sibling, another node) changed things: re-read the list.
      this.server.service.listEvents().then(
        (events) => this.model.apply({ type: 'snapshot', events }),
        () => {
          this.resnapshot = true;
        },
      );
    }
  };
}
