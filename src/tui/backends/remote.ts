import type { BoxofficeClient } from '../../client/boxoffice-client.js';
import type { EventSubscription } from '../../client/event-stream.js';
import type { Event, NewEventInput, StreamStatus } from '../../client/types.js';
import type { Logger } from '../../core/logger.js';
import type { AdminBackend, CheckinOps, LifecycleOps, QueueOps, StartHooks } from '../admin-backend.js';
import { EventsModel } from '../events-model.js';
import { plural } from '../format.js';

/** The admin screens against a server elsewhere (`boxoffice admin --url … --token …`). */
export class RemoteBackend implements AdminBackend {
  readonly kind = 'remote';
  readonly model = new EventsModel();
  private subscription: EventSubscription | undefined;
  private lost = false;

  constructor(
    private readonly client: BoxofficeClient,
    private readonly logger: Logger,
    /** Where the token came from, for messages ("--token", "BOXOFFICE_ADMIN_TOKEN", a file), or undefined. */
    private readonly tokenSource: string | undefined,
    private readonly connectTimeoutMs = 10_000,
  ) {}

  get address(): string {
    return this.client.baseUrl;
  }

  async start(hooks: StartHooks): Promise<void> {
    const url = this.client.baseUrl;
    this.logger.info(`connecting to ${url}`);
    await this.client.waitForServer({
      timeoutMs: this.connectTimeoutMs,
      signal: hooks.signal,
      onAttempt: (n, elapsed, lastError) =>
        hooks.onProgress({
          fraction: (0.5 * elapsed) / this.connectTimeoutMs,
          label: n === 1 ? `Connecting to ${url}…` : `Connecting to ${url}… (attempt ${n}; ${lastError?.message ?? ''})`,
        }),
    });
    hooks.onProgress({ fraction: 0.5, label: 'Checking the admin token…' });
    if (!this.tokenSource) {
      this.logger.warn('no admin token: Add Event will be refused');
      hooks.onNotice({ kind: 'warning', text: 'No admin token: pass --token, set BOXOFFICE_ADMIN_TOKEN, or point --data-dir at the server data.' });
    } else if (!(await this.client.checkAdminToken({ signal: hooks.signal }))) {
      this.logger.warn({ tokenSource: this.tokenSource }, 'the server refused the admin token');
      hooks.onNotice({ kind: 'error', text: `The server refused the admin token from ${this.tokenSource}; Add Event will fail.` });
    }
    hooks.onProgress({ fraction: 0.7, label: 'Loading events…' });
    this.subscription?.close();
    this.subscription = this.client.subscribe({
      onMessage: (m) => this.model.apply(m),
      onStatus: (s) => this.onStatus(s, hooks),
    });
    const events = await this.client.listEvents({ signal: hooks.signal });
    if (!this.model.loaded) this.model.apply({ type: 'snapshot', events });
    this.logger.info(`connected to ${url}: ${plural(events.length, 'event')}`);
    hooks.onProgress({ fraction: 1, label: `Connected to ${url}` });
  }

  async createEvent(input: NewEventInput): Promise<Event> {
    try {
      const event = await this.client.createEvent(input);
      this.logger.info({ eventId: event.id, eventName: event.name, totalTickets: event.totalTickets }, 'event created');
      this.model.add(event);
      return event;
    } catch (err) {
      this.logger.error({ eventName: input.name }, `creating the event failed: ${(err as Error).message}`);
      throw err;
    }
  }

  readonly checkin: CheckinOps = {
    listDoors: (eventId) => this.client.listDoors(eventId),
    createDoor: async (eventId, name) => {
      const door = await this.client.createDoor(eventId, name);
      // The token stays out of the log: whoever reads it could scan as this door.
      this.logger.info({ eventId, doorId: door.id, doorName: door.name }, 'door created');
      return door;
    },
    revokeDoor: async (eventId, doorId) => {
      const door = await this.client.revokeDoor(eventId, doorId);
      this.logger.info({ eventId, doorId }, 'door revoked');
      return door;
    },
    setOfflineCheckIn: (eventId, allowed) => this.client.setOfflineCheckIn(eventId, allowed),
    report: (eventId) => this.client.checkins(eventId),
  };

  readonly queue: QueueOps = {
    summary: (eventId) => this.client.queueSummary(eventId),
    pause: async (eventId) => {
      const s = await this.client.pauseQueue(eventId);
      this.logger.info({ eventId }, 'waiting room paused');
      return s;
    },
    resume: async (eventId) => {
      const s = await this.client.resumeQueue(eventId);
      this.logger.info({ eventId }, 'waiting room resumed');
      return s;
    },
  };

  readonly lifecycle: LifecycleOps = {
    updateEvent: async (eventId, patch) => {
      const event = await this.client.updateEvent(eventId, patch);
      this.logger.info({ eventId, fields: Object.keys(patch) }, `event ${event.name} updated`);
      this.model.add(event);
      return event;
    },
    cancelEvent: async (eventId) => {
      const event = await this.client.cancelEvent(eventId);
      this.logger.info({ eventId }, `event ${event.name} cancelled`);
      this.model.add(event);
      return event;
    },
    bookings: (eventId, query) => this.client.listEventBookings(eventId, query),
    cancelBooking: async (bookingId) => {
      // With the admin token (the client's): the organiser needs no secret.
      const booking = await this.client.cancelBooking(bookingId);
      this.logger.info({ bookingId, eventId: booking.eventId }, `booking ${bookingId} cancelled by the organiser`);
      return booking;
    },
  };

  async stop(): Promise<void> {
    this.subscription?.close();
    this.subscription = undefined;
  }

  private onStatus(s: StreamStatus, hooks: StartHooks): void {
    this.model.setStatus(s);
    if (s.state === 'reconnecting') {
      // Said once per outage, so it does not overwrite what the organiser did meanwhile.
      if (this.lost) return;
      this.lost = true;
      this.logger.warn({ reason: s.reason }, `lost the live connection: ${s.reason}`);
      hooks.onNotice({ kind: 'error', text: `Lost connection to the server: ${s.reason}. Reconnecting…` });
    } else if (s.state === 'open' && this.lost) {
      this.lost = false;
      this.logger.info('live connection is back');
      hooks.onNotice({ kind: 'success', text: 'Reconnected to the server; the list is live again.' });
    }
  }
}
