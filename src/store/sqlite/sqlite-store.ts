import Database from 'better-sqlite3';
import type { IdentitySource } from '../../core/decide-batch.js';
import type { BookingOutcome, BookingRequest, Store } from '../../core/store.js';
import type { Booking, Event, Ticket } from '../../core/types.js';
import { EVENT_COLUMNS, openDatabase, SqliteWriter } from './sqlite-writer.js';
import { WriterThread } from './writer-thread.js';

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before giving up (ms). */
  busyTimeoutMs?: number;
  identity?: IdentitySource;
}

interface EventRow {
  id: string;
  name: string;
  date: string;
  total_tickets: number;
  available_tickets: number;
  max_tickets_per_booking: number;
}

/** What the store needs from whoever performs its writes: this thread (`SqliteWriter`) or the writer thread. */
interface Writes {
  createEvent(event: Event): void | Promise<void>;
  commitBookings(requests: readonly BookingRequest[]): BookingOutcome[] | Promise<BookingOutcome[]>;
}

const EXTERNAL_POLL_MS = 200;

/**
 * Embedded, durable storage: WAL with synchronous=FULL, so a COMMIT has reached the disk before it
 * returns. Each `commitBookings` call is one BEGIN IMMEDIATE … COMMIT decided by `decideBatch`.
 *
 * `SqliteStore.open(path)` (what the server uses) runs the writes on a dedicated writer thread and
 * the reads on this thread through a second connection (WAL lets readers run beside the writer);
 * `new SqliteStore(path)` does everything on this thread, which tests and `:memory:` databases use.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly writes: Writes;
  private readonly thread: WriterThread | undefined;
  private readonly stmt;

  /** Opens the file with a writer thread; resolves once the schema is migrated. */
  static async open(path: string, options: SqliteStoreOptions & { writerScript?: URL } = {}): Promise<SqliteStore> {
    if (path === ':memory:') return new SqliteStore(path, options);
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const thread = await WriterThread.start(path, { busyTimeoutMs, pollMs: EXTERNAL_POLL_MS, script: options.writerScript });
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
    threaded?: { reader: Database.Database; thread: WriterThread },
  ) {
    if (threaded) {
      this.db = threaded.reader;
      this.thread = threaded.thread;
      this.writes = threaded.thread;
    } else {
      this.db = openDatabase(path, options.busyTimeoutMs);
      this.writes = new SqliteWriter(this.db, options.identity);
    }
    const db = this.db;
    this.stmt = {
      getEvent: db.prepare<[string], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events WHERE id = ?`),
      listEvents: db.prepare<[], EventRow>(`SELECT ${EVENT_COLUMNS} FROM events ORDER BY date, name, id`),
      getTicket: db.prepare<[string], { id: string; event_id: string; booking_id: string }>(
        'SELECT t.id, t.event_id, b.id AS booking_id FROM tickets t JOIN bookings b ON b.seq = t.booking_seq WHERE t.id = ?',
      ),
      getBooking: db.prepare<[string], { seq: number; id: string; event_id: string; created_at: string }>(
        'SELECT seq, id, event_id, created_at FROM bookings WHERE id = ?',
      ),
      ticketsOfBooking: db.prepare<[number], string>('SELECT id FROM tickets WHERE booking_seq = ? ORDER BY id').pluck(),
      countTickets: db.prepare<[string], number>('SELECT count(*) FROM tickets WHERE event_id = ?').pluck(),
    };
  }

  async createEvent(event: Event): Promise<void> {
    await this.writes.createEvent(event);
  }

  async getEvent(id: string): Promise<Event | undefined> {
    const row = this.stmt.getEvent.get(id);
    return row && toEvent(row);
  }

  async listEvents(): Promise<Event[]> {
    return this.stmt.listEvents.all().map(toEvent);
  }

  async commitBookings(requests: readonly BookingRequest[]): Promise<BookingOutcome[]> {
    return this.writes.commitBookings(requests);
  }

  async getTicket(id: string): Promise<Ticket | undefined> {
    const row = this.stmt.getTicket.get(id);
    return row && { id: row.id, eventId: row.event_id, bookingId: row.booking_id };
  }

  async getBooking(id: string): Promise<Booking | undefined> {
    const row = this.stmt.getBooking.get(id);
    if (!row) return undefined;
    const ticketIds = this.stmt.ticketsOfBooking.all(row.seq);
    return {
      id: row.id,
      eventId: row.event_id,
      createdAt: row.created_at,
      tickets: ticketIds.map((ticketId) => ({ id: ticketId, eventId: row.event_id, bookingId: row.id })),
    };
  }

  async countTickets(eventId: string): Promise<number> {
    return this.stmt.countTickets.get(eventId) ?? 0;
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
    const changed = (this.writes as SqliteWriter).externalChangeProbe();
    const timer = setInterval(() => {
      if (this.db.open && changed()) listener();
    }, EXTERNAL_POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }

  async close(): Promise<void> {
    if (this.thread) await this.thread.close();
    if (this.db.open) this.db.close();
  }
}

function toEvent(row: EventRow): Event {
  return {
    id: row.id,
    name: row.name,
    date: row.date,
    totalTickets: row.total_tickets,
    availableTickets: row.available_tickets,
    maxTicketsPerBooking: row.max_tickets_per_booking,
  };
}
