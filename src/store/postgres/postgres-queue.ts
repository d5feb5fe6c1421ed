import type { Effects } from '../../core/effects.js';
import type { QueueEntryQuery, QueueLine, QueueLineRead, StoredQueueEntry } from '../../core/queue-effects.js';
import type { QueueCounts } from '../../core/store.js';
import { QUEUE_ENTRY_COLUMNS, QUEUE_LINE_COLUMNS, toPlainQueueLine, toQueueEntry, toQueueLine, type QueueEntryRow, type QueueLineRow } from '../rows.js';
import type pg from 'pg';

/** A pooled client or the pool itself (as postgres-rows.ts has it; not imported, to keep the two files out of a cycle). */
type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/**
 * The waiting room on PostgreSQL (issue 13): one line per event shared by every node. The plan
 * locks the line (created if missing, like a buyer's row) after the events and before its entries,
 * so joins, admissions and passes used on different nodes take turns on it; every write is
 * conditional (the line on its version, entries on their state) and a count other than decided
 * rolls the batch back.
 */
export async function lockLines(q: Queryable, eventIds: string[], now: string): Promise<QueueLineRead[]> {
  await q.query({
    name: 'create-lines',
    text: 'INSERT INTO queue_lines (event_id, version, joined, positioned, serving, paused) SELECT unnest($1::uuid[]), 1, 0, 0, 0, false ON CONFLICT (event_id) DO NOTHING',
    values: [eventIds],
  });
  await q.query({ name: 'lock-lines', text: 'SELECT 1 FROM queue_lines WHERE event_id = ANY($1::uuid[]) ORDER BY event_id FOR UPDATE', values: [eventIds] });
  return (await countedLines(q, eventIds, now)).map(toQueueLine);
}

async function countedLines(q: Queryable, eventIds: string[], now: string): Promise<QueueLineRow[]> {
  const { rows } = await q.query<QueueLineRow>({
    name: 'counted-lines',
    text: `SELECT ${QUEUE_LINE_COLUMNS},
             (SELECT count(*)::int FROM queue_entries e WHERE e.event_id = l.event_id AND e.state = 'admitted') AS admitted,
             (SELECT count(*)::int FROM queue_entries e WHERE e.event_id = l.event_id AND e.state = 'admitted' AND e.pass_expires_at <= $2) AS due
           FROM queue_lines l WHERE event_id = ANY($1::uuid[]) ORDER BY event_id`,
    values: [eventIds, now],
  });
  return rows;
}

export async function lockEntries(q: Queryable, query: QueueEntryQuery): Promise<StoredQueueEntry[]> {
  const { rows } = await q.query<QueueEntryRow>({
    name: 'lock-entries',
    text: `SELECT ${QUEUE_ENTRY_COLUMNS} FROM queue_entries
           WHERE id = ANY($1::uuid[])
              OR ((event_id, buyer) IN (SELECT * FROM unnest($2::uuid[], $3::text[])) AND state IN ('waiting', 'admitted'))
              OR (event_id = ANY($4::uuid[]) AND position IS NULL)
           ORDER BY id FOR UPDATE`,
    values: [query.ids, query.buyers.map((b) => b.eventId), query.buyers.map((b) => b.buyer), query.unpositioned],
  });
  return rows.map(toQueueEntry);
}

/** After the one-statement apply (one statement may not change a row twice). */
export async function applyQueue(q: Queryable, effects: Effects): Promise<void> {
  for (const [eventId, s] of effects.saleSettings) {
    const { rowCount } = await q.query({
      name: 'set-sale',
      text: 'UPDATE events SET on_sale_at = $2, waiting_room = $3, waiting_room_opens_at = $4, queue_window = $5 WHERE id = $1',
      values: [eventId, s.onSaleAt, s.waitingRoom, s.waitingRoomOpensAt, s.queueWindow],
    });
    expect(rowCount, 1, `event ${eventId} is gone`);
  }
  const e = effects.queue;
  for (const { line, expectVersion } of e.lines.values()) {
    const { rowCount } = await q.query({
      name: 'put-line',
      text: 'UPDATE queue_lines SET version = $2, joined = $3, positioned = $4, opened_at = $5, serving = $6, paused = $7 WHERE event_id = $1 AND version = $8',
      values: [line.eventId, line.version, line.joined, line.positioned, line.openedAt, line.serving, line.paused, expectVersion],
    });
    expect(rowCount, 1, `the line of event ${line.eventId} changed under this batch`);
  }
  if (e.newEntries.length > 0) {
    const n = e.newEntries;
    await q.query({
      name: 'insert-entries',
      text: `INSERT INTO queue_entries (${QUEUE_ENTRY_COLUMNS})
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::int[], $6::text[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::timestamptz[])`,
      values: [n.map((x) => x.id), n.map((x) => x.eventId), n.map((x) => x.buyer), n.map((x) => x.seq), n.map((x) => x.position), n.map((x) => x.state), n.map((x) => x.joinedAt), n.map((x) => x.admittedAt), n.map((x) => x.passExpiresAt), n.map((x) => x.finishedAt)],
    });
  }
  if (e.positions.length > 0) {
    const { rowCount } = await q.query({
      name: 'place-entries',
      text: 'UPDATE queue_entries q SET position = p.position FROM unnest($1::uuid[], $2::int[]) AS p(id, position) WHERE q.id = p.id AND q.position IS NULL',
      values: [e.positions.map((p) => p.id), e.positions.map((p) => p.position)],
    });
    expect(rowCount, e.positions.length, 'an entry already had a position');
  }
  for (const r of e.admitRanges) {
    const { rowCount } = await q.query({
      name: 'admit-range',
      text: "UPDATE queue_entries SET state = 'admitted', admitted_at = $4, pass_expires_at = $5 WHERE event_id = $1 AND position BETWEEN $2 AND $3 AND state = 'waiting'",
      values: [r.eventId, r.from, r.to, r.at, r.passExpiresAt],
    });
    expect(rowCount, r.to - r.from + 1, `positions ${r.from}..${r.to} were not all waiting`);
  }
  for (const x of e.expiredPasses) {
    const { rowCount } = await q.query({
      name: 'expire-passes',
      text: "UPDATE queue_entries SET state = 'expired', finished_at = $2 WHERE event_id = $1 AND state = 'admitted' AND pass_expires_at <= $2",
      values: [x.eventId, x.now],
    });
    expect(rowCount, x.count, `passes of event ${x.eventId} changed under this batch`);
  }
  for (const f of e.finished) {
    const { rowCount } = await q.query({ name: 'finish-entry', text: "UPDATE queue_entries SET state = 'done', finished_at = $2 WHERE id = $1 AND state = 'admitted'", values: [f.id, f.at] });
    expect(rowCount, 1, `entry ${f.id} holds no pass`);
  }
}

export async function readEntry(q: Queryable, id: string): Promise<StoredQueueEntry | undefined> {
  const { rows } = await q.query<QueueEntryRow>({ name: 'get-entry', text: `SELECT ${QUEUE_ENTRY_COLUMNS} FROM queue_entries WHERE id = $1`, values: [id] });
  return rows[0] && toQueueEntry(rows[0]);
}

/** The line's row alone. */
export async function readLine(q: Queryable, eventId: string): Promise<QueueLine | undefined> {
  const { rows } = await q.query<QueueLineRow>({ name: 'plain-line', text: `SELECT ${QUEUE_LINE_COLUMNS} FROM queue_lines WHERE event_id = $1`, values: [eventId] });
  return rows[0] && toPlainQueueLine(rows[0]);
}

export async function readSummary(q: Queryable, eventId: string, now: string): Promise<QueueCounts | undefined> {
  const [row] = await countedLines(q, [eventId], now);
  const line = row && toQueueLine(row);
  if (!line) return undefined;
  const { rows } = await q.query<{ state: string; n: number }>({ name: 'entry-states', text: 'SELECT state, count(*)::int AS n FROM queue_entries WHERE event_id = $1 GROUP BY state', values: [eventId] });
  const n = Object.fromEntries(rows.map((r) => [r.state, r.n]));
  return { ...line, waiting: n.waiting ?? 0, done: n.done ?? 0, expired: n.expired ?? 0 };
}

export async function readRooms(q: Queryable, now: string): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>({ name: 'waiting-rooms', text: "SELECT id FROM events WHERE waiting_room AND status = 'scheduled' AND date > $1", values: [now] });
  return rows.map((r) => r.id);
}

/** Created by migration 7, once per database: every node signs and verifies with it. */
export async function readSharedKey(q: Queryable, name: string): Promise<string> {
  const { rows } = await q.query<{ value: string }>({ name: 'get-server-key', text: 'SELECT value FROM server_keys WHERE name = $1', values: [name] });
  if (!rows[0]) throw new Error(`server key ${name} is missing`);
  return rows[0].value;
}

function expect(changes: number | null, wanted: number, message: string): void {
  if (changes !== wanted) throw new Error(`${message}: the batch was rolled back`);
}
