/**
 * Growth an attacker controls (issue 16 item 3): what one address can make the server store. Shared by
 * test/e2e/growth.test.ts and scripts/growth-probe.ts; nothing here imports vitest.
 *
 * - `keyedFlood`: every request a booking of a sold-out event under a fresh Idempotency-Key, so each
 *   answer is a `409 not_enough_tickets` the server may remember under its key.
 * - `churn`: book the most one booking may take, cancel it with its secret, again; or hold and release.
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { adminHeaders } from './booking-load.js';

export interface Tally {
  requests: number;
  byStatus: Record<string, number>;
}

function count(tally: Tally, status: number | string): void {
  tally.requests++;
  tally.byStatus[String(status)] = (tally.byStatus[String(status)] ?? 0) + 1;
}

/** Creates an event and returns its id. */
export async function makeEvent(url: string, body: Record<string, unknown>): Promise<string> {
  const pool = new Pool(url, { connections: 1 });
  try {
    const res = await pool.request({ method: 'POST', path: '/events', headers: adminHeaders(), body: JSON.stringify({ name: 'growth', date: '2027-06-01T19:30:00Z', ...body }) });
    const json = (await res.body.json()) as { id?: string };
    if (res.statusCode !== 201 || !json.id) throw new Error(`create event: ${res.statusCode} ${JSON.stringify(json)}`);
    return json.id;
  } finally {
    await pool.close();
  }
}

/** A sold-out event (one ticket, booked): every later booking is refused 409. */
export async function soldOutEvent(url: string): Promise<string> {
  const id = await makeEvent(url, { totalTickets: 1, maxTicketsPerBooking: 1 });
  const pool = new Pool(url, { connections: 1 });
  try {
    // The first booking may meet the buyer rate of an earlier step: retry until it is taken.
    for (;;) {
      const res = await pool.request({ method: 'POST', path: `/events/${id}/bookings`, headers: { 'content-type': 'application/json' }, body: '{"tickets":1}' });
      await res.body.dump();
      if (res.statusCode === 201) return id;
      if (res.statusCode !== 429) throw new Error(`sell out: ${res.statusCode}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await pool.close();
  }
}

/**
 * How much load: for a time (the probe script, which measures what a minute of it does) or a fixed
 * number of requests (the tests, which assert what every one of them must do however slow the machine).
 */
export type Amount = { ms: number } | { requests: number };

/** Runs `worker` on `concurrency` loops until the amount is spent. */
async function during(amount: Amount, concurrency: number, worker: () => Promise<void>): Promise<void> {
  const until = 'ms' in amount ? Date.now() + amount.ms : Infinity;
  let left = 'requests' in amount ? amount.requests : Infinity;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until && left-- > 0) await worker();
    }),
  );
}

/** Keyed bookings of a sold-out event, from one address, `concurrency` at a time. */
export async function keyedFlood(url: string, eventId: string, amount: Amount, concurrency = 64): Promise<Tally> {
  const tally: Tally = { requests: 0, byStatus: {} };
  const pool = new Pool(url, { connections: concurrency });
  let n = 0;
  const run = `${process.pid}-${Date.now()}`;
  try {
    await during(amount, concurrency, async () => {
      try {
        const res = await pool.request({
          method: 'POST',
          path: `/events/${eventId}/bookings`,
          headers: { 'content-type': 'application/json', 'idempotency-key': `flood-${run}-${n++}-abcdefghijklmnop` },
          body: '{"tickets":1}',
        });
        await res.body.dump();
        count(tally, res.statusCode);
      } catch (err) {
        count(tally, (err as { code?: string }).code ?? 'error');
      }
    });
  } finally {
    await pool.close();
  }
  return tally;
}

/**
 * Book `tickets` then cancel the booking with its secret, again and again (`requests` counts the
 * bookings, not the cancels); with `holds: true`, hold then release instead. Counts every request's status.
 */
export async function churn(url: string, eventId: string, amount: Amount, options: { tickets: number; holds?: boolean; concurrency?: number }): Promise<Tally & { cycles: number }> {
  const concurrency = options.concurrency ?? 16;
  const tally = { requests: 0, byStatus: {} as Record<string, number>, cycles: 0 };
  const pool = new Pool(url, { connections: concurrency });
  const kind = options.holds ? 'holds' : 'bookings';
  try {
    await during(amount, concurrency, async () => {
      try {
        const res = await pool.request({ method: 'POST', path: `/events/${eventId}/${kind}`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickets: options.tickets }) });
        const body = (await res.body.json()) as { id?: string; secret?: string };
        count(tally, res.statusCode);
        if (res.statusCode !== 201 || !body.id) return;
        // A patient attacker: an undo refused by the request rate is sent again until it is taken.
        for (;;) {
          const undo = options.holds
            ? await pool.request({ method: 'DELETE', path: `/holds/${body.id}` })
            : await pool.request({ method: 'DELETE', path: `/bookings/${body.id}`, headers: { authorization: `Bearer ${body.secret}` } });
          await undo.body.dump();
          count(tally, `undo ${undo.statusCode}`);
          if (undo.statusCode === 200) tally.cycles++;
          if (undo.statusCode !== 429) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      } catch (err) {
        count(tally, (err as { code?: string }).code ?? 'error');
      }
    });
  } finally {
    await pool.close();
  }
  return tally;
}

export interface Sizes {
  db: number;
  wal: number;
  /** Every file under logs/ (not the symlinks). */
  logs: number;
  logFiles: Array<{ name: string; size: number; mode: number }>;
}

const sizeOf = (file: string) => statSync(file, { throwIfNoEntry: false })?.size ?? 0;

/** What the data dir holds now: database, WAL and every log file. */
export function sizes(dataDir: string): Sizes {
  const logDir = join(dataDir, 'logs');
  // Not the `<name>.log` symlinks: they name the live numbered file, counted once.
  const logFiles = readdirSync(logDir)
    .filter((name) => !lstatSync(join(logDir, name)).isSymbolicLink())
    .sort()
    .map((name) => {
      const stats = statSync(join(logDir, name));
      return { name, size: stats.size, mode: stats.mode & 0o777 };
    });
  return {
    db: sizeOf(join(dataDir, 'boxoffice.db')),
    wal: sizeOf(join(dataDir, 'boxoffice.db-wal')),
    logs: logFiles.reduce((sum, f) => sum + f.size, 0),
    logFiles,
  };
}

export function growth(before: Sizes, after: Sizes): { db: number; wal: number; logs: number } {
  return { db: after.db - before.db, wal: after.wal - before.wal, logs: after.logs - before.logs };
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
