import type Database from 'better-sqlite3';
import type { Effects } from '../../core/effects.js';
import type { QueueEntryQuery, QueueLine, QueueLineRead, StoredQueueEntry } from '../../core/queue-effects.js';
import type { QueueCounts } from '../../core/store.js';
import { QUEUE_ENTRY_COLUMNS, QUEUE_LINE_COLUMNS, toPlainQueueLine, toQueueEntry, toQueueLine, type QueueEntryRow, type QueueLineRow } from '../rows.js';

const COUNTED = `SELECT ${QUEUE_LINE_COLUMNS},
    (SELECT count(*) FROM queue_entries e WHERE e.event_id = l.event_id AND e.state = 'admitted') AS admitted,
    (SELECT count(*) FROM queue_entries e WHERE e.event_id = l.event_id AND e.state = 'admitted' AND e.pass_expires_at <= @now) AS due
  FROM queue_lines l WHERE event_id = @eventId`;

/**
 * The waiting room's reads and conditional writes on SQLite (issue 13). Used by the writer inside
 * its BEGIN IMMEDIATE (which already holds the one write lock) and by the store's read connection.
 */
export class SqliteQueue {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      createLine: db.prepare("INSERT INTO queue_lines (event_id, version, joined, positioned, serving, paused) VALUES (?, 1, 0, 0, 0, 0) ON CONFLICT (event_id) DO NOTHING"),
      line: db.prepare<[{ eventId: string; now: string }], QueueLineRow>(COUNTED),
      plainLine: db.prepare<[string], QueueLineRow>(`SELECT ${QUEUE_LINE_COLUMNS} FROM queue_lines WHERE event_id = ?`),
      byId: db.prepare<[string], QueueEntryRow>(`SELECT ${QUEUE_ENTRY_COLUMNS} FROM queue_entries WHERE id = ?`),
      byBuyer: db.prepare<[string, string], QueueEntryRow>(`SELECT ${QUEUE_ENTRY_COLUMNS} FROM queue_entries WHERE event_id = ? AND buyer = ? AND state IN ('waiting', 'admitted')`),
      unpositioned: db.prepare<[string], QueueEntryRow>(`SELECT ${QUEUE_ENTRY_COLUMNS} FROM queue_entries WHERE event_id = ? AND position IS NULL ORDER BY seq`),
      states: db.prepare<[string], { state: string; n: number }>('SELECT state, count(*) AS n FROM queue_entries WHERE event_id = ? GROUP BY state'),
      // Conditional on the version the batch read: the order is drawn once, and no change is lost.
      putLine: db.prepare(
        'UPDATE queue_lines SET version = @version, joined = @joined, positioned = @positioned, opened_at = @openedAt, serving = @serving, paused = @pausedInt WHERE event_id = @eventId AND version = @expectVersion',
      ),
      insertEntry: db.prepare(
        `INSERT INTO queue_entries (${QUEUE_ENTRY_COLUMNS}) VALUES (@id, @eventId, @buyer, @seq, @position, @state, @joinedAt, @admittedAt, @passExpiresAt, @finishedAt)`,
      ),
      place: db.prepare('UPDATE queue_entries SET position = ? WHERE id = ? AND position IS NULL'),
      admit: db.prepare(
        "UPDATE queue_entries SET state = 'admitted', admitted_at = @at, pass_expires_at = @passExpiresAt WHERE event_id = @eventId AND position BETWEEN @from AND @to AND state = 'waiting'",
      ),
      expire: db.prepare("UPDATE queue_entries SET state = 'expired', finished_at = @now WHERE event_id = @eventId AND state = 'admitted' AND pass_expires_at <= @now"),
      finish: db.prepare("UPDATE queue_entries SET state = 'done', finished_at = ? WHERE id = ? AND state = 'admitted'"),
      sale: db.prepare(
        'UPDATE events SET on_sale_at = @onSaleAt, waiting_room = @waitingRoomInt, waiting_room_opens_at = @waitingRoomOpensAt, queue_window = @queueWindow WHERE id = @eventId',
      ),
      rooms: db.prepare<[string], { id: string }>("SELECT id FROM events WHERE waiting_room = 1 AND status = 'scheduled' AND date > ?"),
      key: db.prepare<[string], { value: string }>('SELECT value FROM server_keys WHERE name = ?'),
    };
  }

  lines(eventIds: string[], now: string): QueueLineRead[] {
    return eventIds.map((eventId) => {
      this.stmt.createLine.run(eventId);
      return toQueueLine(this.stmt.line.get({ eventId, now })!);
    });
  }

  entries(query: QueueEntryQuery): StoredQueueEntry[] {
    const rows = new Map<string, QueueEntryRow>();
    for (const id of query.ids) for (const row of this.stmt.byId.all(id)) rows.set(row.id, row);
    for (const b of query.buyers) for (const row of this.stmt.byBuyer.all(b.eventId, b.buyer)) rows.set(row.id, row);
    for (const eventId of query.unpositioned) for (const row of this.stmt.unpositioned.all(eventId)) rows.set(row.id, row);
    return [...rows.values()].map(toQueueEntry);
  }

  /** Each write conditional; a count other than decided throws and the batch rolls back. */
  apply(effects: Effects): void {
    for (const [eventId, s] of effects.saleSettings) expect(this.stmt.sale.run({ eventId, ...s, waitingRoomInt: s.waitingRoom ? 1 : 0 }).changes, 1, `event ${eventId} is gone`);
    const q = effects.queue;
    for (const { line, expectVersion } of q.lines.values()) {
      expect(this.stmt.putLine.run({ ...line, pausedInt: line.paused ? 1 : 0, expectVersion }).changes, 1, `the line of event ${line.eventId} changed under the write lock`);
    }
    for (const e of q.newEntries) this.stmt.insertEntry.run(e);
    for (const p of q.positions) expect(this.stmt.place.run(p.position, p.id).changes, 1, `entry ${p.id} already has a position`);
    for (const r of q.admitRanges) expect(this.stmt.admit.run(r).changes, r.to - r.from + 1, `positions ${r.from}..${r.to} were not all waiting`);
    for (const x of q.expiredPasses) expect(this.stmt.expire.run(x).changes, x.count, `passes of event ${x.eventId} changed under the write lock`);
    for (const f of q.finished) expect(this.stmt.finish.run(f.at, f.id).changes, 1, `entry ${f.id} holds no pass`);
  }

  entry(id: string): StoredQueueEntry | undefined {
    const row = this.stmt.byId.get(id);
    return row && toQueueEntry(row);
  }

  /** The line's row alone. */
  line(eventId: string): QueueLine | undefined {
    const row = this.stmt.plainLine.get(eventId);
    return row && toPlainQueueLine(row);
  }

  summary(eventId: string, now: string): QueueCounts | undefined {
    const row = this.stmt.line.get({ eventId, now });
    const line = row && toQueueLine(row);
    if (!line) return undefined;
    const n = Object.fromEntries(this.stmt.states.all(eventId).map((s) => [s.state, s.n]));
    return { ...line, waiting: n.waiting ?? 0, done: n.done ?? 0, expired: n.expired ?? 0 };
  }

  rooms(now: string): string[] {
    return this.stmt.rooms.all(now).map((r) => r.id);
  }

  /** Created by migration 7, once per database. */
  sharedKey(name: string): string {
    const row = this.stmt.key.get(name);
    if (!row) throw new Error(`server key ${name} is missing`);
    return row.value;
  }
}

function expect(changes: number, wanted: number, message: string): void {
  if (changes !== wanted) throw new Error(message);
}
