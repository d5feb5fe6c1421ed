/**
 * kill -9 under load, then restart on the same data dir: every booking acknowledged with a 2xx is
 * still there, nothing is half-applied, and available + stored == total.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllProcesses, startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { checkAfterRestart, createEvent, runBookingLoad, summarize, type Acknowledged } from './booking-load.js';

const TOTAL_TICKETS = 2_000;
const CONNECTIONS = 32;
/**
 * A round kills after about a second of load once at least MIN tickets were acknowledged, and at the
 * latest after MAX, so two rounds (plus what was in flight) stay below the total: nothing sells out.
 */
const MIN_ACKED_BEFORE_KILL = 300;
const MAX_ACKED_BEFORE_KILL = 700;

describe('durability: SIGKILL during concurrent bookings, then restart (SQLite)', () => {
  const tmp = tempDir('boxoffice-e2e-durability-');
  afterEach(killAllProcesses);
  afterAll(async () => {
    await killAllProcesses();
    tmp.cleanup();
  });

  it('keeps every acknowledged ticket and the invariant across two kill -9 / restart rounds', async () => {
    let server: ServerProcess = await startServerProcess({ dataDir: tmp.dir });
    const event = await createEvent(server.url, TOTAL_TICKETS);
    const acknowledged: Acknowledged[] = [];

    for (const round of [1, 2]) {
      const victim = server;
      const exit = victim.waitForExit();
      const report = await runBookingLoad({
        url: victim.url,
        eventId: event.id,
        connections: CONNECTIONS,
        seed: round,
        // Kill from inside the load, at a moment when requests are on the wire.
        shouldTrigger: ({ ackedTickets, inFlight, elapsedMs }) =>
          (inFlight >= 4 && ((elapsedMs >= 1_000 && ackedTickets >= MIN_ACKED_BEFORE_KILL) || ackedTickets >= MAX_ACKED_BEFORE_KILL)) ||
          elapsedMs > 10_000,
        trigger: () => victim.kill('SIGKILL'),
        until: exit,
        maxDurationMs: 20_000,
      });
      const exitInfo = await exit;
      const summary = JSON.stringify(summarize(report));

      expect(report.triggered, summary).toBe(true);
      expect(exitInfo.signal, victim.stderr()).toBe('SIGKILL');
      expect(report.inFlightAtTrigger, 'requests were in flight when the server was killed').toBeGreaterThan(0);
      // Until the kill, every answer was a booking: no refusal, no 5xx, no dropped connection.
      expect(report.attempts.filter((a) => a.status !== undefined && a.error === undefined && a.status !== 200 && a.status !== 201), summary).toEqual([]);
      expect(report.attempts.filter((a) => a.errorBeforeTrigger), summary).toEqual([]);
      // The kill really cut requests off.
      expect(report.attempts.some((a) => a.error !== undefined), summary).toBe(true);
      const ackedThisRound = report.acknowledged.reduce((n, a) => n + a.ticketIds.length, 0);
      expect(ackedThisRound).toBeGreaterThanOrEqual(MIN_ACKED_BEFORE_KILL);
      expect(report.acknowledged.some((a) => a.api === 'reserve') && report.acknowledged.some((a) => a.api === 'bookings')).toBe(true);
      acknowledged.push(...report.acknowledged);

      server = await startServerProcess({ dataDir: tmp.dir });
      const facts = await checkAfterRestart(server, event, acknowledged);
      console.log(
        `round ${round}: ${report.attempts.length} requests ${summary}; in flight at kill ${report.inFlightAtTrigger}; ` +
          `acknowledged ${facts.acknowledgedTickets} tickets, stored ${facts.stored}, available ${facts.available}`,
      );
    }

    server.kill('SIGTERM');
    expect((await server.waitForExit()).code, server.stderr()).toBe(0);
  });
});
