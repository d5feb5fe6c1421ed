/**
 * FIFO within an event, over real sockets, with a controlled arrival order: when an event has k
 * tickets left and requests arrive in a known order, the first requests win, later ones get 409, and
 * a later smaller request never takes tickets an earlier larger one that fits would have got.
 *
 * The order is made certain, not hoped for: the group committer's flush is held (TicketService's
 * `defer` option), each request goes out on its own keep-alive connection, and the next one is sent
 * only once the previous one has reached the committer's queue (GroupCommitter.submit was called).
 * Then the flush is released and the whole queue is decided in one batch.
 */
import fc from 'fast-check';
import { Client } from 'undici';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { GroupCommitter } from '../../src/core/group-commit.js';
import type { Command, Outcome, WriteBatch } from '../../src/core/commands.js';
import type { Store } from '../../src/core/store.js';

type BookingRequest = Extract<Command, { type: 'book' }>;
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { adminHeaders, startApp } from '../helpers/app.js';
import { tempDir } from '../helpers/tmp.js';

interface Ask {
  /** Index into the scenario's events. */
  event: number;
  tickets: number;
  api: 'reserve' | 'bookings';
}

interface Answered {
  status: number;
  tickets: string[];
  error?: string;
}

/** The promise in its plainest form: requests decided one after the other, in arrival order. */
function fifoModel(left: readonly number[], asks: readonly Ask[]): { wins: boolean[]; left: number[] } {
  const now = [...left];
  const wins = asks.map((a) => {
    if (a.tickets > now[a.event]!) return false;
    now[a.event]! -= a.tickets;
    return true;
  });
  return { wins, left: now };
}

/** A flush that waits until released; once released, flushes run at once again. */
function heldFlush() {
  let holding = false;
  const held: Array<() => void> = [];
  return {
    defer: (fn: () => void) => (holding ? held.push(fn) : setImmediate(fn)),
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const fn of held.splice(0)) fn();
    },
    held: () => held.length,
  };
}

const tmp = tempDir('boxoffice-fifo-');
const submit = vi.spyOn(GroupCommitter.prototype, 'submit');
afterEach(() => submit.mockClear());
afterAll(() => {
  submit.mockRestore();
  tmp.cleanup();
});

/**
 * Runs one scenario: events with `left` tickets left (out of `left + sold` made beforehand), the asks
 * sent in order with the flush held, then released. `reorder` lets a test swap in a store that
 * decides a batch in another order (to show the checks would catch it).
 */
async function runScenario(options: {
  name: string;
  left: readonly number[];
  asks: readonly Ask[];
  reorder?: (requests: readonly BookingRequest[]) => number[];
}) {
  const store = new SqliteStore(`${tmp.dir}/${options.name}.db`);
  const batches: BookingRequest[][] = [];
  const write = store.write.bind(store);
  store.write = async (batch: WriteBatch): Promise<Outcome[]> => {
    const requests = batch.commands as BookingRequest[];
    batches.push([...requests]);
    if (!options.reorder) return write(batch);
    // Decides the batch in another order, then hands each outcome back to its own request.
    const order = options.reorder(requests);
    const outcomes = await write({ ...batch, commands: order.map((i) => requests[i]!) });
    const back: Outcome[] = new Array(requests.length);
    order.forEach((i, k) => (back[i] = outcomes[k]!));
    return back;
  };
  const flush = heldFlush();
  const server = await startApp({ store: store as Store, service: { defer: flush.defer } });
  const clients: Client[] = [];
  try {
    // The events, each brought down to its k tickets left by a booking made before the test starts.
    const eventIds: string[] = [];
    for (const [i, k] of options.left.entries()) {
      const sold = 3 + i;
      const created = await fetch(`${server.url}/events`, {
        method: 'POST',
        headers: adminHeaders,
        body: JSON.stringify({ name: `FIFO ${i}`, date: '2027-05-01T20:00:00Z', totalTickets: k + sold, maxTicketsPerBooking: 50 }),
      });
      expect(created.status).toBe(201);
      const id = ((await created.json()) as { id: string }).id;
      const pre = await fetch(`${server.url}/reserve?eventId=${id}&tickets=${sold}`, { method: 'POST' });
      expect(pre.status).toBe(200);
      eventIds.push(id);
    }
    batches.length = 0;
    submit.mockClear();

    // Arrival in a known order: request i is in the committer's queue before request i+1 leaves.
    flush.hold();
    const answers: Array<Promise<Answered>> = [];
    for (const [i, ask] of options.asks.entries()) {
      const client = new Client(server.url, { pipelining: 1 });
      clients.push(client);
      const eventId = eventIds[ask.event]!;
      answers.push(
        client
          .request(
            ask.api === 'reserve'
              ? { method: 'POST', path: `/reserve?eventId=${eventId}&tickets=${ask.tickets}` }
              : { method: 'POST', path: `/events/${eventId}/bookings`, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tickets: ask.tickets }) },
          )
          .then(async (res) => {
            const body = (await res.body.json()) as unknown;
            if (res.statusCode === 200) return { status: 200, tickets: body as string[] };
            if (res.statusCode === 201) return { status: 201, tickets: (body as { tickets: Array<{ id: string }> }).tickets.map((t) => t.id) };
            return { status: res.statusCode, tickets: [], error: (body as { error?: string }).error };
          }),
      );
      await expect.poll(() => submit.mock.calls.length, { timeout: 10_000, interval: 2 }).toBe(i + 1);
    }
    // Nothing was decided while they arrived: the whole queue waits for one flush.
    expect(batches).toEqual([]);
    expect(flush.held()).toBe(1);
    // The queue holds the requests exactly in the order they were sent.
    expect(submit.mock.calls.map(([r]) => [(r as BookingRequest).eventId, (r as BookingRequest).tickets])).toEqual(options.asks.map((a) => [eventIds[a.event], a.tickets]));

    flush.release();
    const results = await Promise.all(answers);
    const events = await Promise.all(eventIds.map(async (id) => ((await (await fetch(`${server.url}/events/${id}`)).json()) as { availableTickets: number }).availableTickets));
    const stored = await Promise.all(eventIds.map((id) => store.countTickets(id)));
    const found = await Promise.all(results.flatMap((r) => r.tickets).map(async (id) => (await fetch(`${server.url}/tickets/${id}`)).status));
    return { results, batches, available: events, stored, found, eventIds };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.close();
  }
}

function expectFifo(run: Awaited<ReturnType<typeof runScenario>>, left: readonly number[], asks: readonly Ask[]): void {
  const model = fifoModel(left, asks);
  // One batch, in arrival order.
  expect(run.batches).toHaveLength(1);
  expect(run.batches[0]!.map((r) => [r.eventId, r.tickets])).toEqual(asks.map((a) => [run.eventIds[a.event], a.tickets]));
  // Each request's answer is the one arrival order gives it.
  const got = run.results.map((r) => ({ status: r.status, error: r.error, tickets: r.tickets.length }));
  const expected = asks.map((a, i) =>
    model.wins[i]
      ? { status: a.api === 'reserve' ? 200 : 201, error: undefined, tickets: a.tickets }
      : { status: 409, error: 'not_enough_tickets', tickets: 0 },
  );
  expect(got).toEqual(expected);
  expect(run.available).toEqual(model.left);
  run.stored.forEach((n, e) => expect(n + run.available[e]!).toBe(left[e]! + 3 + e));
  expect(run.found.every((s) => s === 200)).toBe(true);
}

describe('FIFO within an event, with a controlled arrival order (SQLite, real sockets)', () => {
  // Event 0 has 5 left: the 5 asked first wins them all, the smaller later asks (1, then 2) get 409.
  // Event 1 has 3 left: 2 wins, the next 2 does not fit (409), the 1 after it still fits and wins.
  const left = [5, 3];
  const asks: Ask[] = [
    { event: 0, tickets: 5, api: 'reserve' },
    { event: 1, tickets: 2, api: 'bookings' },
    { event: 0, tickets: 1, api: 'bookings' },
    { event: 1, tickets: 2, api: 'reserve' },
    { event: 0, tickets: 2, api: 'reserve' },
    { event: 1, tickets: 1, api: 'bookings' },
  ];

  it('the first requests win, later ones get 409, and no later smaller request takes what an earlier larger one that fits gets', async () => {
    const run = await runScenario({ name: 'fixed', left, asks });
    expectFifo(run, left, asks);
    expect(run.results.map((r) => r.status)).toEqual([200, 201, 409, 409, 409, 201]);
    expect(run.available).toEqual([0, 0]);
  });

  it('the same checks catch a committer that decides in another order (reversed, or smallest first)', async () => {
    const reversed = await runScenario({ name: 'reversed', left, asks, reorder: (r) => r.map((_, i) => r.length - 1 - i) });
    expect(() => expectFifo(reversed, left, asks)).toThrow();
    // Reversed, the smaller later asks take event 0's tickets from the 5 that came first.
    expect(reversed.results[0]!.status).toBe(409);

    const smallestFirst = await runScenario({
      name: 'smallest-first',
      left,
      asks,
      reorder: (r) => r.map((_, i) => i).sort((a, b) => r[a]!.tickets - r[b]!.tickets || a - b),
    });
    expect(() => expectFifo(smallestFirst, left, asks)).toThrow();
    expect(smallestFirst.results[0]!.status).toBe(409);
  });

  it('generated arrival orders over 3 events agree with deciding one request after another (fast-check)', async () => {
    const ask = fc.record({
      event: fc.integer({ min: 0, max: 2 }),
      tickets: fc.integer({ min: 1, max: 6 }),
      api: fc.constantFrom<Ask['api']>('reserve', 'bookings'),
    });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.tuple(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 3, max: 12 })), fc.array(ask, { minLength: 2, maxLength: 14 }), async (leftTuple, asks) => {
        const left = [...leftTuple];
        const run = await runScenario({ name: `generated-${runs++}`, left, asks });
        expectFifo(run, left, asks);
      }),
      { numRuns: 15, seed: 0xf1f0, endOnFailure: true },
    );
  });
});
