/**
 * The buyer's waiting-room screen against a fake line: join before the sale, the order drawn, the
 * place moving with the stream's serving counter alone (no read per move), the pass picked up when the
 * counter reaches the place, sold out at once, and a remembered place resumed.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { cleanup } from 'ink-testing-library';
import pino from 'pino';
import { useCallback } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Event, QueueEntry, QueueUpdate } from '../../src/client/types.js';
import { ApiError } from '../../src/client/api-error.js';
import { useThrottledSubscription } from '../../src/tui/hooks.js';
import type { BuyerNav } from '../../src/tui/screens/client/buyer-screens.js';
import { WaitingRoom } from '../../src/tui/screens/client/WaitingRoom.js';
import { fileEntryStore, memoryEntryStore, type EntryStore } from '../../src/tui/waiting-room/entry-file.js';
import { placeInLine, shouldRead } from '../../src/tui/waiting-room/line.js';
import { QueueLines } from '../../src/tui/waiting-room/queue-lines.js';
import type { QueueBackend } from '../../src/tui/waiting-room/use-queue-entry.js';
import { tempDir } from '../helpers/tmp.js';
import { frame, KEYS, makeEvent, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

const SALE = Date.parse('2027-05-01T18:00:00.000Z');
const SERVER = 'http://box.test';

function entryOf(fields: Partial<QueueEntry> = {}): QueueEntry {
  return {
    id: 'e1',
    eventId: 'x',
    token: 'tok',
    state: 'waiting',
    position: null,
    ahead: null,
    etaSeconds: null,
    joinedAt: '2027-05-01T17:55:00.000Z',
    shuffleAt: new Date(SALE).toISOString(),
    pass: null,
    passExpiresAt: null,
    heldElsewhere: false,
    ...fields,
  };
}

const lineOf = (eventId: string, fields: Partial<QueueUpdate> = {}): QueueUpdate => ({
  eventId,
  serving: 0,
  length: 10,
  soldOut: false,
  heldElsewhere: false,
  paused: false,
  admitRatePerMinute: 60,
  open: true,
  ...fields,
});

/** A line the test drives: what the server would answer for this buyer's entry, and the calls made. */
function fakeLine(eventId: string) {
  const calls = { join: 0, read: 0 };
  let answer = entryOf({ eventId });
  const backend: QueueBackend = {
    joinQueue: async () => {
      calls.join++;
      return answer;
    },
    queueEntry: async (_e, id, token) => {
      calls.read++;
      if (id !== answer.id || token !== answer.token) throw new ApiError({ status: 403, code: 'invalid_queue_token', message: 'That queue token is not valid.' });
      return answer;
    },
  };
  return { calls, backend, set: (fields: Partial<QueueEntry>) => (answer = { ...answer, ...fields }) };
}

const roomEvent = () =>
  makeEvent({
    name: 'Big Night',
    waitingRoom: true,
    onSaleAt: new Date(SALE).toISOString(),
    waitingRoomOpensAt: new Date(SALE - 30 * 60_000).toISOString(),
    timeZone: 'Europe/Berlin',
  });

const logger = pino({ level: 'silent' });

function room(options: { event: Event; lines: QueueLines; backend: QueueBackend; store?: EntryStore; now?: () => number; streamLive?: boolean }) {
  const { event } = options;
  const admitted: QueueEntry[] = [];
  const statuses: string[] = [];
  const nav = { back: () => {}, replace: () => {}, setStatus: (s: { text: string }) => statuses.push(s.text) } as unknown as BuyerNav;
  const store = options.store ?? memoryEntryStore();
  function Harness() {
    useThrottledSubscription(useCallback((l: () => void) => options.lines.subscribe(l), []));
    return (
      <WaitingRoom
        nav={nav}
        event={event}
        line={options.lines.get(event.id)}
        streamLive={options.streamLive ?? true}
        backend={options.backend}
        store={store}
        server={SERVER}
        logger={logger}
        width={80}
        now={options.now}
        onAdmitted={(e) => admitted.push(e)}
      />
    );
  }
  return { r: renderUi(<Harness />), event, admitted, store, statuses };
}

describe('the waiting room screen', () => {
  it('joins before the sale, shows the countdown, then moves with the serving counter and hands over the pass', async () => {
    let clock = SALE - 5 * 60_000;
    const lines = new QueueLines();
    const event = roomEvent();
    const eventId = event.id;
    const line = fakeLine(eventId);
    const { r, admitted } = room({ event, lines, backend: line.backend, now: () => clock });

    let f = await frame(r, 'Press Enter to join the line');
    expect(f).toContain('Sales open at');
    expect(f).toMatch(/in 5:00|in 4:5\d/);
    expect(f).toContain('random place');

    press(r, KEYS.enter);
    f = await frame(r, "You're in the line.");
    expect(line.calls.join).toBe(1);

    // The sale opens: the stream says the order is drawn; the entry is read once for its place.
    clock = SALE + 1000;
    line.set({ position: 40, ahead: 39, etaSeconds: 39 });
    lines.apply([lineOf(eventId, { serving: 0, open: true })]);
    f = await frame(r, 'Your place: 40');
    expect(f).toContain('39 people ahead');
    expect(f).toContain('about a minute or less');
    const readsWhenPlaced = line.calls.read;

    // The counter moves: the place is worked out locally, no read per move.
    for (const serving of [10, 20, 30]) {
      lines.apply([lineOf(eventId, { serving, open: true, admitRatePerMinute: 6 })]);
      await frame(r, `·  ${39 - serving} people ahead`);
    }
    f = await frame(r, '·  9 people ahead');
    expect(f).toContain('about 2 minutes');
    expect(f).toMatch(/█+░+ +\d+ %/);
    expect(line.calls.read).toBe(readsWhenPlaced);

    // Held elsewhere: said, and the place is kept.
    lines.apply([lineOf(eventId, { serving: 30, heldElsewhere: true })]);
    await frame(r, 'Tickets are held by others; you keep your place.');

    // The counter reaches the place: the entry is read for the pass, and the form follows with it.
    line.set({ state: 'admitted', ahead: 0, pass: 'PASS-1', passExpiresAt: new Date(clock + 600_000).toISOString() });
    clock += 2_000;
    lines.apply([lineOf(eventId, { serving: 40 })]);
    await frame(r, "It's your turn");
    await expect.poll(() => admitted.length, { timeout: 10_000 }).toBe(1);
    expect(admitted[0]?.pass).toBe('PASS-1');
  });

  it('says sold out at once from the stream, without reading the entry', async () => {
    const lines = new QueueLines();
    const store = memoryEntryStore();
    const event = roomEvent();
    const eventId = event.id;
    const line = fakeLine(eventId);
    line.set({ position: 7, ahead: 6 });
    store.save(SERVER, entryOf({ eventId, position: 7, ahead: 6 }));
    const { r } = room({ event, lines, backend: line.backend, store, now: () => SALE + 60_000 });
    lines.apply([lineOf(eventId, { serving: 2 })]);
    await frame(r, 'Your place: 7');
    const reads = line.calls.read;
    lines.apply([lineOf(eventId, { serving: 2, soldOut: true })]);
    const f = await frame(r, 'Sold out');
    expect(f).not.toContain('Your place');
    await settle(100);
    expect(line.calls.read).toBe(reads);
  });

  it('resumes a remembered place (a restart of the program) and forgets one the server no longer knows', async () => {
    const lines = new QueueLines();
    const store = memoryEntryStore();
    const event = roomEvent();
    const eventId = event.id;
    const line = fakeLine(eventId);
    line.set({ position: 3, ahead: 2 });
    store.save(SERVER, entryOf({ eventId, position: null }));
    const { r } = room({ event, lines, backend: line.backend, store, now: () => SALE + 1000 });
    // Read once on arrival: the place drawn while the program was closed.
    await frame(r, 'Your place: 3');
    expect(line.calls.join).toBe(0);
    expect(store.load(SERVER, eventId)?.position).toBe(3);
    r.unmount();

    const stale = memoryEntryStore();
    stale.save(SERVER, entryOf({ eventId, token: 'forged' }));
    const again = room({ event, lines: new QueueLines(), backend: line.backend, store: stale, now: () => SALE + 1000 });
    await frame(again.r, 'Press Enter to join the line');
    expect(stale.load(SERVER, eventId)).toBeUndefined();
  });

  it('reads the entry every few seconds while the stream is down', async () => {
    const lines = new QueueLines();
    const store = memoryEntryStore();
    const event = roomEvent();
    const eventId = event.id;
    const line = fakeLine(eventId);
    line.set({ position: 5, ahead: 4, etaSeconds: 240 });
    store.save(SERVER, entryOf({ eventId, position: 5, ahead: 4 }));
    let clock = SALE + 1000;
    const { r } = room({ event, lines, backend: line.backend, store, streamLive: false, now: () => clock });
    await frame(r, 'checked every few seconds');
    await frame(r, '4 people ahead');
    const first = line.calls.read;
    line.set({ ahead: 1, etaSeconds: 60 });
    clock += 5_000;
    await frame(r, '1 person ahead', { timeoutMs: 3_000 });
    expect(line.calls.read).toBeGreaterThan(first);
  });
});

describe('placeInLine and shouldRead', () => {
  it('computes ahead from the serving counter and reads only when the stream cannot tell', () => {
    const e = entryOf({ position: 10, ahead: 9 });
    expect(placeInLine(e, lineOf('x', { serving: 4 })).ahead).toBe(5);
    expect(placeInLine(e, lineOf('x', { serving: 12 })).ahead).toBe(0);
    expect(placeInLine(e, lineOf('x', { soldOut: true })).state).toBe('sold_out');
    expect(shouldRead(e, lineOf('x', { serving: 4 }), true, 60_000)).toBe(false);
    expect(shouldRead(e, lineOf('x', { serving: 10 }), true, 2_000)).toBe(true);
    expect(shouldRead(e, lineOf('x', { serving: 10 }), true, 100)).toBe(false);
    expect(shouldRead(entryOf(), lineOf('x', { open: true }), true, 2_000)).toBe(true);
    expect(shouldRead(entryOf(), lineOf('x', { open: false }), true, 60_000)).toBe(false);
    expect(shouldRead(e, lineOf('x', { serving: 4 }), false, 6_000)).toBe(true);
    expect(shouldRead(entryOf({ state: 'admitted' }), undefined, false, 60_000)).toBe(false);
  });
});

describe('fileEntryStore', () => {
  it('keeps places across instances (a restart), per server and event, private to the user', () => {
    const { dir, cleanup: remove } = tempDir('boxoffice-queue-entries-');
    try {
      const first = fileEntryStore(join(dir, 'data'));
      first.save(SERVER, entryOf({ eventId: 'a', id: 'ea' }));
      first.save(SERVER, entryOf({ eventId: 'b', id: 'eb' }));
      first.save('http://other.test', entryOf({ eventId: 'a', id: 'other' }));
      const again = fileEntryStore(join(dir, 'data'));
      expect(again.load(SERVER, 'a')?.id).toBe('ea');
      expect(again.load('http://other.test', 'a')?.id).toBe('other');
      again.forget(SERVER, 'a');
      expect(fileEntryStore(join(dir, 'data')).load(SERVER, 'a')).toBeUndefined();
      expect(fileEntryStore(join(dir, 'data')).load(SERVER, 'b')?.id).toBe('eb');
      expect(statSync(again.path).mode & 0o777).toBe(0o600);
    } finally {
      remove();
    }
  });
});
