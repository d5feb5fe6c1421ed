import type { Event, NewEventInput } from '../client/types.js';
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
  /** Quit: shuts the local server down gracefully, or closes the remote subscription. */
  stop(): Promise<void>;
}
