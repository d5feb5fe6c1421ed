/**
 * Kill/restart rounds, shared by test/e2e/crash.test.ts (a few rounds) and `npm run soak` (many):
 * the built server runs on a data dir (SQLite) or on a PostgreSQL schema, ≥ 32 connections book
 * tickets of several events, the server is SIGKILLed at a seeded random moment, restarted on the
 * same storage, and `verifyAfterRestart` checks that nothing acknowledged was lost, nothing was
 * oversold and no booking was half-applied.
 *
 * No vitest here: violations are collected as sentences, so the soak can count them and go on.
 */
import { startServerProcess, type ExitInfo, type ServerProcess } from '../helpers/server-process.js';
import {
  createEvent,
  prng,
  runBookingLoad,
  summarize,
  verifyAfterRestart,
  type Acknowledged,
  type EventJson,
  type StorageProbe,
} from './booking-load.js';

export interface CrashRoundsOptions {
  rounds: number;
  seed: number;
  /** Data dir of the server (the SQLite file, logs); kept across restarts. */
  dataDir: string;
  /** Serve flags after `--data-dir`, e.g. `['--db', url, '--pg-schema', schema]` for PostgreSQL. */
  serverArgs?: readonly string[];
  /** Reads what the storage holds (sqliteProbe / postgresProbe). */
  probe: StorageProbe;
  /** Keep-alive connections of the load (default 32). */
  connections?: number;
  /** Events booked at once (default 3). */
  events?: number;
  /** Tickets of each event (default 3,000). */
  ticketsPerEvent?: number;
  /** An event with less than this share of its tickets left is replaced by a new one before a round (default 0.25). */
  replaceBelow?: number;
  /** The kill comes a seeded random time after the load starts, in this range (default 150–1,000 ms). */
  killAfterMs?: readonly [number, number];
  /**
   * Read back every acknowledgement over HTTP after every restart (default). When false, only the
   * last round's and a random sample of `sampleOlder` earlier ones (the storage check still covers all).
   */
  lookUpAll?: boolean;
  sampleOlder?: number;
  /** One line per round. */
  log?: (line: string) => void;
}

export interface RoundResult {
  round: number;
  killAfterMs: number;
  /** Requests sent and not yet answered when SIGKILL was sent. */
  inFlightAtKill: number;
  exit: ExitInfo;
  requests: number;
  statuses: Record<string, number>;
  /** Connections cut by the kill (a request without an answer). */
  cutOff: number;
  acknowledgedTickets: number;
  lookups: number;
  violations: string[];
}

export interface CrashRoundsResult {
  crashes: number;
  acknowledgedTickets: number;
  /** Acknowledged bookings (REST and original API). */
  acknowledgedBookings: number;
  storedTickets: number;
  lost: number;
  oversold: number;
  lookups: number;
  violations: string[];
  rounds: RoundResult[];
  events: EventJson[];
  /** How the last server stopped on SIGTERM after the last round. */
  finalExit: ExitInfo | undefined;
}

/** Runs the rounds; throws only when the server cannot be (re)started, otherwise reports violations. */
export async function runCrashRounds(options: CrashRoundsOptions): Promise<CrashRoundsResult> {
  const connections = options.connections ?? 32;
  const eventCount = options.events ?? 3;
  const ticketsPerEvent = options.ticketsPerEvent ?? 3_000;
  const replaceBelow = options.replaceBelow ?? 0.25;
  const [killMin, killMax] = options.killAfterMs ?? [150, 1_000];
  const random = prng(options.seed);
  const start = () => startServerProcess({ dataDir: options.dataDir, args: options.serverArgs ?? [], readyTimeoutMs: 30_000 });

  const result: CrashRoundsResult = {
    crashes: 0,
    acknowledgedTickets: 0,
    acknowledgedBookings: 0,
    storedTickets: 0,
    lost: 0,
    oversold: 0,
    lookups: 0,
    violations: [],
    rounds: [],
    events: [],
    finalExit: undefined,
  };
  const acknowledged: Acknowledged[] = [];
  /** The events being booked now, with what was left after the last restart. */
  let active: Array<{ id: string; total: number; available: number }> = [];
  let server: ServerProcess = await start();
  try {
    for (let round = 1; round <= options.rounds; round++) {
      // Fresh events where the old ones ran low, so every round sells (and sold-out refusals stay rare).
      const keep = active.filter((e) => e.available >= e.total * replaceBelow);
      while (keep.length < eventCount) {
        const event = await createEvent(server.url, ticketsPerEvent, undefined, `crash round ${round} #${result.events.length + 1}`);
        result.events.push(event);
        keep.push({ id: event.id, total: event.totalTickets, available: event.availableTickets });
      }
      active = keep;

      const killAfterMs = Math.round(killMin + random() * (killMax - killMin));
      const t0 = Date.now();
      const victim = server;
      const exit = victim.waitForExit();
      const report = await runBookingLoad({
        url: victim.url,
        eventIds: active.map((e) => e.id),
        connections,
        seed: options.seed * 1_009 + round,
        triggerAfterMs: killAfterMs,
        trigger: () => victim.kill('SIGKILL'),
        until: exit,
        maxDurationMs: killAfterMs + 30_000,
      });
      const exitInfo = await exit;
      result.crashes++;

      const violations: string[] = [...report.malformed];
      if (exitInfo.signal !== 'SIGKILL') violations.push(`the server exited on its own (code ${exitInfo.code}, signal ${exitInfo.signal}): ${victim.stderr().slice(-2_000)}`);
      // Until the kill, every answer is a booking or (for a sold-out event) a 409; no request fails.
      const unexpected = report.attempts.filter((a) => {
        if (a.error !== undefined) return a.errorBeforeTrigger;
        if (a.status === 200 || a.status === 201) return false;
        return !(a.status === 409 && (a.body as { error?: string } | undefined)?.error === 'not_enough_tickets');
      });
      if (unexpected.length > 0) {
        violations.push(
          `unexpected answers before the kill: ${unexpected
            .slice(0, 5)
            .map((a) => `${a.api} → ${a.status ?? a.error} ${JSON.stringify(a.body ?? '').slice(0, 200)}`)
            .join('; ')}${unexpected.length > 5 ? ` … (${unexpected.length})` : ''}`,
        );
      }
      const previous = acknowledged.length;
      acknowledged.push(...report.acknowledged);

      const t1 = Date.now();
      server = await start();
      const t2 = Date.now();
      const older = acknowledged.slice(0, previous);
      const sample =
        options.lookUpAll === false
          ? [...acknowledged.slice(previous), ...Array.from({ length: Math.min(options.sampleOlder ?? 200, older.length) }, () => older[Math.floor(random() * older.length)]!)]
          : undefined;
      const verification = await verifyAfterRestart({
        url: server.url,
        probe: options.probe,
        events: result.events,
        acknowledged,
        lookUp: sample,
      });
      violations.push(...verification.violations);
      const t3 = Date.now();
      for (const e of active) e.available = verification.facts.events.get(e.id)?.available ?? 0;

      const ackedThisRound = report.acknowledged.reduce((n, a) => n + a.ticketIds.length, 0);
      const roundResult: RoundResult = {
        round,
        killAfterMs,
        inFlightAtKill: report.inFlightAtTrigger ?? 0,
        exit: exitInfo,
        requests: report.attempts.length,
        statuses: summarize(report),
        cutOff: report.attempts.filter((a) => a.error !== undefined).length,
        acknowledgedTickets: ackedThisRound,
        lookups: verification.lookups,
        violations,
      };
      result.rounds.push(roundResult);
      result.acknowledgedTickets = verification.acknowledgedTickets;
      result.acknowledgedBookings = acknowledged.length;
      result.storedTickets = verification.storedTickets;
      // Lost and oversold are states of the storage: the latest check counts every acknowledgement so far.
      result.lost = Math.max(result.lost, verification.lost);
      result.oversold = Math.max(result.oversold, verification.oversold);
      result.lookups += verification.lookups;
      result.violations.push(...violations.map((v) => `round ${round}: ${v}`));
      options.log?.(
        `round ${round}/${options.rounds}: killed after ${killAfterMs} ms with ${roundResult.inFlightAtKill} in flight; ` +
          `load ${t1 - t0} ms, restart ${t2 - t1} ms, checks ${t3 - t2} ms; ${roundResult.requests} requests ${JSON.stringify(roundResult.statuses)}; acknowledged ${ackedThisRound} tickets ` +
          `(${verification.acknowledgedTickets} in all, ${verification.storedTickets} stored); ${verification.lookups} lookups; ` +
          `${violations.length === 0 ? 'all checks held' : `VIOLATIONS: ${violations.join(' | ')}`}`,
      );
    }
  } finally {
    // The last server stops gracefully (or, if something above threw, is killed by the caller's cleanup).
    const exit = server.waitForExit();
    server.kill('SIGTERM');
    const timer = setTimeout(() => server.kill('SIGKILL'), 15_000);
    result.finalExit = await exit;
    clearTimeout(timer);
  }
  if (result.finalExit && (result.finalExit.code !== 0 || result.finalExit.signal !== null)) {
    result.violations.push(`the last server did not stop cleanly on SIGTERM: ${JSON.stringify(result.finalExit)} ${server.stderr().slice(-2_000)}`);
  }
  return result;
}

/** "200 crashes, 41,372 acknowledged tickets, 0 lost, 0 oversold" */
export function summaryLine(result: Pick<CrashRoundsResult, 'crashes' | 'acknowledgedTickets' | 'lost' | 'oversold'>): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `${n(result.crashes)} crash${result.crashes === 1 ? '' : 'es'}, ${n(result.acknowledgedTickets)} acknowledged tickets, ${n(result.lost)} lost, ${n(result.oversold)} oversold`;
}
