import type { Command, Outcome } from './commands.js';
import { Errors } from './errors.js';
import type { Store } from './store.js';
import type { AdminBookingsPage, Event } from './types.js';
import { LIMITS, describe, parseId, validateEventPatch } from './validation.js';

/** What the lifecycle needs of the service: the write lane and the storage error mapping. */
export interface LifecycleDeps {
  store: Store;
  /** One write through the lane; a refusal is thrown as its error. */
  write: (command: Command) => Promise<Extract<Outcome, { ok: true }>>;
  withStorage: <T>(pending: Promise<T>) => Promise<T>;
  /** The server's waiting-room lead, in seconds. */
  roomLeadSeconds?: number;
}

export interface BookingsQuery {
  search?: unknown;
  offset?: unknown;
  limit?: unknown;
}

export const BOOKINGS_PAGE_MAX = 1000;
export const BOOKINGS_PAGE_DEFAULT = 100;

/**
 * The organiser's side of an event's life (issue 17): correct it, close and reopen its sales,
 * cancel it, and see who bought. The rules are decisions (decisions/lifecycle.ts); this parses input.
 */
export class EventLifecycle {
  constructor(private readonly deps: LifecycleDeps) {}

  async updateEvent(id: unknown, body: unknown): Promise<Event> {
    const command: Command = { type: 'updateEvent', eventId: parseId(id, 'eventId'), patch: validateEventPatch(body), roomLeadSeconds: this.deps.roomLeadSeconds };
    return ((await this.deps.write(command)) as Extract<Outcome, { kind: 'settings' }>).event;
  }

  async cancelEvent(id: unknown): Promise<Event> {
    const command: Command = { type: 'cancelEvent', eventId: parseId(id, 'eventId') };
    return ((await this.deps.write(command)) as Extract<Outcome, { kind: 'settings' }>).event;
  }

  /** The event's bookings, newest first, with buyers' details and check-ins; `search` over name, email, booking id. */
  async bookings(id: unknown, query: BookingsQuery): Promise<AdminBookingsPage> {
    const eventId = parseId(id, 'eventId');
    const offset = pageNumber(query.offset, 'offset', 0, 1_000_000_000, 0);
    const limit = pageNumber(query.limit, 'limit', 1, BOOKINGS_PAGE_MAX, BOOKINGS_PAGE_DEFAULT);
    let search: string | undefined;
    if (query.search !== undefined) {
      if (typeof query.search !== 'string' || query.search.length > LIMITS.searchMaxLength) {
        throw Errors.invalidRequest(`search must be text of at most ${LIMITS.searchMaxLength} characters, got ${describe(query.search)}.`);
      }
      search = query.search.trim() || undefined;
    }
    const event = await this.deps.withStorage(this.deps.store.getEvent(eventId));
    if (!event) throw Errors.eventNotFound(eventId);
    const page = await this.deps.withStorage(this.deps.store.eventBookings(eventId, { search, offset, limit }));
    return { total: page.total, offset, limit, bookings: page.bookings };
  }
}

function pageNumber(raw: unknown, name: string, min: number, max: number, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'number' ? String(raw) : raw;
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw Errors.invalidRequest(`${name} must be a whole number from ${min} to ${max}, got ${describe(raw)}.`);
  }
  return Number(value);
}
