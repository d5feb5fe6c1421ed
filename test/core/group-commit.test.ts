import { describe, expect, it } from 'vitest';
import { BoxofficeError, Errors } from '../../src/core/errors.js';
import { GroupCommitter } from '../../src/core/group-commit.js';
import { refusal, type Command, type Outcome } from '../../src/core/commands.js';

type Booking = Extract<Command, { type: 'book' }>;

/** A commit function whose transactions finish only when the test says so. */
function controllableCommit() {
  const calls: Array<{ batch: Command[]; finish: (err?: Error) => void }> = [];
  const commit = (batch: readonly Command[]) =>
    new Promise<Outcome[]>((resolve, reject) => {
      calls.push({
        batch: [...batch],
        finish: (err) => (err ? reject(err) : resolve(batch.map((c) => refusal(Errors.notEnoughTickets((c as Booking).tickets ?? 0, 0))))),
      });
    });
  const tickets = (i: number) => calls[i]!.batch.map((c) => (c.type === 'book' ? c.tickets : c.type));
  return { calls, commit, tickets };
}

const tick = () => new Promise((r) => setImmediate(r));
const req = (n: number): Command => ({ type: 'book', eventId: 'e', tickets: n });

describe('GroupCommitter', () => {
  it('pipelined (a shared writer that answers in order): a tick\'s batch leaves without waiting for the previous commit; drain waits for all', async () => {
    const { calls, commit, tickets } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100, pipeline: true });
    const first = gc.submit(req(1));
    await tick();
    const second = [gc.submit(req(2)), gc.submit(req(3))];
    await tick();
    // Without pipelining the second batch would wait here for the first one's commit.
    expect(calls).toHaveLength(2);
    expect(tickets(1)).toEqual([2, 3]);
    let drained = false;
    const drain = gc.drain().then(() => (drained = true));
    calls[0]!.finish();
    await first;
    await tick();
    expect(drained).toBe(false);
    calls[1]!.finish();
    await Promise.all(second);
    await drain;
    expect(drained).toBe(true);
  });

  it('decides everything that arrived together in one transaction, in arrival order', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const results = [1, 2, 3].map((n) => gc.submit(req(n)));
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.batch.map((r) => (r as Booking).tickets)).toEqual([1, 2, 3]);
    calls[0]!.finish();
    expect((await Promise.all(results)).map((o) => (o.ok ? 0 : o.message))).toEqual([
      'Not enough tickets available: requested 1, 0 left',
      'Not enough tickets available: requested 2, 0 left',
      'Not enough tickets available: requested 3, 0 left',
    ]);
  });

  it('batches requests that arrive while a commit is in flight into the next transaction', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const first = gc.submit(req(1));
    await tick();
    expect(calls).toHaveLength(1);
    let laterSettled = false;
    const later = [gc.submit(req(2)), gc.submit(req(3))];
    void Promise.all(later).then(() => (laterSettled = true));
    await tick();
    await tick();
    // One batch in flight at a time: the newcomers wait, and nothing answers before its commit.
    expect(calls).toHaveLength(1);
    expect(laterSettled).toBe(false);
    calls[0]!.finish();
    await first;
    await tick();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.batch.map((r) => (r as Booking).tickets)).toEqual([2, 3]);
    expect(laterSettled).toBe(false);
    calls[1]!.finish();
    await Promise.all(later);
  });

  it('the next batch goes to the store before the answers of the one that committed are handed out', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const seen: string[] = [];
    const first = gc.submit(req(1)).then(() => seen.push(`answered 1 with ${calls.length} commit(s) started`));
    await tick();
    const second = gc.submit(req(2));
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.finish();
    await first;
    // The store was already committing the second batch when the first one's answer went out, so it
    // never idles while this thread answers.
    expect(seen).toEqual(['answered 1 with 2 commit(s) started']);
    calls[1]!.finish();
    await second;
  });

  it('with maxBatch 1 commits one booking per transaction (group commit off)', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 1 });
    const all = [1, 2, 3].map((n) => gc.submit(req(n)));
    for (let i = 0; i < 3; i++) {
      await tick();
      expect(calls).toHaveLength(i + 1);
      expect(calls[i]!.batch).toHaveLength(1);
      calls[i]!.finish();
      await all[i];
    }
  });

  it('a failed transaction fails every request of its batch as storage_unavailable, and the next batch still runs', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const doomed = [gc.submit(req(1)), gc.submit(req(2))];
    await tick();
    const next = gc.submit(req(3));
    calls[0]!.finish(new Error('disk I/O error'));
    for (const p of doomed) {
      const err = await p.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BoxofficeError);
      expect((err as BoxofficeError).code).toBe('storage_unavailable');
    }
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.finish();
    expect((await next).ok).toBe(false);
  });

  it('drain waits for queued and in-flight work', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    void gc.submit(req(1));
    let drained = false;
    void gc.drain().then(() => (drained = true));
    await tick();
    expect(drained).toBe(false);
    calls[0]!.finish();
    await tick();
    await tick();
    expect(drained).toBe(true);
  });

  it('rejects a store that answers the wrong number of outcomes', async () => {
    const gc = new GroupCommitter(async () => [], { maxBatch: 10 });
    await expect(gc.submit(req(1))).rejects.toMatchObject({ code: 'storage_unavailable' });
  });

  it('every kind of write shares the one FIFO lane: a confirmation queued between bookings is decided in its place', async () => {
    const { calls, commit, tickets } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const order: string[] = [];
    const first = gc.submit(req(1)).then(() => order.push('book 1'));
    await tick();
    const queued = [
      gc.submit(req(2)).then(() => order.push('book 2')),
      gc.submit({ type: 'confirm', holdId: 'h' }).then(() => order.push('confirm')),
      gc.submit(req(3)).then(() => order.push('book 3')),
    ];
    calls[0]!.finish();
    await first;
    await tick();
    // Everything that queued behind the first transaction is the next one, in arrival order.
    expect([tickets(0), tickets(1)]).toEqual([[1], [2, 'confirm', 3]]);
    calls[1]!.finish();
    await Promise.all(queued);
    expect(order).toEqual(['book 1', 'book 2', 'confirm', 'book 3']);
  });

  it('a batch larger than maxBatch is split, keeping arrival order across the transactions', async () => {
    const { calls, commit, tickets } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((n) => gc.submit(req(n)));
    for (let i = 0; i < 3; i++) {
      await tick();
      calls[i]!.finish();
      await tick();
    }
    await Promise.all(all);
    expect([tickets(0), tickets(1), tickets(2)]).toEqual([[1, 2], [3, 4], [5]]);
  });

  const LINGER_MS = 100;
  it('a closed loop of clients is not split over two commits: the batch waits (briefly) for the clients its answers sent back', async () => {
    // 32 clients each book, wait for the answer, and book again after 1–8 event-loop turns (their
    // answer travelling, their next request arriving); each commit takes a while, like an fsync.
    const rounds = 10;
    const clients = 32;
    let commits = 0;
    const gc = new GroupCommitter<Command, Outcome>(
      (batch) => {
        commits++;
        return new Promise((resolve) => setTimeout(() => resolve(batch.map(() => refusal(Errors.notEnoughTickets(1, 0)))), 150));
      },
      // The linger is measured in time and the clients' way back in event-loop turns: a generous linger
      // (and a longer commit) keeps a loaded machine's slow turns inside it (30 ms still split a round
      // at 18 commits once in CI, 2026-12-02).
      { maxBatch: 100, maxLingerMs: LINGER_MS },
    );
    const random = (() => {
      let seed = 7;
      return () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    })();
    const turns = async (n: number) => {
      for (let i = 0; i < n; i++) await tick();
    };
    await Promise.all(
      Array.from({ length: clients }, async () => {
        for (let r = 0; r < rounds; r++) {
          await gc.submit(req(1));
          await turns(1 + Math.floor(random() * 8));
        }
      }),
    );
    // Deciding at the first returning client would split every round in two or more commits.
    expect(commits).toBeLessThanOrEqual(rounds * 1.5);
  });

  it('a lone client never waits: with batches of one, each command is decided on the next turn', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    for (let i = 0; i < 3; i++) {
      const answer = gc.submit(req(1));
      await tick();
      expect(calls).toHaveLength(i + 1);
      calls[i]!.finish();
      await answer;
    }
  });
});
