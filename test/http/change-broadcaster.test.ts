/**
 * The stream's fan-out, with counted writes: a window's `changes` and `queue` messages reach each
 * subscriber as ONE write, the window grows with the number of subscribers so the writes per second
 * stay bounded, and a sell-out cuts a long window short so waiting buyers hear it at once.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Change, TicketService } from '../../src/core/ticket-service.js';
import type { QueueUpdate } from '../../src/core/types.js';
import { ChangeBroadcaster, flushWindowMs, STREAM_FLUSH_MAX_MS, STREAM_FLUSH_MS } from '../../src/http/change-broadcaster.js';
import type { ListSnapshot } from '../../src/http/list-snapshot.js';
import type { Metrics } from '../../src/http/metrics.js';

const EVENT = '10000000-0000-4000-8000-000000000001';

/** A response that records what is written to it, through it (snapshots) or straight to its socket (frames). */
class FakeResponse extends EventEmitter {
  writes: string[] = [];
  destroyed = false;
  writableEnded = false;
  writableLength = 0;
  /** HTTP/1.0 readers get the bytes as they are; the one test of HTTP/1.1 framing turns this on. */
  chunkedEncoding = false;
  readonly socket = Object.assign(new EventEmitter(), { destroyed: false, write: (chunk: Buffer) => this.write(chunk) });
  write(chunk: Buffer | string): boolean {
    this.writes.push(chunk.toString());
    return true;
  }
  cork(): void {}
  uncork(): void {}
  end(): void {
    this.writableEnded = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
}

function setup(subscribers: number) {
  let change: (c: Change) => void = () => {};
  let lines: (u: QueueUpdate[]) => void = () => {};
  const service = {
    onChange: (listener: (c: Change) => void) => ((change = listener), () => {}),
    queue: { subscribe: (listener: (u: QueueUpdate[]) => void) => ((lines = listener), () => {}), current: () => [] },
  } as unknown as TicketService;
  const snapshot = { get: async () => ({ body: Buffer.from('[]') }) } as unknown as ListSnapshot;
  const gauge = { inc: () => {}, dec: () => {} };
  const metrics = { streams: gauge, streamsDropped: gauge } as unknown as Metrics;
  const log = { warn: () => {}, info: () => {} } as never;
  const broadcaster = new ChangeBroadcaster(service, log, { snapshot, metrics, limits: { idleTimeoutMs: 30_000, maxBufferedBytes: 1 << 20 } });
  const responses = Array.from({ length: subscribers }, () => new FakeResponse());
  for (const res of responses) broadcaster.add(res as unknown as ServerResponse, '127.0.0.1');
  const update = (over: Partial<QueueUpdate> = {}): QueueUpdate => ({ eventId: EVENT, serving: 5, length: 10, soldOut: false, heldElsewhere: false, paused: false, admitRatePerMinute: 60, open: true, ...over });
  return { broadcaster, responses, change: (c: Change) => change(c), lines: (u: QueueUpdate[]) => lines(u), update };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ChangeBroadcaster', () => {
  it('the window is 100 ms for a few subscribers and grows with them, to at most 1 s', () => {
    expect([1, 1000, 3000, 5000, 10_000, 50_000].map(flushWindowMs)).toEqual([100, 100, 300, 500, 1000, 1000]);
    expect(flushWindowMs(0)).toBe(STREAM_FLUSH_MS);
    expect(flushWindowMs(1e9)).toBe(STREAM_FLUSH_MAX_MS);
  });

  it('a booking and a line update in one window reach each subscriber as one write holding both messages', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const s = setup(50);
    s.responses[0]!.chunkedEncoding = true;
    await vi.advanceTimersByTimeAsync(0); // the snapshots
    const before = s.responses.map((r) => r.writes.length);
    s.change({ eventId: EVENT, availableTickets: 7, heldTickets: 0 } as Change);
    s.lines([s.update({ serving: 3 })]);
    s.lines([s.update({ serving: 4 })]);
    await vi.advanceTimersByTimeAsync(STREAM_FLUSH_MS);
    const raw = s.responses[1]!.writes.at(-1)!;
    // HTTP/1.1: the same bytes as one chunk (length in hex, CRLF, the bytes, CRLF), in one write.
    expect(s.responses[0]!.writes.slice(before[0])).toEqual([`${Buffer.byteLength(raw).toString(16)}\r\n${raw}\r\n`]);
    s.responses.slice(1).forEach((res, k) => {
      const fresh = res.writes.slice(before[k + 1]);
      expect(fresh).toHaveLength(1);
      const messages = fresh[0]!.split('\n\n').filter(Boolean).map((m) => JSON.parse(m.replace(/^data: /, '')) as { type: string; queues?: QueueUpdate[] });
      expect(messages.map((m) => m.type)).toEqual(['changes', 'queue']);
      expect(messages[1]!.queues).toEqual([s.update({ serving: 4 })]);
    });
    s.broadcaster.close();
  });

  it('10,000 subscribers: one write each per second, and a sell-out is sent at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const s = setup(10_000);
    await vi.advanceTimersByTimeAsync(0);
    const writes = () => s.responses.reduce((sum, r) => sum + r.writes.length, 0);
    const start = writes();
    // Bookings every 10 ms for 2 s: two windows, two writes per subscriber.
    for (let t = 0; t < 2000; t += 10) {
      s.change({ eventId: EVENT, availableTickets: 5000 - t, heldTickets: 0 } as Change);
      await vi.advanceTimersByTimeAsync(10);
    }
    expect(writes() - start).toBe(2 * 10_000);
    // A window opens with a booking; the line's sold-out news arrives 50 ms into it.
    const mid = writes();
    s.change({ eventId: EVENT, availableTickets: 1, heldTickets: 0 } as Change);
    await vi.advanceTimersByTimeAsync(50);
    s.lines([s.update({ soldOut: true })]);
    await vi.advanceTimersByTimeAsync(0);
    expect(writes() - mid).toBe(10_000);
    expect(s.responses[0]!.writes.at(-1)).toContain('"soldOut":true');
    s.broadcaster.close();
  });

  it('the last tickets held by others do not cut a long window short; the event selling out does', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'] });
    const s = setup(10_000);
    await vi.advanceTimersByTimeAsync(0);
    const writes = () => s.responses.reduce((sum, r) => sum + r.writes.length, 0);
    const start = writes();
    s.change({ eventId: EVENT, availableTickets: 0, heldTickets: 2 } as Change);
    await vi.advanceTimersByTimeAsync(500);
    expect(writes() - start).toBe(0);
    s.change({ eventId: EVENT, availableTickets: 0, heldTickets: 0 } as Change);
    await vi.advanceTimersByTimeAsync(0);
    expect(writes() - start).toBe(10_000);
    expect(s.responses[0]!.writes.at(-1)).toContain('"availableTickets":0,"heldTickets":0');
    s.broadcaster.close();
  });
});
