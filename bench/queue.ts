/**
 * The `queue` row (issue 13): N buyers (10,000 by default), each on its own loopback address, load
 * the page (open their event stream), join the waiting room in the minute before the sale, then the
 * organiser opens the sale at once (PATCH onSaleAt = now, so the bench does not idle) and every buyer
 * follows the line the way the web page and the terminal UI do: positions from the stream's serving
 * counter, `GET …/queue/:entryId` only when the stream cannot tell, the pass, one booking with it.
 * The stock is N × 1 ticket, so the event sells out exactly when everyone has booked.
 *
 * Reports joins/s (the join phase alone), open → sold out, the spread of waits (open → the buyer
 * holds its pass), admitted bookings/s, the server's peak RSS with N streams live, and the CPU share
 * of the generator and of the server, which share the machine. Then verifies, and fails the row on
 * any violation, in the answers and in the database (one read transaction after a clean stop).
 */
import { readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buyerAddress, Limiter, LineFollower, patientCall, shouldRead, type CallTally, type EntryView, type LineUpdate } from './queue-buyers.js';
import type { BenchOptions, Row } from './scenarios.js';
import { api, startServer, type RunningServer } from './server.js';
import { percentile } from './stats.js';
import { forEachLimit } from './verify.js';

export const DEFAULT_QUEUE_BUYERS = 10_000;
/** The sale is set this far ahead at first: the room is open (joins take), the sale is not. */
const SALE_LEAD_MS = 60_000;
/** Longest the sale may take before the row gives up on it: generous, the row is there to measure a slow line too. */
const saleTimeoutMs = (buyers: number) => Math.max(180_000, buyers * 50);
/** The clients' housekeeping clock (web/waiting-room.js ticks once a second). */
const TICK_MS = 1000;

interface Buyer {
  i: number;
  from: string;
  follower: LineFollower;
  line: LineUpdate | undefined;
  entry: EntryView | undefined;
  /** Position as the entry told it (checked against the database). */
  toldPosition: number | null;
  lastReadAt: number;
  reading: boolean;
  passAt: number | undefined;
  bookedAt: number | undefined;
  /** When its stream first said sold out. */
  soldOutSeenAt: number | undefined;
  /** Booked, failed to, or told sold out while waiting: nothing more to do. */
  settled: boolean;
}

/** CPU seconds of this process and of the server, and the wall clock, at one instant. */
interface CpuMark {
  wall: number;
  self: number;
  server: number;
}

function cpuMark(serverPid: number | undefined): CpuMark {
  const usage = process.cpuUsage();
  return { wall: performance.now(), self: (usage.user + usage.system) / 1e6, server: serverPid ? processCpuSeconds(serverPid) : 0 };
}

/** utime + stime of a process (all its threads), from /proc: clock ticks of 1/100 s on Linux. */
function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Percent of one core each used between two marks. */
function cpuShare(a: CpuMark, b: CpuMark): { self: number; server: number } {
  const wall = Math.max(1e-3, (b.wall - a.wall) / 1000);
  return { self: (100 * (b.self - a.self)) / wall, server: (100 * (b.server - a.server)) / wall };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** A latency quantile of unsorted samples, as text. */
const ms = (samples: number[], p: number) => percentile(Float64Array.from(samples).sort(), p).toFixed(1);

export async function runQueue(o: BenchOptions, row: Row): Promise<Row> {
  const n = o.queueBuyers;
  const dir = join(o.workDir, 'queue');
  // N streams plus the requests in flight; the defaults (1,000 streams, 10,000 sockets) are for a
  // real server's buyers, who come through more than one process or machine.
  const args = ['--max-streams', String(n + 100), '--max-connections', String(2 * n + 1000)];
  if (o.connections > 64) args.push('--max-inflight', String(o.connections * 8));
  row.command = `node dist/cli.js serve --headless --port P --data-dir D ${args.join(' ')}; ${fmt(n)} buyers, ${o.connections} requests in flight at most`;
  const problems: string[] = [];
  const tally: CallTally = { byKind: {}, retries: 0, errors: 0 };
  let server: RunningServer | undefined;
  let eventId = '';
  let buyers: Buyer[] = [];
  let booked2xx = 0;
  let saleFinished = false;
  try {
    server = await startServer({ cliPath: o.cliPath, dataDir: dir, adminToken: o.adminToken, args, logLevel: o.logLevel, nodeArgs: o.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', join(o.cpuProfDir, 'queue')] : [] });
    const base = new URL(server.url);
    const onSaleAt = new Date(Date.now() + SALE_LEAD_MS);
    const created = await api(server.url, 'POST', '/events', {
      token: o.adminToken,
      body: { name: 'Bench on-sale', date: '2030-06-01T20:00:00.000Z', totalTickets: n, maxTicketsPerBooking: 1, waitingRoom: true, onSaleAt: onSaleAt.toISOString() },
    });
    if (created.status !== 201) throw new Error(`POST /events answered ${created.status} ${created.text.slice(0, 200)}`);
    eventId = (created.json as { id: string }).id;
    const limiter = new Limiter(o.connections);
    const parsed = new Map<string, LineUpdate | undefined>();
    const readMs: number[] = [];
    const bookMs: number[] = [];

    // The sale's reactions, wired before any stream opens.
    let t0 = 0;
    let firstPassAt: number | undefined;
    let lastBookedAt = 0;
    let probing: Promise<void> | undefined;
    let settle = () => {};
    const finished = new Promise<void>((resolve) => (settle = resolve));
    let soldOutSeen = 0;
    let settled = 0;
    /** Set when the sale timed out: the buyers stop where they are. */
    let stopped = false;
    const done = (b?: Buyer) => {
      if (b && !b.settled) {
        b.settled = true;
        settled++;
      }
      if (settled === n && soldOutSeen === n) settle();
    };
    const book = async (b: Buyer, agent: Agent) => {
      const answer = await limiter.run(() => patientCall(tally, 'book', base, b.from, 'POST', `/events/${eventId}/bookings`, { 'admission-pass': b.entry!.pass! }, '{"tickets":1}', agent), true).finally(() => agent.destroy());
      bookMs.push(answer.ms);
      if (answer.status !== 201) {
        problems.push(`buyer ${b.i} (position ${b.toldPosition}): booking with its pass answered ${answer.status} ${answer.text.slice(0, 120)}`);
      } else {
        booked2xx++;
        b.bookedAt = lastBookedAt = performance.now();
        probing ??= probePasses(base, eventId, b.entry!.pass!, n, tally, problems);
      }
      done(b);
    };
    const read = async (b: Buyer) => {
      b.reading = true;
      b.lastReadAt = performance.now();
      // The pass is read and used on one kept-alive connection; closed unless the booking follows.
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      let booking = false;
      try {
        const answer = await limiter.run(() => patientCall(tally, 'entry', base, b.from, 'GET', `/events/${eventId}/queue/${b.entry!.id}`, { 'queue-token': b.entry!.token }, undefined, agent));
        readMs.push(answer.ms);
        if (answer.status !== 200) {
          problems.push(`buyer ${b.i}: GET its entry answered ${answer.status} ${answer.text.slice(0, 120)}`);
          return;
        }
        const entry = JSON.parse(answer.text) as EntryView;
        if (b.toldPosition !== null && entry.position !== b.toldPosition) problems.push(`buyer ${b.i}: position changed from ${b.toldPosition} to ${entry.position}`);
        b.toldPosition = entry.position;
        b.entry = entry;
        if (entry.state === 'admitted' && entry.pass) {
          b.passAt = performance.now();
          firstPassAt ??= b.passAt;
          booking = true;
          void book(b, agent);
        } else if (entry.state === 'sold_out') {
          done(b);
        } else if (entry.state !== 'waiting') {
          problems.push(`buyer ${b.i}: entry ${entry.state} without a pass`);
        }
      } finally {
        b.reading = false;
        if (!booking) agent.destroy();
      }
    };
    const consider = (b: Buyer) => {
      if (t0 === 0 || stopped || !b.entry || b.reading) return;
      if (shouldRead(b.entry, b.line, b.follower.live, performance.now() - b.lastReadAt)) void read(b);
    };
    const onLine = (b: Buyer, update: LineUpdate) => {
      b.line = update;
      if (update.soldOut && b.soldOutSeenAt === undefined) {
        b.soldOutSeenAt = performance.now();
        soldOutSeen++;
        // A buyer still waiting is told sold out by its stream: nothing left to wait for.
        done(b.entry?.state === 'waiting' ? b : undefined);
      }
      consider(b);
    };

    // 1. The pages load: every buyer opens its stream.
    const startMark = cpuMark(server.pid);
    buyers = Array.from({ length: n }, (_, i) => {
      const b: Buyer = { i, from: buyerAddress(i), follower: undefined!, line: undefined, entry: undefined, toldPosition: null, lastReadAt: 0, reading: false, passAt: undefined, bookedAt: undefined, soldOutSeenAt: undefined, settled: false };
      b.follower = new LineFollower(base, b.from, eventId, parsed, (u) => onLine(b, u));
      return b;
    });
    await forEachLimit(buyers, o.connections, (b) => b.follower.open());
    const streamsMark = cpuMark(server.pid);

    // 2. Everyone joins before the sale, as fast as the server takes them.
    const joinMs = new Float64Array(n);
    let placedAtOnce = 0;
    await Promise.all(
      buyers.map((b) =>
        limiter.run(async () => {
          const answer = await patientCall(tally, 'join', base, b.from, 'POST', `/events/${eventId}/queue`, {}, '{}');
          joinMs[b.i] = answer.ms;
          if (answer.status !== 201) throw new Error(`buyer ${b.i}: join answered ${answer.status} ${answer.text.slice(0, 200)}`);
          b.entry = JSON.parse(answer.text) as EntryView;
          b.lastReadAt = performance.now();
          // Joined after onSaleAt (the joins outlasted the minute): placed at the back at once.
          if (b.entry.position !== null) placedAtOnce++;
        }),
      ),
    );
    const joinedMark = cpuMark(server.pid);

    // 3. The organiser opens the sale now, unless the joins outlasted the minute and it opened by
    // itself; the buyers take it from there.
    const lateBy = Date.now() - onSaleAt.getTime();
    if (lateBy >= 0) {
      t0 = performance.now() - lateBy;
      row.notes.push(`the joins outlasted the minute before the sale: it opened by itself ${sec(lateBy)} before the last join, ${fmt(placedAtOnce)} buyers joined after it (placed at the back in arrival order)`);
    } else {
      t0 = performance.now();
      const opened = await api(server.url, 'PATCH', `/events/${eventId}`, { token: o.adminToken, body: { onSaleAt: new Date().toISOString() } });
      if (opened.status !== 200) throw new Error(`PATCH onSaleAt answered ${opened.status} ${opened.text.slice(0, 200)}`);
    }
    buyers.forEach(consider);
    const ticker = setInterval(() => buyers.forEach(consider), TICK_MS);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), saleTimeoutMs(n))));
    const timeout = await Promise.race([finished.then(() => false), timedOut]);
    clearInterval(ticker);
    clearTimeout(timer);
    const saleMark = cpuMark(server.pid);
    saleFinished = !timeout;
    await probing;
    if (timeout) {
      // The buyers stop where they are (their requests in flight still land); what is verified
      // below then reports how far the line got.
      stopped = true;
      for (const b of buyers) b.follower.close();
      problems.push(`the sale did not end within ${saleTimeoutMs(n) / 1000} s: ${fmt(booked2xx)} booked, ${fmt(soldOutSeen)} streams told sold out`);
    } else {
      await lateJoinProbe(base, eventId, n, tally, problems);
      await tellTheRest(base, eventId, buyers, tally, problems);
    }
    row.rss = server.peakRss();
    row.peakRssBytes = row.rss.reduce((sum, p) => sum + p.hwmBytes, 0);

    // The numbers.
    const joinSorted = joinMs.slice().sort();
    const joinElapsed = joinedMark.wall - streamsMark.wall;
    const waits = Float64Array.from(buyers.filter((b) => b.passAt !== undefined).map((b) => b.passAt! - t0)).sort();
    const openToSoldOut = lastBookedAt - t0;
    const bookingSpan = firstPassAt === undefined ? 0 : lastBookedAt - firstPassAt;
    const lastTold = Math.max(0, ...buyers.map((b) => b.soldOutSeenAt ?? 0));
    const joinCpu = cpuShare(streamsMark, joinedMark);
    const saleCpu = cpuShare(joinedMark, saleMark);
    const drops = buyers.reduce((sum, b) => sum + b.follower.drops, 0);
    let sum = 0;
    for (const v of joinSorted) sum += v;
    const statuses: Record<string, number> = {};
    for (const counts of Object.values(tally.byKind)) for (const [status, k] of Object.entries(counts)) statuses[status] = (statuses[status] ?? 0) + k;
    Object.assign(row, {
      rps: n / (joinElapsed / 1000),
      responses: n,
      sent: n,
      elapsedMs: joinElapsed,
      p50: percentile(joinSorted, 0.5),
      p99: percentile(joinSorted, 0.99),
      p999: percentile(joinSorted, 0.999),
      mean: sum / n,
      max: joinSorted[n - 1] ?? 0,
      statuses,
      statusesByKind: tally.byKind,
      errors: tally.errors,
    });
    Object.assign(row.extra, {
      buyers: n,
      joinsPerSecond: row.rps,
      streamsOpenMs: streamsMark.wall - startMark.wall,
      openToSoldOutMs: openToSoldOut,
      waitP50Ms: percentile(waits, 0.5),
      waitP90Ms: percentile(waits, 0.9),
      waitP99Ms: percentile(waits, 0.99),
      waitMaxMs: waits[waits.length - 1] ?? 0,
      admittedBookingsPerSecond: bookingSpan > 0 ? booked2xx / (bookingSpan / 1000) : 0,
      soldOutNewsMs: lastTold > 0 ? lastTold - lastBookedAt : -1,
      benchCpuJoinPct: joinCpu.self,
      serverCpuJoinPct: joinCpu.server,
      benchCpuSalePct: saleCpu.self,
      serverCpuSalePct: saleCpu.server,
      streamDrops: drops,
      retries: tally.retries,
    });
    row.notes.push(
      `${fmt(n)} buyers, each its own address and stream (opened in ${sec(streamsMark.wall - startMark.wall)}); req/s and latency = the joins`,
      `${saleFinished ? `open → sold out ${sec(openToSoldOut)}` : `NOT sold out after ${sec(saleMark.wall - t0)}: ${fmt(booked2xx)} booked`}; waits (open → pass) of the ${fmt(waits.length)} admitted: p50 ${sec(percentile(waits, 0.5))}, p90 ${sec(percentile(waits, 0.9))}, p99 ${sec(percentile(waits, 0.99))}, max ${sec(waits[waits.length - 1] ?? 0)}`,
      `during the sale: ${fmt(readMs.length)} entry reads (p50 ${ms(readMs, 0.5)}, p99 ${ms(readMs, 0.99)} ms), ${fmt(bookMs.length)} bookings (p50 ${ms(bookMs, 0.5)}, p99 ${ms(bookMs, 0.99)} ms)`,
      `admitted bookings ${fmt(row.extra.admittedBookingsPerSecond as number)}/s; every stream told sold out ${lastTold > 0 ? `${sec(lastTold - lastBookedAt)} after the last booking` : 'NEVER'}`,
      `CPU, % of one core (2 cores): joins — bench ${joinCpu.self.toFixed(0)} %, server ${joinCpu.server.toFixed(0)} %; sale — bench ${saleCpu.self.toFixed(0)} %, server ${saleCpu.server.toFixed(0)} %`,
    );
    if (tally.retries > 0 || tally.errors > 0) row.notes.push(`${fmt(tally.retries)} retries (429/503/socket), ${fmt(tally.errors)} socket errors`);
    if (drops > 0) row.notes.push(`${fmt(drops)} streams dropped and reopened`);
  } catch (err) {
    row.status = 'error';
    row.notes.push(`error: ${(err as Error).message.split('\n')[0]}`);
    process.stderr.write(`[queue] ${(err as Error).stack ?? String(err)}\n`);
  } finally {
    for (const b of buyers) b.follower.close();
    await server?.stop();
  }
  if (row.status !== 'error') {
    const sold = verifyDatabase(join(dir, 'boxoffice.db'), eventId, buyers, booked2xx, problems);
    const ok = problems.length === 0 && saleFinished;
    row.verify = { ok, problems, checkedEvents: 1, answered2xx: booked2xx, ticketsStored: sold, available: 0, total: n };
    if (!ok) {
      row.status = 'failed';
      row.notes.push(`WAITING ROOM VIOLATED: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}`);
    } else {
      row.notes.push(`verified: each buyer admitted once in position order, every booking with a pass, ${fmt(n)} sold = 2xx = total, every stream told sold out`);
    }
  }
  if (!o.keep) rmSync(dir, { recursive: true, force: true });
  return row;
}

/** During the sale: a booking without a pass, and a used pass again, must both be refused (403). */
async function probePasses(base: URL, eventId: string, usedPass: string, n: number, tally: CallTally, problems: string[]): Promise<void> {
  const from = buyerAddress(n);
  const path = `/events/${eventId}/bookings`;
  const none = await patientCall(tally, 'probe', base, from, 'POST', path, {}, '{"tickets":1}');
  if (none.status !== 403 || !none.text.includes('queue_required')) problems.push(`a booking without a pass answered ${none.status} ${none.text.slice(0, 120)}`);
  const again = await patientCall(tally, 'probe', base, from, 'POST', path, { 'admission-pass': usedPass }, '{"tickets":1}');
  if (again.status !== 403 || !again.text.includes('admission_expired')) problems.push(`a used pass, again, answered ${again.status} ${again.text.slice(0, 120)}`);
}

/** After the sale: a buyer arriving late is told sold out when joining. */
async function lateJoinProbe(base: URL, eventId: string, n: number, tally: CallTally, problems: string[]): Promise<void> {
  const late = await patientCall(tally, 'probe', base, buyerAddress(n + 1), 'POST', `/events/${eventId}/queue`, {}, '{}');
  if (late.status !== 409 || !late.text.includes('sold_out')) problems.push(`a join after the sale answered ${late.status} ${late.text.slice(0, 120)}`);
}

/** Every buyer who did not book must have been told sold out, by its stream and by its entry. */
async function tellTheRest(base: URL, eventId: string, buyers: Buyer[], tally: CallTally, problems: string[]): Promise<void> {
  const unheard = buyers.filter((b) => b.soldOutSeenAt === undefined).length;
  if (unheard > 0) problems.push(`${unheard} streams were never told sold out`);
  const left = buyers.filter((b) => b.bookedAt === undefined && b.entry);
  await forEachLimit(left, 16, async (b) => {
    const answer = await patientCall(tally, 'entry', base, b.from, 'GET', `/events/${eventId}/queue/${b.entry!.id}`, { 'queue-token': b.entry!.token });
    if (answer.status !== 200 || (JSON.parse(answer.text) as EntryView).state !== 'sold_out') problems.push(`buyer ${b.i} did not book and its entry says ${answer.status} ${answer.text.slice(0, 80)}`);
  });
}

/**
 * The database after a clean stop, read in one transaction (a consistent snapshot): the counts add
 * up, every entry was admitted once and in position order, and each booking took a pass.
 */
function verifyDatabase(file: string, eventId: string, buyers: Buyer[], booked2xx: number, problems: string[]): number {
  const n = buyers.length;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const facts = db.transaction(() => ({
      event: db.prepare('SELECT total_tickets AS total, available_tickets AS available, held_tickets AS held FROM events WHERE id = ?').get(eventId) as { total: number; available: number; held: number },
      sold: (db.prepare('SELECT count(*) AS n FROM tickets WHERE event_id = ?').get(eventId) as { n: number }).n,
      bookings: db.prepare('SELECT count(*) AS n, coalesce(sum(tickets), 0) AS t FROM bookings WHERE event_id = ?').get(eventId) as { n: number; t: number },
      line: db.prepare('SELECT serving, positioned, joined FROM queue_lines WHERE event_id = ?').get(eventId) as { serving: number; positioned: number; joined: number } | undefined,
      entries: db.prepare('SELECT id, buyer, position, state, admitted_at AS admittedAt FROM queue_entries WHERE event_id = ? ORDER BY position').all(eventId) as Array<{ id: string; buyer: string; position: number | null; state: string; admittedAt: string | null }>,
    }))();
    const { event, sold, bookings, line, entries } = facts;
    if (event.available + event.held + sold !== event.total) problems.push(`available ${event.available} + held ${event.held} + sold ${sold} != total ${event.total}`);
    if (sold !== n || booked2xx !== n || event.total !== n) problems.push(`sold ${sold}, 2xx bookings ${booked2xx}, total ${event.total}: expected ${n} each`);
    if (bookings.t !== sold) problems.push(`bookings add up to ${bookings.t} tickets, ${sold} ticket rows`);
    if (entries.length !== n || new Set(entries.map((e) => e.buyer)).size !== n) problems.push(`${entries.length} entries for ${new Set(entries.map((e) => e.buyer)).size} buyers, expected ${n}`);
    if (line?.serving !== n) problems.push(`the line's serving counter is ${line?.serving}, expected ${n}`);
    // Admitted once each: every entry done (its pass used by exactly one booking: bookings == entries).
    const notDone = entries.filter((e) => e.state !== 'done' || e.admittedAt === null).length;
    if (notDone > 0) problems.push(`${notDone} entries not admitted and done`);
    if (bookings.n !== entries.filter((e) => e.state === 'done').length) problems.push(`${bookings.n} bookings for ${entries.filter((e) => e.state === 'done').length} used passes: a booking without a pass, or a pass used twice`);
    // Position order: positions 1…n, and the admission times never go back as the position grows.
    let outOfOrder = 0;
    entries.forEach((e, k) => {
      if (e.position !== k + 1) outOfOrder++;
      else if (k > 0 && e.admittedAt !== null && entries[k - 1]!.admittedAt !== null && e.admittedAt < entries[k - 1]!.admittedAt!) outOfOrder++;
    });
    if (outOfOrder > 0) problems.push(`${outOfOrder} entries admitted out of position order (or positions not 1…${n})`);
    const byId = new Map(entries.map((e) => [e.id, e.position]));
    const mismatched = buyers.filter((b) => !b.entry || byId.get(b.entry.id) !== b.toldPosition).length;
    if (mismatched > 0) problems.push(`${mismatched} buyers were told a position other than the database's`);
    return sold;
  } finally {
    db.close();
  }
}
