import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashSecret } from '../../src/core/identity.js';
import { writes } from './writes.js';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteMigrations } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { tempDir } from '../helpers/tmp.js';
import { writerScript } from '../helpers/writer-script.js';
import { newEvent, storeContract } from './contract.js';

let dirs: Array<{ cleanup: () => void }> = [];
// What the server runs: writes on the writer thread, reads on this one. The contract runs once,
// here: the inline store (`new SqliteStore(path)`, which no server uses) decides with the same
// SqliteWriter the thread runs, so a second run proved nothing this one does not; what is
// particular to it (pragmas, a batch rolled back midway, upgrades) is tested below.
storeContract('sqlite (writer thread)', {
  open: async () => {
    const tmp = tempDir();
    dirs.push(tmp);
    return SqliteStore.open(join(tmp.dir, 'threaded', 'boxoffice.db'), { writerScript: await writerScript() });
  },
  reopen: async (store) => {
    const path = (store as SqliteStore).path;
    await store.close();
    return SqliteStore.open(path, { writerScript: await writerScript() });
  },
  cleanup: () => {
    for (const d of dirs) d.cleanup();
    dirs = [];
  },
});

describe('SqliteStore specifics', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('runs durable: WAL journal, synchronous=FULL, schema version recorded', async () => {
    const path = join(tmp.dir, 'pragmas.db');
    const store = new SqliteStore(path);
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(sqliteMigrations.length);
    db.close();
    const probe = new SqliteStore(path);
    // synchronous is per connection; read it through the store's own connection.
    expect((probe as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(2);
    await probe.close();
  });

  it('the writer thread decides batches sent back to back in the order sent, and those that queued up in one transaction', async () => {
    const store = await SqliteStore.open(join(tmp.dir, 'pipelined.db'));
    expect(store.pipelinedWrites).toBe(true);
    const event = newEvent({ totalTickets: 10 });
    await writes(store).createEvent(event);
    // Twenty batches posted at once, each with a clock of its own: a merged transaction decides
    // with the latest, so fewer distinct booking times than batches means batches were merged.
    const base = Date.now();
    const sent = Array.from({ length: 20 }, (_, i) => writes(store).commitBookings([{ eventId: event.id, tickets: 1 }], new Date(base + i)));
    const seen = (await Promise.all(sent)).map(([outcome]) => outcome!);
    expect(seen.map((o) => o.ok)).toEqual([...Array(10).fill(true), ...Array(10).fill(false)]);
    const times = new Set(seen.flatMap((o) => (o.ok ? [o.booking.createdAt] : [])));
    expect(times.size).toBeLessThan(10);
    expect((await store.getEvent(event.id))?.availableTickets).toBe(0);
    await store.close();
  });

  it('tells the writer thread\'s owner about commits made by another process on the same file', async () => {
    const path = join(tmp.dir, 'shared.db');
    const mine = await SqliteStore.open(path);
    let changes = 0;
    const stop = mine.watchExternalChanges(() => changes++);
    const event = newEvent({ totalTickets: 5 });
    await writes(mine).createEvent(event);
    await writes(mine).commitBookings([{ eventId: event.id, tickets: 1 }]);
    await new Promise((r) => setTimeout(r, 500));
    // Our own commits are not foreign.
    expect(changes).toBe(0);
    const other = new SqliteStore(path);
    await writes(other).commitBookings([{ eventId: event.id, tickets: 1 }]);
    await expect.poll(() => changes, { timeout: 3000 }).toBeGreaterThan(0);
    expect((await mine.getEvent(event.id))?.availableTickets).toBe(3);
    stop();
    await other.close();
    await mine.close();
  });

  it('refuses to open a database from a newer boxoffice', async () => {
    const path = join(tmp.dir, 'future.db');
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    expect(() => new SqliteStore(path)).toThrow(/newer than this boxoffice/);
  });

  it('rolls a whole batch back when a write fails midway', async () => {
    const path = join(tmp.dir, 'rollback.db');
    const store = new SqliteStore(path);
    const event = newEvent({ totalTickets: 10 });
    await writes(store).createEvent(event);
    // A trigger that fails the second booking row simulates a disk error in the middle of a batch.
    const raw = new Database(path);
    raw.exec(`CREATE TRIGGER fail_second AFTER INSERT ON bookings WHEN (SELECT count(*) FROM bookings) >= 2
              BEGIN SELECT RAISE(ABORT, 'simulated failure'); END;`);
    raw.close();
    await expect(
      writes(store).commitBookings([
        { eventId: event.id, tickets: 1 },
        { eventId: event.id, tickets: 2 },
      ]),
    ).rejects.toThrow(/simulated failure/);
    expect((await store.getEvent(event.id))?.availableTickets).toBe(10);
    expect(await store.countTickets(event.id)).toBe(0);
    await store.close();
  });

  it('the schema itself refuses negative availability (a second guard against oversell)', async () => {
    const path = join(tmp.dir, 'check.db');
    const store = new SqliteStore(path);
    const event = newEvent({ totalTickets: 1 });
    await writes(store).createEvent(event);
    await store.close();
    const raw = new Database(path);
    expect(() => raw.prepare('UPDATE events SET available_tickets = -1 WHERE id = ?').run(event.id)).toThrow(/CHECK/);
    // available + held can never exceed total, whatever a decision computed.
    expect(() => raw.prepare('UPDATE events SET held_tickets = 1 WHERE id = ?').run(event.id)).toThrow(/CHECK/);
    raw.close();
  });

  it('upgrades a database made before holds existed, keeping its bookings', async () => {
    const path = join(tmp.dir, 'v1.db');
    const raw = new Database(path);
    raw.exec(sqliteMigrations[0]!.sql);
    raw.pragma('user_version = 1');
    const id = crypto.randomUUID();
    const bookingId = crypto.randomUUID();
    const ticketId = crypto.randomUUID();
    raw.prepare("INSERT INTO events VALUES (?, 'Old show', '2027-01-01T20:00:00.000Z', 5, 4, 100)").run(id);
    raw.prepare("INSERT INTO bookings (id, event_id, tickets, created_at) VALUES (?, ?, 1, '2026-11-01T00:00:00.000Z')").run(bookingId, id);
    raw.prepare('INSERT INTO tickets VALUES (?, 1, ?)').run(ticketId, id);
    raw.close();
    const store = new SqliteStore(path);
    expect(await store.getEvent(id)).toMatchObject({ availableTickets: 4, heldTickets: 0, holdSeconds: 600 });
    expect(await store.getTicket(ticketId)).toEqual({ id: ticketId, eventId: id, bookingId, status: 'valid' });
    // An old booking has no secret: only the admin can cancel it, and cancelling works.
    expect((await store.getBooking(bookingId))?.secretHash).toBeUndefined();
    const cancelled = await writes(store).cancelBooking(bookingId, undefined, new Date());
    expect(cancelled.ok && cancelled.counts?.availableTickets).toBe(5);
    await store.close();
  });

  it('upgrades a database with clear secrets in remembered answers: they are gone from the files, old secrets still cancel', async () => {
    const path = join(tmp.dir, 'v3-secrets.db');
    const raw = new Database(path);
    raw.pragma('journal_mode = WAL');
    for (const m of sqliteMigrations.slice(0, 3)) raw.exec(m.sql);
    raw.pragma('user_version = 3');
    // As main's code wrote them: a keyed booking and a confirmed hold, each answer kept with its secret.
    const eventId = crypto.randomUUID();
    raw.prepare("INSERT INTO events (id, name, date, total_tickets, available_tickets, max_tickets_per_booking) VALUES (?, 'Old', '2027-01-01T20:00:00.000Z', 10, 7, 10)").run(eventId);
    const now = new Date().toISOString();
    const old = [0, 1].map((i) => ({ id: crypto.randomUUID(), ticket: crypto.randomUUID(), secret: randomBytes(24).toString('base64url'), seq: i + 1 }));
    const holdId = crypto.randomUUID();
    for (const b of old) {
      raw.prepare('INSERT INTO bookings (seq, id, event_id, tickets, created_at, secret_hash, buyer) VALUES (?, ?, ?, 1, ?, ?, ?)').run(b.seq, b.id, eventId, now, hashSecret(b.secret), 'buyer-a');
      raw.prepare('INSERT INTO tickets (id, booking_seq, event_id) VALUES (?, ?, ?)').run(b.ticket, b.seq, eventId);
    }
    raw.prepare("INSERT INTO buyer_tickets VALUES (?, 'buyer-a', 0, 2)").run(eventId);
    raw.prepare("INSERT INTO holds (id, event_id, tickets, status, created_at, expires_at, booking_id, buyer) VALUES (?, ?, 1, 'confirmed', ?, ?, ?, 'buyer-a')").run(holdId, eventId, now, now, old[1]!.id);
    const answer = (b: (typeof old)[number]) => JSON.stringify({ kind: 'booking', booking: { id: b.id, eventId, createdAt: now, tickets: [{ id: b.ticket, eventId, bookingId: b.id, status: 'valid' }], secret: b.secret } });
    raw.prepare("INSERT INTO idempotency_keys VALUES ('order-1', ?, ?, ?)").run(`book:${eventId}:1`, answer(old[0]!), now);
    raw.prepare('INSERT INTO idempotency_keys VALUES (?, ?, ?, ?)').run(`hold confirmation ${holdId}`, `hold confirmation ${holdId}`, answer(old[1]!), now);
    raw.close();
    const bytes = () => Buffer.concat(['', '-wal'].flatMap((suffix) => (existsSync(path + suffix) ? [readFileSync(path + suffix)] : [])));
    expect(old.every((b) => bytes().includes(b.secret))).toBe(true);

    const store = await SqliteStore.open(path, { secretKeys: [randomBytes(32)] });
    for (const b of old) expect(bytes().includes(b.secret), 'a clear secret is still on disk').toBe(false);
    // A repeated confirmation answers the booking, without a secret it can no longer know.
    const again = await writes(store).confirmHold(holdId, new Date());
    expect(again.ok && again.booking.id).toBe(old[1]!.id);
    expect(again.ok && again.booking.secret).toBeUndefined();
    // Bookings made before keep their stored hash: their old secrets still cancel.
    for (const b of old) {
      const cancelled = await writes(store).cancelBooking(b.id, undefined, new Date(), { admin: false, secret: b.secret });
      expect(cancelled.ok, JSON.stringify(cancelled)).toBe(true);
    }
    expect((await store.getEvent(eventId))?.availableTickets).toBe(9);
    await store.close();
  });
});
