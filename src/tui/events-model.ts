import type { Event, EventStreamMessage, StreamStatus } from '../client/types.js';

/**
 * The events a screen shows, kept current by live messages (from `GET /events/stream`, or from the
 * service itself inside `boxoffice serve`). Applying a change is O(1); sorting happens when a screen
 * asks for the list, which the screens do at most ten times a second.
 */
export class EventsModel {
  private readonly events = new Map<string, Event>();
  private sorted: Event[] | undefined;
  private readonly listeners = new Set<() => void>();
  /** True once a first snapshot arrived. */
  loaded = false;
  status: StreamStatus = { state: 'connecting' };

  apply(message: EventStreamMessage): void {
    if (message.type === 'snapshot') {
      this.events.clear();
      for (const e of message.events) this.events.set(e.id, normalise(e));
      this.loaded = true;
    } else if (message.type === 'queue') {
      return;
    } else {
      for (const e of message.created) this.events.set(e.id, normalise(e));
      for (const { id, availableTickets, heldTickets, checkedInTickets } of message.availability) this.setAvailability(id, availableTickets, heldTickets, false, checkedInTickets);
    }
    this.changed();
  }

  /**
   * One event's counts; events not known yet are ignored (a snapshot will bring them). `heldTickets`
   * undefined keeps the held count as it was (servers older than holds do not send it).
   */
  setAvailability(id: string, availableTickets: number, heldTickets?: number, notify = true, checkedInTickets?: number): void {
    const event = this.events.get(id);
    if (!event) return;
    const held = heldTickets ?? event.heldTickets;
    // Absent: unchanged (the door counts move only when someone is admitted).
    const checkedIn = checkedInTickets ?? event.checkedInTickets;
    if (event.availableTickets === availableTickets && event.heldTickets === held && event.checkedInTickets === checkedIn) return;
    // Replaced, not mutated: a screen holding the old object sees a consistent event.
    this.events.set(id, { ...event, availableTickets, heldTickets: held, checkedInTickets: checkedIn });
    if (notify) this.changed();
  }

  add(event: Event): void {
    this.events.set(event.id, normalise(event));
    this.changed();
  }

  setStatus(status: StreamStatus): void {
    this.status = status;
    this.changed();
  }

  get(id: string): Event | undefined {
    return this.events.get(id);
  }

  /** Sorted by date, then name. */
  list(): Event[] {
    return (this.sorted ??= [...this.events.values()].sort(byDateThenName));
  }

  /** Hears every change; keep the listener O(1) (e.g. schedule a render). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.sorted = undefined;
    for (const listener of this.listeners) listener();
  }
}

/**
 * A copy the model owns; an event from a server older than holds counts none held. New names with
 * control or bidi-override characters are refused by the server, but a database from before that
 * rule (or another server) may still hold one: shown raw, an ESC would repaint the terminal.
 */
function normalise(event: Event): Event {
  return { ...event, name: printable(event.name), heldTickets: event.heldTickets ?? 0 };
}

/** Control and text-direction characters shown as U+FFFD, so a name prints as the text it is. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/gu, '\ufffd');
}

export function byDateThenName(a: Event, b: Event): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : a.name.localeCompare(b.name);
}
