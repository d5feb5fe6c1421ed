import { LRUCache } from 'lru-cache';
import type { EventCounts } from './commands.js';
import type { Store } from './store.js';
import type { Event } from './types.js';

interface Cached {
  event: Event;
  /** The invalidation epoch the entry was read or updated in; older entries are stale. */
  epoch: number;
}

interface PendingRead {
  promise: Promise<Event | undefined>;
  /** Set when the event changed while the read was in flight: serve the answer, do not cache it. */
  overtaken: boolean;
}

/**
 * Read caches in front of the store, kept exact by the commits that change them:
 * an LRU of single events, and the `GET /events` list with its serialised body, rebuilt
 * only when a commit has changed something since it was last built.
 *
 * Changes made by other processes (other nodes, other workers) arrive as `invalidateAll()`: it
 * marks every entry stale, so the next read goes to the store. The booking path may still use a
 * stale entry (`allowStale`), because it needs only what never changes (existence, the per-booking
 * maximum); availability is decided by the store inside the transaction.
 */
export class EventCatalog {
  private readonly byId: LRUCache<string, Cached>;
  private readonly reads = new Map<string, PendingRead>();
  private epoch = 0;
  private list: Event[] | null = null;
  private listIndex = new Map<string, number>();
  private listBody: string | null = null;
  private loading: Promise<Event[]> | null = null;
  /** Changes made by this process while a list load is in flight, applied on top of what it read. */
  private overlay: Map<string, Event | EventCounts> | null = null;

  constructor(
    private readonly store: Store,
    cacheSize: number,
  ) {
    this.byId = new LRUCache({ max: Math.max(1, cacheSize) });
  }

  get(id: string, options: { allowStale?: boolean } = {}): Promise<Event | undefined> {
    const cached = this.byId.get(id);
    if (cached && (options.allowStale || cached.epoch === this.epoch)) return Promise.resolve(cached.event);
    // Single flight: concurrent misses share one read, so their callers resume in arrival order
    // and reach the group committer FIFO even when the store answers reads out of order.
    const pending = this.reads.get(id);
    if (pending) return pending.promise;
    const read: PendingRead = { overtaken: false, promise: Promise.resolve(undefined) };
    const epoch = this.epoch;
    read.promise = this.store.getEvent(id).then(
      (event) => {
        this.reads.delete(id);
        if (event && !read.overtaken && epoch === this.epoch) this.byId.set(id, { event, epoch });
        return event;
      },
      (err: unknown) => {
        this.reads.delete(id);
        throw err;
      },
    );
    this.reads.set(id, read);
    return read.promise;
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
    this.overlay?.set(event.id, event);
    this.byId.set(event.id, { event, epoch: this.epoch });
    if (this.list) {
      // A list loaded after the store write but before this call already holds the event.
      const list = this.list.filter((e) => e.id !== event.id);
      list.push(event);
      this.setList(list.sort(compareEvents));
    }
  }

  /**
   * A commit on this node decided an event's counts. Returns false when the caches already held
   * them, so a storm of refusals does not rebuild the list body.
   */
  countsChanged(counts: EventCounts): boolean {
    const { eventId, availableTickets, heldTickets } = counts;
    // Only a commit that admitted tickets knows the check-in count; others leave it as it was.
    const checked = counts.checkedInTickets === undefined ? {} : { checkedInTickets: counts.checkedInTickets };
    const read = this.reads.get(eventId);
    if (read) read.overtaken = true;
    const cached = this.byId.peek(eventId);
    const at = this.list ? this.listIndex.get(eventId) : undefined;
    const listed = at === undefined ? undefined : this.list![at];
    if (
      cached?.epoch === this.epoch &&
      sameCounts(cached.event, counts) &&
      (!this.list || (listed !== undefined && sameCounts(listed, counts)))
    ) {
      return false;
    }
    this.overlay?.set(eventId, counts);
    // Replace rather than mutate: callers may still hold the old object.
    if (cached) this.byId.set(eventId, { event: { ...cached.event, availableTickets, heldTickets, ...checked }, epoch: cached.epoch });
    if (this.list && at !== undefined) {
      const list = this.list.slice();
      list[at] = { ...list[at]!, availableTickets, heldTickets, ...checked };
      this.list = list;
    }
    this.listBody = null;
    return true;
  }

  /** Something outside this process changed events (another node or worker): re-read before serving. */
  invalidateAll(): void {
    this.epoch++;
    for (const read of this.reads.values()) read.overtaken = true;
    this.list = null;
    this.listIndex.clear();
    this.listBody = null;
  }

  private async load(): Promise<Event[]> {
    const epoch = this.epoch;
    const overlay = (this.overlay = new Map());
    try {
      const byId = new Map((await this.store.listEvents()).map((e) => [e.id, e]));
      // Commits of this process that landed during the read are at least as new as what it saw.
      for (const [id, change] of overlay) {
        if ('name' in change) byId.set(id, change);
        else if (byId.has(id)) {
          const checked = change.checkedInTickets === undefined ? {} : { checkedInTickets: change.checkedInTickets };
          byId.set(id, { ...byId.get(id)!, availableTickets: change.availableTickets, heldTickets: change.heldTickets, ...checked });
        }
      }
      const events = [...byId.values()].sort(compareEvents);
      // Another process changed things meanwhile: serve this answer, but read again next time.
      if (epoch === this.epoch) this.setList(events);
      return events;
    } finally {
      this.overlay = null;
      this.loading = null;
    }
  }

  private setList(list: Event[]): void {
    this.list = list;
    this.listIndex = new Map(list.map((e, i) => [e.id, i]));
    this.listBody = null;
  }
}

function sameCounts(event: Event, counts: EventCounts): boolean {
  return (
    event.availableTickets === counts.availableTickets &&
    event.heldTickets === counts.heldTickets &&
    (counts.checkedInTickets === undefined || event.checkedInTickets === counts.checkedInTickets)
  );
}

export function compareEvents(a: Event, b: Event): number {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
