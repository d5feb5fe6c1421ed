/**
 * The WAL stays small (issue 16 item 3): the SQLite writer checkpoints and truncates it once it
 * passes a size, without waiting for a reader that holds an old snapshot, and truncates it as soon
 * as that reader lets go.
 */
import { EVENT_LIFECYCLE_DEFAULTS } from '../../src/core/types.js';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Command } from '../../src/core/commands.js';
import { openDatabase, SqliteWriter } from '../../src/store/sqlite/sqlite-writer.js';
import { tempDir } from '../helpers/tmp.js';

const MiB = 1024 * 1024;
const LIMIT = 1 * MiB;
const temps: Array<{ cleanup: () => void }> = [];
const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
  for (const t of temps.splice(0)) t.cleanup();
});

function setup(): { writer: SqliteWriter; path: string; eventId: string } {
  const tmp = tempDir('boxoffice-wal-');
  temps.push(tmp);
  const path = join(tmp.dir, 'boxoffice.db');
  const db = openDatabase(path);
  open.push(db);
  const writer = new SqliteWriter(db, undefined, { walTruncateBytes: LIMIT });
  const eventId = randomUUID();
  const event = { id: eventId, name: 'WAL', date: '2030-06-01T19:30:00.000Z', totalTickets: 10_000_000, availableTickets: 10_000_000, heldTickets: 0, maxTicketsPerBooking: 100, holdSeconds: 600, maxHeldPerBuyer: 100, maxTicketsPerBuyer: 10_000_000, offlineCheckIn: false, checkedInTickets: 0, ...EVENT_LIFECYCLE_DEFAULTS };
  writer.write({ now: new Date().toISOString(), commands: [{ type: 'createEvent', event }] });
  return { writer, path, eventId };
}

/** One batch of 20 bookings of 100 tickets: about a few hundred KiB of WAL. */
function batch(eventId: string): { now: string; commands: Command[] } {
  return { now: new Date().toISOString(), commands: Array.from({ length: 20 }, () => ({ type: 'book' as const, eventId, tickets: 100 })) };
}

const walSize = (path: string) => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;

describe('the SQLite writer keeps the WAL small', () => {
  it('a WAL past the size is checkpointed and truncated by the writer: it never holds much more than one batch past it', () => {
    const { writer, path, eventId } = setup();
    let largest = 0;
    let batchGrowth = 0;
    for (let i = 0; i < 60; i++) {
      const before = walSize(path);
      writer.write(batch(eventId));
      const after = walSize(path);
      batchGrowth = Math.max(batchGrowth, after - before);
      largest = Math.max(largest, after);
    }
    // 60 batches wrote far more than the limit (SQLite alone would let the WAL grow to ~40 MiB).
    expect(batchGrowth * 60).toBeGreaterThan(8 * LIMIT);
    expect(largest).toBeLessThanOrEqual(LIMIT + batchGrowth);
  });

  it('a reader holding an old snapshot does not stall the writer; once it lets go, the next write truncates the WAL', () => {
    const { writer, path, eventId } = setup();
    const reader = new Database(path, { readonly: true });
    open.push(reader);
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) FROM events').get();
    for (let i = 0; i < 20; i++) writer.write(batch(eventId));
    // The snapshot pins the frames written since: the WAL could not be cut back.
    expect(walSize(path)).toBeGreaterThan(LIMIT);
    reader.prepare('COMMIT').run();
    writer.write(batch(eventId));
    expect(walSize(path)).toBe(0);
  });
});
