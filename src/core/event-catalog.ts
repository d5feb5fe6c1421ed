import { LRUCache } from 'lru-cache';
import type { Store } from './store.js';
import type { Event } from './types.js';

/**
 * Read caches in front of the store, kept exact by the commits that change them:
 * an LRU of single events, and the `GET /events` list with its serialised body, rebuilt
 * only when a commit has changed something since it was last built.
 */
export class EventCatalog {
  private readonly byId: LRUCache<string, Event>;
  private list: Event[] | null = null;
  private listIndex = new Map<string, number>();
  private listBody: string | null = null;
  private loading: Promise<Event[]> | null = null;
  private readonly reads = new Map<string, Promise<Event | undefined>>();
  /** Bumped by every change; a load that overlapped a change is served but not cached. */
  private generation = 0;

  constructor(
    private readonly store: Store,
    cacheSize: number,
  ) {
    this.byId = new LRUCache({ max: Math.max(1, cacheSize) });
  }

  get(id: string): Promise<Event | undefined> {
    const cached = this.byId.get(id);
    if (cached) return Promise.resolve(cached);
    // Single flight: concurrent misses share one read, so their callers resume in arrival order
    // and reach the group committer FIFO even when the store answers reads out of order.
    let pending = this.reads.get(id);
    if (!pending) {
      const generation = this.generation;
      pending = this.store.getEvent(id).then(
        (event) => {
          this.reads.delete(id);
          if (event && generation === this.generation) this.byId.set(id, event);
          return event;
        },
        (err: unknown) => {
          this.reads.delete(id);
          throw err;
        },
      );
      this.reads.set(id, pending);
    }
    return pending;
  }

  async listAll(): Promise<Event[]> {
    if (this.list) return this.list;
    this.loading ??= this.load();
    return this.loading;
  }

  /** The serialised list; a stable string between changes, so serving it costs nothing. */
  async listJson(): Promise<string> {
    if (this.listBody !== null) return this.listBody;
    const events = await this.listAll();
    const body = JSON.stringify(events);
    if (events === this.list) this.listBody = body;
    return body;
  }

  added(event: Event): void {
    this.generation++;
    this.byId.set(event.id, event);
    if (this.list) {
      // A list loaded after the store write but before this call already holds the event.
      const list = this.list.filter((e) => e.id !== event.id);
      list.push(event);
      this.setList(list.sort(compareEvents));
    }
  }

  /**
   * A commit on this node decided an event's availability. Returns false when the caches already
   * held that number, so a storm of refusals does not rebuild the list body.
   */
  availabilityChanged(eventId: string, availableTickets: number): boolean {
    const cached = this.byId.peek(eventId);
    const at = this.list ? this.listIndex.get(eventId) : undefined;
    const listed = at === undefined ? undefined : this.list![at];
    if (cached?.availableTickets === availableTickets && (!this.list || listed?.availableTickets === availableTickets)) {
      return false;
    }
    this.generation++;
    if (cached) this.byId.set(eventId, { ...cached, availableTickets });
    if (this.list) {
      if (at !== undefined) {
        // Replace rather than mutate: callers may still hold the old object.
        const list = this.list.slice();
        list[at] = { ...list[at]!, availableTickets };
        this.list = list;
      }
    }
    this.listBody = null;
    return true;
  }

  /** Something outside this process changed events (another node): forget everything. */
  invalidateAll(): void {
    this.generation++;
    this.byId.clear();
    this.list = null;
    this.listIndex.clear();
    this.listBody = null;
  }

  private async load(): Promise<Event[]> {
    const generation = this.generation;
    try {
      const events = (await this.store.listEvents()).slice().sort(compareEvents);
      if (generation === this.generation) this.setList(events);
      return events;
    } finally {
      this.loading = null;
    }
  }

  private setList(list: Event[]): void {
    this.list = list;
    this.listIndex = new Map(list.map((e, i) => [e.id, i]));
    this.listBody = null;
  }
}

export function compareEvents(a: Event, b: Event): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
