import type { QueueSummary } from '../client/types.js';
import type { AdminBookingsPage, Booking, CheckinReport, Door, DoorSummary, Event, EventPatch, NewDoor, NewEventInput } from '../client/types.js';
import type { Status } from './components/StatusLine.js';
import type { EventsModel } from './events-model.js';

export interface Progress {
  fraction: number;
  label: string;
}

export interface StartHooks {
  onProgress: (progress: Progress) => void;
  /** Something the organiser should know now (shown in the status line). */
  onNotice: (status: Status) => void;
  signal: AbortSignal;
}

/**
 * What the admin screens run against: the service inside this process (`boxoffice serve`) or a
 * remote server over HTTP (`boxoffice admin`). The screens are the same either way.
 */
export interface AdminBackend {
  /** The server's address for the header (known once started). */
  readonly address: string;
  readonly kind: 'local' | 'remote';
  /** The events, kept live. */
  readonly model: EventsModel;
  /** Starts or connects; throws an Error whose message is one plain sentence. */
  start(hooks: StartHooks): Promise<void>;
  createEvent(input: NewEventInput): Promise<Event>;
  /** Doors and scans of one event (issue 14). */
  readonly checkin: CheckinOps;
  /** Correct, close, reopen and cancel an event; its bookings (issue 17). */
  readonly lifecycle: LifecycleOps;
  /** The waiting rooms (issue 13); absent where the backend cannot reach them. */
  readonly queue?: QueueOps;
  /** Quit: shuts the local server down gracefully, or closes the remote subscription. */
  stop(): Promise<void>;
}

/** The organiser's check-in operations, the same against the local service or a remote server. */
export interface CheckinOps {
  listDoors(eventId: string): Promise<DoorSummary[]>;
  /** The answer carries the door's token: shown once, never stored or logged here. */
  createDoor(eventId: string, name: string): Promise<NewDoor>;
  revokeDoor(eventId: string, doorId: string): Promise<Door>;
  setOfflineCheckIn(eventId: string, allowed: boolean): Promise<Event>;
  report(eventId: string): Promise<CheckinReport>;
}

/** The organiser's side of an event's life, the same against the local service or a remote server. */
export interface LifecycleOps {
  /** Edits, closes or reopens sales (`salesOpen`); the answer is the event as it is now. */
  updateEvent(eventId: string, patch: EventPatch): Promise<Event>;
  /** Every booking cancelled, holds released, stock zeroed. */
  cancelEvent(eventId: string): Promise<Event>;
  /** Newest first; `search` matches name, email or the start of a booking id. */
  bookings(eventId: string, query: { search?: string; offset?: number; limit?: number }): Promise<AdminBookingsPage>;
  /** As the organiser (admin): every ticket of the booking still valid. */
  cancelBooking(bookingId: string): Promise<Booking>;
}

/** The organiser's side of a waiting room: its numbers, pause and resume (each answers the numbers). */
export interface QueueOps {
  summary(eventId: string): Promise<QueueSummary>;
  pause(eventId: string): Promise<QueueSummary>;
  resume(eventId: string): Promise<QueueSummary>;
}
