/**
 * The `checkin` row (issue 14): 8 doors, each with its own token and its own keep-alive
 * connections, race to scan the same 20,000 sold tickets, every door every ticket in its own order
 * (160,000 scans: 20,000 admissions and 140,000 × 409). Reports scans/s and latency over the whole
 * race, then verifies in the database that each ticket was admitted exactly once and that the
 * answers agree (one 200 per ticket).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Pool } from 'undici';
import type { BenchOptions, Row } from './scenarios.js';
import { api, startServer, type RunningServer } from './server.js';
import { percentile } from './stats.js';
import { forEachLimit } from './verify.js';

export const CHECKIN_TICKETS = 20_000;
export const CHECKIN_DOORS = 8;
const PER_BOOKING = 100;

/** Deterministic per-door orders, so runs are comparable. */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1_103_515_245) + 12_345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export async function runCheckin(o: BenchOptions, row: Row): Promise<Row> {
  const dir = join(o.workDir, 'checkin');
  const perDoor = Math.max(1, Math.floor(o.connections / CHECKIN_DOORS));
  const args = o.connections > 64 ? ['--max-inflight', String(o.connections * 8)] : [];
  row.command = `node dist/cli.js serve --headless --port P --data-dir D ${args.join(' ')}; ${CHECKIN_DOORS} doors × ${perDoor} connections`;
  row.connections = perDoor * CHECKIN_DOORS;
  let server: RunningServer | undefined;
  let eventId = '';
  const admittedIds: string[] = [];
  const problems: string[] = [];
  try {
    server = await startServer({ cliPath: o.cliPath, dataDir: dir, adminToken: o.adminToken, args, logLevel: o.logLevel, nodeArgs: o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(o.cpuProfDir, 'checkin')] : [] });
    const base = server.url;
    const created = await api(base, 'POST', '/events', { token: o.adminToken, body: { name: 'Bench door night', date: '2030-06-01T20:00:00.000Z', totalTickets: CHECKIN_TICKETS, maxTicketsPerBooking: PER_BOOKING } });
    if (created.status !== 201) throw new Error(`POST /events answered ${created.status}`);
    eventId = (created.json as { id: string }).id;
    const codes: Array<{ id: string; code: string }> = [];
    await forEachLimit(Array.from({ length: CHECKIN_TICKETS / PER_BOOKING }), 8, async () => {
      const res = await api(base, 'POST', `/events/${eventId}/bookings`, { body: { tickets: PER_BOOKING } });
      if (res.status !== 201) throw new Error(`booking answered ${res.status} ${res.text.slice(0, 200)}`);
      for (const t of (res.json as { tickets: Array<{ id: string; code: string }> }).tickets) codes.push({ id: t.id, code: t.code });
    });
    const doors: string[] = [];
    for (let d = 0; d < CHECKIN_DOORS; d++) {
      const res = await api(base, 'POST', `/events/${eventId}/doors`, { token: o.adminToken, body: { name: `Door ${d + 1}` } });
      if (res.status !== 201) throw new Error(`POST doors answered ${res.status}`);
      doors.push((res.json as { token: string }).token);
    }

    const latencies = new Float64Array(CHECKIN_TICKETS * CHECKIN_DOORS);
    let count = 0;
    let bytes = 0;
    const statuses: Record<string, number> = {};
    let errors = 0;
    const started = performance.now();
    await Promise.all(
      doors.map(async (token, d) => {
        const pool = new Pool(base, { connections: perDoor, pipelining: 1 });
        const order = shuffled(codes, d + 1);
        let next = 0;
        const worker = async () => {
          for (let t = order[next++]; t; t = order[next++]) {
            const body = JSON.stringify({ code: t.code, nonce: `${d}-${t.id}` });
            const sent = performance.now();
            try {
              const res = await pool.request({ method: 'POST', path: `/events/${eventId}/checkins`, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
              const text = await res.body.text();
              latencies[count++] = performance.now() - sent;
              bytes += text.length;
              statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
              if (res.statusCode === 200) admittedIds.push(t.id);
            } catch {
              errors++;
            }
          }
        };
        await Promise.all(Array.from({ length: perDoor }, worker));
        await pool.close();
      }),
    );
    const elapsedMs = performance.now() - started;
    const sorted = latencies.subarray(0, count).sort();
    let sum = 0;
    for (const v of sorted) sum += v;
    Object.assign(row, {
      rps: count / (elapsedMs / 1000),
      responses: count,
      sent: count + errors,
      elapsedMs,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      mean: count ? sum / count : 0,
      max: sorted[sorted.length - 1] ?? 0,
      statuses,
      statusesByKind: { scan: statuses },
      errors,
    });
    row.extra.bytesPerResponse = Math.round(bytes / Math.max(count, 1));
    row.rss = server.peakRss();
    row.peakRssBytes = row.rss.reduce((n, p) => n + p.hwmBytes, 0);
    row.notes.push(`${CHECKIN_DOORS} doors × ${CHECKIN_TICKETS.toLocaleString('en-US')} tickets, every door every ticket (no warm-up; the whole race is measured)`);
    if (errors > 0) row.notes.push(`${errors} socket errors`);
  } catch (err) {
    row.status = 'error';
    row.notes.push(`error: ${(err as Error).message.split('\n')[0]}`);
    process.stderr.write(`[checkin] ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    await server?.stop();
  }
  if (row.status !== 'error') {
    // The database after a clean stop: one admission per ticket, the event's count agrees, and
    // exactly the tickets the doors were told "admitted".
    const db = new Database(join(dir, 'boxoffice.db'), { readonly: true });
    try {
      const stored = db.prepare('SELECT count(*) AS n, count(DISTINCT ticket_id) AS d FROM checkins WHERE event_id = ?').get(eventId) as { n: number; d: number };
      const counted = (db.prepare('SELECT checked_in_tickets AS n FROM events WHERE id = ?').get(eventId) as { n: number }).n;
      const unique = new Set(admittedIds).size;
      if (stored.n !== CHECKIN_TICKETS || stored.d !== CHECKIN_TICKETS) problems.push(`${stored.n} admissions stored for ${stored.d} tickets, expected ${CHECKIN_TICKETS} each`);
      if (counted !== CHECKIN_TICKETS) problems.push(`checked_in_tickets is ${counted}`);
      if (admittedIds.length !== CHECKIN_TICKETS || unique !== CHECKIN_TICKETS) problems.push(`${admittedIds.length} answers admitted (${unique} tickets), expected ${CHECKIN_TICKETS}`);
      row.verify = { ok: problems.length === 0, problems, checkedEvents: 1, answered2xx: admittedIds.length, ticketsStored: stored.n, available: 0, total: CHECKIN_TICKETS };
      if (problems.length > 0) {
        row.status = 'failed';
        row.notes.push(`EXACTLY-ONCE VIOLATED: ${problems.join('; ')}`);
      } else {
        row.notes.push(`verified: ${CHECKIN_TICKETS.toLocaleString('en-US')} tickets admitted exactly once (database and answers)`);
      }
    } finally {
      db.close();
    }
  }
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
  return row;
}
