/**
 * Crash safety: kill -9 at a random moment under load from 32 connections over 3 events, restart on
 * the same storage, repeat. After every restart, every ticket any client got in a 2xx is stored and
 * served back, every acknowledged REST booking reads back whole, sold + available == total for every
 * event, no ticket id is stored or handed out twice, and no booking is half-applied.
 * `npm run soak -- --rounds 200` runs the same rounds at length (scripts/soak.ts).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PG_URL, describePg, uniqueSchema } from '../helpers/pg.js';
import { killAllProcesses } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';
import { postgresProbe, sqliteProbe } from './booking-load.js';
import { runCrashRounds, summaryLine, type CrashRoundsResult } from './crash-rounds.js';

const CONNECTIONS = 32;
const EVENTS = 3;

function expectAllHeld(result: CrashRoundsResult, rounds: number): void {
  console.log(summaryLine(result));
  expect(result.violations).toEqual([]);
  expect(result.crashes).toBe(rounds);
  expect(result.lost).toBe(0);
  expect(result.oversold).toBe(0);
  for (const round of result.rounds) {
    // A real crash under load: SIGKILL while requests were on the wire, some of them cut off.
    expect(round.exit.signal, `round ${round.round}`).toBe('SIGKILL');
    expect(round.inFlightAtKill, `round ${round.round}: requests in flight at the kill`).toBeGreaterThan(0);
    expect(round.cutOff, `round ${round.round}: requests cut off by the kill`).toBeGreaterThan(0);
  }
  // The rounds sold tickets on both APIs, and each was read back over HTTP.
  expect(result.acknowledgedTickets).toBeGreaterThan(0);
  expect(result.rounds.filter((r) => r.acknowledgedTickets > 0).length).toBeGreaterThanOrEqual(Math.ceil(rounds / 2));
  expect(result.storedTickets).toBeGreaterThanOrEqual(result.acknowledgedTickets);
  expect(result.lookups).toBeGreaterThanOrEqual(result.acknowledgedTickets);
  expect(result.events.length).toBeGreaterThanOrEqual(EVENTS);
  expect(result.finalExit).toEqual({ code: 0, signal: null });
}

describe('crash safety: SIGKILL at a random moment under load, restart, check (SQLite)', () => {
  const tmp = tempDir('boxoffice-e2e-crash-');
  afterEach(killAllProcesses);
  afterAll(async () => {
    await killAllProcesses();
    tmp.cleanup();
  });

  it('5 kill -9 / restart rounds over 3 events from 32 connections: nothing acknowledged lost, nothing oversold, nothing half-applied', async () => {
    const result = await runCrashRounds({
      rounds: 5,
      seed: 20_260_601,
      dataDir: tmp.dir,
      probe: sqliteProbe(tmp.dir),
      connections: CONNECTIONS,
      events: EVENTS,
      log: (line) => console.log(line),
    });
    expectAllHeld(result, 5);
  });
});

describePg('crash safety: SIGKILL of a node at a random moment under load, restart, check (PostgreSQL)', () => {
  const tmp = tempDir('boxoffice-e2e-crash-pg-');
  const schema = uniqueSchema('crash');
  afterEach(killAllProcesses);
  afterAll(async () => {
    await killAllProcesses();
    await schema.drop();
    tmp.cleanup();
  });

  it('2 kill -9 / restart rounds: the database survives the node, with nothing lost, oversold or half-applied', async () => {
    const result = await runCrashRounds({
      rounds: 2,
      seed: 20_260_602,
      dataDir: tmp.dir,
      serverArgs: ['--db', PG_URL!, '--pg-schema', schema.schema, '--db-pool', '6'],
      probe: postgresProbe(PG_URL!, schema.schema),
      connections: CONNECTIONS,
      events: EVENTS,
      log: (line) => console.log(`postgres ${line}`),
    });
    expectAllHeld(result, 2);
  });
});
