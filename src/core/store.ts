import type { Command, EventCounts, KeyClaim, Outcome, WriteBatch } from './commands.js';
import type { Admission, BuyerTickets, Effects, StoredBooking, StoredDoor, StoredHold, StoredKey, TicketRef } from './effects.js';
import type { QueueEntryQuery, QueueLine, QueueLineRead, StoredQueueEntry } from './queue-effects.js';
import type { AdminBooking, AttendeeRow, DoorSummary, Event, Hold, ScanRecord, Ticket } from './types.js';

/**
 * The storage port. Core depends on this interface only; adapters live in src/store and must pass
 * the contract suite in test/store/contract.ts.
 *
 * Adapters hold no business rules. Every write goes through `write`: an adapter runs the shared plan
 * (`runWrite` / `runWriteAsync` in write-plan.ts) inside one transaction, answering its row reads
 * and applying its effects (`RowAccess`). Adding a kind of write means a command, a decision and
 * perhaps a migration, not new transaction code in each adapter.
 */
export interface Store {
  /** Short adapter name for logs and metrics: "memory", "sqlite", "postgres". */
  readonly kind: string;

  /**
   * Optional: the clock every node sharing this storage agrees on (the database's, on PostgreSQL).
   * Hold expiry and every other deadline several nodes judge is decided on it, so one node with a
   * wrong system clock cannot expire another node's holds early. Single-process stores leave it out
   * and the service uses the system clock.
   */
  readonly clock?: SharedClock;

  /**
   * Decides and commits a batch of commands in one atomic transaction. Outcomes are index-aligned
   * with the commands. Either everything of the batch is durable when the promise resolves, or the
   * promise rejects and nothing of it was applied.
   */
  write(batch: WriteBatch): Promise<Outcome[]>;

  getEvent(id: string): Promise<Event | undefined>;
  /** All events, ordered by date then name then id. */
  listEvents(): Promise<Event[]>;
  getTicket(id: string): Promise<Ticket | undefined>;
  getBooking(id: string): Promise<StoredBooking | undefined>;
  /** Valid (sold, not cancelled) tickets of an event, counted from the ticket rows (for invariant checks). */
  countTickets(eventId: string): Promise<number>;
  getHold(id: string): Promise<Hold | undefined>;
  /** The earliest `expiresAt` of an active hold, if any. */
  nextHoldExpiry(): Promise<string | undefined>;

  /** A door with its token's hash (door authentication). */
  getDoor(id: string): Promise<StoredDoor | undefined>;
  /** The event's doors by creation time, with the tickets each admitted. */
  listDoors(eventId: string): Promise<DoorSummary[]>;
  /** What an offline door needs: the event's cancelled tickets and admitted tickets. */
  doorList(eventId: string): Promise<{ cancelled: string[]; checkedIn: string[] }>;
  /**
   * Recorded scans of the event: the latest `limit`, newest first, and every admission and conflict
   * of the tickets that have a conflict (oldest first).
   */
  scans(eventId: string, limit: number): Promise<{ recent: ScanRecord[]; conflicts: ScanRecord[] }>;
  /** Every ticket of the event with its booking and admission, ordered by booking time then ticket id. */
  attendees(eventId: string): Promise<AttendeeRow[]>;
  /**
   * The event's bookings for the organiser, newest first (`createdAt` desc, then id), with their
   * tickets, buyer's details and admitted tickets. `search` (already trimmed): a case-insensitive
   * substring of the buyer's name or email, or a prefix of the booking id. `total` counts every match.
   */
  eventBookings(eventId: string, query: { search?: string; offset: number; limit: number }): Promise<{ total: number; bookings: AdminBooking[] }>;

  /** A waiting-room entry, outside any write. */
  getQueueEntry(id: string): Promise<StoredQueueEntry | undefined>;
  /** An event's line with its entries counted by state (undefined: nobody joined yet). */
  queueSummary(eventId: string, now: string): Promise<QueueCounts | undefined>;
  /**
   * An event's line, its row alone, nothing counted (undefined: nobody joined yet): what a buyer's
   * poll needs, so a poll costs the same with 10 or 100,000 people in the line and 5,000 in the window.
   */
  queueLine(eventId: string): Promise<QueueLine | undefined>;
  /** Ids of scheduled events with a waiting room whose date is after `now` (the lines a node keeps moving). */
  waitingRoomEvents(now: string): Promise<string[]>;
  /** A key every node of this storage shares, created once (the waiting room signs with it). */
  sharedKey(name: string): Promise<string>;

  /** Forgets idempotency keys recorded before `before`; returns how many. */
  purgeIdempotencyKeys(before: Date): Promise<number>;

  /**
   * Optional: calls `listener` soon after another process (another node or worker) commits a change,
   * so caches can be refreshed. Returns a function that stops watching. Stores that only ever have
   * one writer (memory) leave it out.
   */
  watchExternalChanges?(listener: () => void): () => void;

  /**
   * Optional: this process's writes are decided by a writer it shares with other processes of the
   * machine (`serve --workers N` on SQLite), which pushes every commit it made, for any of them, to
   * all. The listener hears each commit in commit order, this process's own included, before the
   * write's promise resolves; caches follow these instead of each process's own outcomes. The
   * shared writer also runs the housekeeping (expiry, key purge), so such a process does not.
   */
  watchCommits?(listener: (commit: SharedCommit) => void): () => void;

  /**
   * Optional: a write may be sent before the previous one has committed. The store decides writes
   * in the order they were sent, and those that queue up meanwhile in one transaction, so a caller
   * need not wait out each commit's round trip (SQLite's writer thread, or the machine's writer).
   */
  readonly pipelinedWrites?: boolean;

  /**
   * Optional: a fault the store found itself that makes it unsafe to take writes until a restart
   * (SQLite: its journal file was deleted). Every write fails while it lasts; /readyz reports it.
   */
  fault?(): string | undefined;

  /**
   * Optional: a cheap read that reaches the database (PostgreSQL: a round trip on the pool), for
   * /readyz. Rejects when the database cannot answer. Stores without a database leave it out.
   */
  ping?(): Promise<void>;

  /**
   * Optional: where stock is split between nodes (PostgreSQL escrow), this node's id and the tickets
   * its share of each event holds (events it has no share of are left out). For the metrics.
   */
  stockShares?(): Promise<{ node: string; shares: Array<{ eventId: string; available: number }> }>;

  close(): Promise<void>;
}

/**
 * What an adapter does for the write plan, inside the batch's transaction. Reads return the rows
 * that exist (missing ids are simply absent); where the database has row locks, a read locks what it
 * returns until COMMIT. `apply` writes every effect with conditional writes and throws (rolling the
 * transaction back) when any of them finds the row not as the decision expected.
 */
export interface RowAccess {
  /**
   * Claims these idempotency keys for this transaction and returns the rows of those already
   * answered since `cutoff`. Where several nodes share the database, a key another transaction is
   * deciding right now makes this wait for that transaction's end.
   */
  claimKeys(claims: KeyClaim[], now: string, cutoff: string): StoredKey[];
  /** Idempotency rows by key, whatever their age. */
  keys(keys: string[]): StoredKey[];
  holds(ids: string[]): StoredHold[];
  /** Active holds with `expiresAt <= now`, at most `limit`, skipping any another transaction holds. */
  dueHolds(now: string, limit: number): StoredHold[];
  /**
   * Locks the active holds of events a batch cancels, before their events' rows: the cancellation
   * ends them in bulk after the event's lock, while a confirm elsewhere locks its hold and then the
   * event. Taken here, at the holds' place in the lock order, the two cannot deadlock. Adapters
   * without row locks do nothing.
   */
  lockActiveHolds(eventIds: string[]): void;
  /**
   * Tickets by id with their booking and whether they are cancelled. Asked after the events step:
   * where rows are locked, the event's lock is what orders a scan after a cancellation.
   */
  tickets(ids: string[]): TicketRef[];
  bookings(ids: string[]): StoredBooking[];
  /**
   * Buyers' counters for these (event, buyer) pairs; a pair with no row yet has nothing. Where
   * several nodes share the database, the rows are created if missing and locked, so two nodes
   * cannot both let one buyer past a limit.
   */
  buyers(pairs: Array<{ eventId: string; buyer: string }>): BuyerTickets[];
  /**
   * Events by id. `sellable`, where the adapter sets it, is the most of the event's available stock
   * this transaction may take (PostgreSQL: this node's share; see LoadedRows.sellable).
   */
  events(ids: string[]): Array<Event & { sellable?: number }>;
  /** Doors by id (locked where the database has row locks: a revocation waits for scans in flight). */
  doors(ids: string[]): StoredDoor[];
  /**
   * The admissions of these tickets. Asked after the events step locked the tickets' event, so on a
   * shared database an admission another node is committing is seen, not missed.
   */
  admissions(ticketIds: string[]): Admission[];
  /**
   * The waiting-room lines of these events, created (empty) where missing and locked where the
   * database has row locks, with how many entries hold a pass and how many of those ran out by `now`.
   * After the events (a new line references its event) and before the entries.
   */
  queueLines(eventIds: string[], now: string): QueueLineRead[];
  /** Entries by id, buyers' active entries, and every entry of these events without a position (locked). */
  queueEntries(query: QueueEntryQuery): StoredQueueEntry[];
  apply(effects: Effects): void;
}

/** The same, for a database whose client is asynchronous. */
export type AsyncRowAccess = { [K in keyof RowAccess]: (...args: Parameters<RowAccess[K]>) => Promise<ReturnType<RowAccess[K]>> };

/** What the cache needs of a commit: created and changed events, and an event's counts. */
export type CommittedChange = { created: Event } | { settings: Event } | { counts: EventCounts };

export interface SharedCommit {
  changes: CommittedChange[];
  /** Writes the shared writer made of its own (expiry), for this one process to log and count. */
  report?: { commands: Command[]; outcomes: Outcome[]; millis: number };
}

/** A clock shared by every node of one storage, with a word on how far this node's own clock is off. */
export interface SharedClock {
  now(): Date;
  status(): ClockStatus;
}

export interface ClockStatus {
  /** `skewed`: this node's system clock is off by more than the tolerance (the shared clock is still used). */
  status: 'ok' | 'skewed' | 'unmeasured';
  /** This node's clock minus the shared one, in ms, when measured. */
  skewMs?: number;
  toleranceMs: number;
}

/** A line with its entries counted by state (`admitted`: passes neither used nor marked expired). */
export interface QueueCounts extends QueueLineRead {
  waiting: number;
  done: number;
  expired: number;
}
