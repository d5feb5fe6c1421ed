import type { QueueLine, StoredQueueEntry } from '../../core/queue-effects.js';
import type { QueueCounts } from '../../core/store.js';
import { SqliteQueue } from './sqlite-queue.js';
import Database from 'better-sqlite3';
import type { Outcome, WriteBatch } from '../../core/commands.js';
import type { StoredBooking, StoredDoor } from '../../core/effects.js';
import { keyedSecrets, PROCESS_SECRET_KEY, type IdSource } from '../../core/identity.js';
import type { SharedCommit, Store } from '../../core/store.js';
import type { AdminBooking, AttendeeRow, DoorSummary, Event, Hold, ScanRecord, Ticket } from '../../core/types.js';
import { SqliteQueries } from './sqlite-queries.js';
import { openDatabase, SqliteWriter, type WriterMethod } from './sqlite-writer.js';
import { ClusterWriterClient } from './cluster-writer.js';
import type { WriterChannel } from './writer-protocol.js';
import { WriterThread } from './writer-thread.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before giving up (ms). */
  busyTimeoutMs?: number;
  /**
   * Where new ids come from, for the inline writer (tests); the writer thread always uses the
   * system's. The clock is never the store's: each write batch carries its own `now`.
   */
  identity?: IdSource;
  /**
   * The server keys booking secrets are derived from (current first, then previous ones), for the
   * writer thread, which cannot be handed an `IdSource`; `identity.secrets` wins for the inline writer.
   */
  secretKeys?: readonly Uint8Array[];
  /** Run PRAGMA quick_check at open and refuse a damaged file (default true). */
  integrityCheck?: boolean;
}

/** Runs a writer method wherever the writes happen: this thread or the writer thread. */
type Invoke = <M extends WriterMethod>(method: M, ...args: Parameters<SqliteWriter[M]>) => Promise<ReturnType<SqliteWriter[M]>>;

const EXTERNAL_POLL_MS = 200;

/**
 * Embedded, durable storage: WAL with synchronous=FULL, so a COMMIT has reached the disk before it
 * returns. Each write is one BEGIN IMMEDIATE … COMMIT applying a decision of core (see SqliteWriter).
 *
 * `SqliteStore.open(path)` (what the server uses) runs the writes on a dedicated writer thread and
 * the reads on this thread through a second connection (WAL lets readers run beside the writer);
 * `new SqliteStore(path)` does everything on this thread, which tests and `:memory:` databases use.
 */
/** Opens refused with "database is locked" while other processes open the same file. */
const OPEN_ATTEMPTS = 5;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly invoke: Invoke;
  private readonly inline: SqliteWriter | undefined;
  private readonly thread: WriterChannel | undefined;
  private readonly reads: SqliteQueries;
  private readonly queue: SqliteQueue;

  /** Opens the file with a writer thread; resolves once the schema is migrated. */
  static async open(path: string, options: SqliteStoreOptions & { writerScript?: URL } = {}): Promise<SqliteStore> {
    if (path === ':memory:') return new SqliteStore(path, options);
    // Workers of `--workers N` open one new file at the same moment. SQLite answers "database is
    // locked" at once, without waiting out the busy timeout, when two connections would deadlock
    // upgrading their locks (both switching the journal mode, say): the one refused opens again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await SqliteStore.openOnce(path, options);
      } catch (err) {
        if (attempt >= OPEN_ATTEMPTS || !/database is locked|SQLITE_BUSY/i.test((err as Error).message)) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 150));
      }
    }
  }

  /**
   * A worker of `serve --workers N`: reads from the file, writes through the machine's one writer in
   * the primary (which has opened and migrated the file already), and hears every commit it makes.
   */
  static openClusterWorker(path: string, options: Pick<SqliteStoreOptions, 'busyTimeoutMs'> = {}): SqliteStore {
    const channel = new ClusterWriterClient();
    try {
      const reader = new Database(path, { fileMustExist: true });
      reader.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      const store = new SqliteStore(path, options, { reader, thread: channel });
      store.watchCommits = (listener: (commit: SharedCommit) => void) => {
        channel.onCommit(listener);
        return () => channel.onCommit(undefined);
      };
      return store;
    } catch (err) {
      void channel.close();
      throw err;
    }
  }

  /** A writer thread (or the machine's writer) takes writes in order and merges what queues up. */
  readonly pipelinedWrites: boolean = false;
  /** Set only in a worker of `--workers N`: see `Store.watchCommits`. */
  watchCommits?: (listener: (commit: SharedCommit) => void) => () => void;

  private static async openOnce(path: string, options: SqliteStoreOptions & { writerScript?: URL }): Promise<SqliteStore> {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const thread = await WriterThread.start(path, { busyTimeoutMs, pollMs: EXTERNAL_POLL_MS, integrityCheck: options.integrityCheck, script: options.writerScript, secretKeys: options.secretKeys ?? [PROCESS_SECRET_KEY] });
    try {
      const reader = new Database(path, { fileMustExist: true });
      reader.pragma(`busy_timeout = ${busyTimeoutMs}`);
      return new SqliteStore(path, options, { reader, thread });
    } catch (err) {
      await thread.close();
      throw err;
    }
  }

  constructor(
    readonly path: string,
    options: SqliteStoreOptions = {},
    threaded?: { reader: Database.Database; thread: WriterChannel },
  ) {
    if (threaded) {
      this.pipelinedWrites = true;
      this.db = threaded.reader;
      const thread = (this.thread = threaded.thread);
      this.invoke = (method, ...args) => thread.invoke(method, ...args);
    } else {
      this.db = openDatabase(path, options.busyTimeoutMs, { integrityCheck: options.integrityCheck });
      const identity = options.identity ?? (options.secretKeys ? { newId: () => crypto.randomUUID(), secrets: keyedSecrets(options.secretKeys) } : undefined);
      const writer = (this.inline = new SqliteWriter(this.db, identity));
      this.invoke = async (method, ...args) => (writer[method] as (...a: typeof args) => never)(...args);
    }
    this.reads = new SqliteQueries(this.db);
    this.queue = new SqliteQueue(this.db);
  }

  write(batch: WriteBatch): Promise<Outcome[]> {
    return this.invoke('write', batch);
  }

  async getEvent(id: string): Promise<Event | undefined> {
    return this.reads.getEvent(id);
  }

  async listEvents(): Promise<Event[]> {
    return this.reads.listEvents();
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    return this.reads.getTicket(id);
  }

  async getBooking(id: string): Promise<StoredBooking | undefined> {
    return this.reads.getBooking(id);
  }

  async countTickets(eventId: string): Promise<number> {
    return this.reads.countTickets(eventId);
  }

  async getHold(id: string): Promise<Hold | undefined> {
    return this.reads.getHold(id);
  }

  async getQueueEntry(id: string): Promise<StoredQueueEntry | undefined> {
    return this.queue.entry(id);
  }

  async queueLine(eventId: string): Promise<QueueLine | undefined> {
    return this.queue.line(eventId);
  }

  async queueSummary(eventId: string, now: string): Promise<QueueCounts | undefined> {
    return this.queue.summary(eventId, now);
  }

  async waitingRoomEvents(now: string): Promise<string[]> {
    return this.queue.rooms(now);
  }

  async sharedKey(name: string): Promise<string> {
    return this.queue.sharedKey(name);
  }

  async nextHoldExpiry(): Promise<string | undefined> {
    return this.reads.nextHoldExpiry();
  }

  async getDoor(id: string): Promise<StoredDoor | undefined> {
    return this.reads.getDoor(id);
  }

  async listDoors(eventId: string): Promise<DoorSummary[]> {
    return this.reads.listDoors(eventId);
  }

  async doorList(eventId: string): Promise<{ cancelled: string[]; checkedIn: string[] }> {
    return this.reads.doorList(eventId);
  }

  async scans(eventId: string, limit: number): Promise<{ recent: ScanRecord[]; conflicts: ScanRecord[] }> {
    return this.reads.scans(eventId, limit);
  }

  async attendees(eventId: string): Promise<AttendeeRow[]> {
    return this.reads.attendees(eventId);
  }

  async eventBookings(eventId: string, query: { search?: string; offset: number; limit: number }): Promise<{ total: number; bookings: AdminBooking[] }> {
    return this.reads.eventBookings(eventId, query);
  }

  purgeIdempotencyKeys(before: Date): Promise<number> {
    return this.invoke('purgeIdempotencyKeys', before);
  }

  /**
   * Other processes on the same file (`--workers`) commit on their own connections; SQLite bumps
   * `data_version` for exactly those commits. The writer connection is the one to watch: this
   * thread's reader would also see our own writer's commits as foreign.
   */
  watchExternalChanges(listener: () => void): () => void {
    if (this.thread) {
      this.thread.onExternalChange(listener);
      return () => this.thread!.onExternalChange(undefined);
    }
    const changed = this.inline!.externalChangeProbe();
    const timer = setInterval(() => {
      if (this.db.open && changed()) listener();
    }, EXTERNAL_POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Set once the writer found the journal gone: writes are refused until a restart. */
  fault(): string | undefined {
    return this.thread ? this.thread.fault : this.inline!.journal?.fault;
  }

  /** The file still reads: a schema lookup and one row at most. */
  async ping(): Promise<void> {
    this.db.prepare('SELECT 1 FROM events LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.thread) await this.thread.close();
    if (this.db.open) this.db.close();
  }
}
