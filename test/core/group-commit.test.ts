import { describe, expect, it } from 'vitest';
import { BoxofficeError, Errors } from '../../src/core/errors.js';
import { GroupCommitter } from '../../src/core/group-commit.js';
import type { BookingOutcome, BookingRequest } from '../../src/core/store.js';

/** A commit function whose transactions finish only when the test says so. */
function controllableCommit() {
  const calls: Array<{ batch: BookingRequest[]; finish: (err?: Error) => void }> = [];
  const commit = (batch: readonly BookingRequest[]) =>
    new Promise<BookingOutcome[]>((resolve, reject) => {
      calls.push({
        batch: [...batch],
        finish: (err) =>
          err
            ? reject(err)
            : resolve(batch.map((r) => ({ ok: false, error: Errors.notEnoughTickets(r.tickets, 0), availableTickets: 0 }))),
      });
    });
  return { calls, commit };
}

const tick = () => new Promise((r) => setImmediate(r));
const req = (n: number): BookingRequest => ({ eventId: 'e', tickets: n });

describe('GroupCommitter', () => {
  it('decides everything that arrived together in one transaction, in arrival order', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const results = [1, 2, 3].map((n) => gc.submit(req(n)));
    await tick();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.batch.map((r) => r.tickets)).toEqual([1, 2, 3]);
    calls[0]!.finish();
    expect((await Promise.all(results)).map((o) => (o.ok ? 0 : o.error.message))).toEqual([
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
    expect(calls[1]!.batch.map((r) => r.tickets)).toEqual([2, 3]);
    expect(laterSettled).toBe(false);
    calls[1]!.finish();
    await Promise.all(later);
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

  it('runs solo writes alone, in FIFO order between batches, and answers everything in commit order', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const order: string[] = [];
    let releaseSolo!: () => void;
    const first = gc.submit(req(1)).then(() => order.push('batch 1'));
    await tick();
    const queued = [
      gc.submit(req(2)).then(() => order.push('batch 2')),
      gc
        .runSolo(() => {
          order.push('solo started');
          return new Promise<string>((resolve) => (releaseSolo = () => resolve('solo result')));
        })
        .then((r) => order.push(r)),
      gc.submit(req(3)).then(() => order.push('batch 3')),
    ];
    calls[0]!.finish();
    await first;
    await tick();
    // Only the bookings queued before the solo write form the next batch.
    expect(calls.map((c) => c.batch.map((r) => r.tickets))).toEqual([[1], [2]]);
    calls[1]!.finish();
    await tick();
    await tick();
    expect(order).toEqual(['batch 1', 'batch 2', 'solo started']);
    // The batch behind the solo write waits for it.
    expect(calls).toHaveLength(2);
    releaseSolo();
    await tick();
    await tick();
    expect(calls.map((c) => c.batch.map((r) => r.tickets))).toEqual([[1], [2], [3]]);
    calls[2]!.finish();
    await Promise.all(queued);
    expect(order).toEqual(['batch 1', 'batch 2', 'solo started', 'solo result', 'batch 3']);
  });

  it('a failing solo write rejects only itself', async () => {
    const { calls, commit } = controllableCommit();
    const gc = new GroupCommitter(commit, { maxBatch: 100 });
    const solo = gc.runSolo(() => Promise.reject(new Error('disk full')));
    const after = gc.submit(req(1));
    await expect(solo).rejects.toThrow('disk full');
    await tick();
    calls[0]!.finish();
    await expect(after).resolves.toMatchObject({ ok: false });
    await gc.drain();
  });
});
