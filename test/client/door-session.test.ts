import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/api-error.js';
import type { DoorList } from '../../src/client/door-client.js';
import { DoorSession, type QueuedScan } from '../../src/client/door-session.js';
import { FakeDoorServer } from '../helpers/fake-door.js';

async function started(server: FakeDoorServer, store?: { saved: QueuedScan[] }) {
  const session = new DoorSession(server, {
    refreshMs: 60_000,
    probeMs: 60_000,
    store: store && { load: () => store.saved, save: (s) => (store.saved = [...s]) },
  });
  await session.start();
  session.stop();
  return session;
}

describe('DoorSession online', () => {
  it('finds its event among the events, admits once, then names the first door', async () => {
    const server = new FakeDoorServer();
    const session = await started(server);
    expect(session.snapshot()).toMatchObject({ eventId: server.eventId, eventName: 'Rock Night', connection: 'online' });
    const t = server.ticket();
    expect(await session.scan(t.code)).toMatchObject({ kind: 'admitted', ticketId: t.id, offline: false });
    expect(await session.scan(t.code)).toMatchObject({ kind: 'already', door: 'North door', offline: false });
    expect(session.snapshot()).toMatchObject({ admittedHere: 1, checkedIn: 1 });
  });

  it('says forged, cancelled and other event for what the server refuses', async () => {
    const server = new FakeDoorServer();
    const session = await started(server);
    const t = server.ticket();
    const altered = t.code.slice(0, -5) + (t.code.endsWith('A') ? 'BAAAA' : 'AAAAA');
    expect((await session.scan(altered)).kind).toBe('forged');
    const c = server.ticket();
    server.cancelled.add(c.id);
    expect((await session.scan(c.code)).kind).toBe('cancelled');
    expect((await session.scan(server.ticket(server.otherEventId).code)).kind).toBe('other_event');
  });

  it('sends a scan again with the same nonce when the answer was lost', async () => {
    const server = new FakeDoorServer();
    const session = await started(server);
    const t = server.ticket();
    const real = server.scan.bind(server);
    let first = true;
    server.scan = async (e, code, nonce) => {
      const answer = await real(e, code, nonce);
      if (first) {
        first = false;
        throw new ApiError({ status: 0, code: 'unreachable', message: 'connection reset' });
      }
      return answer;
    };
    expect(await session.scan(t.code)).toMatchObject({ kind: 'admitted' });
    expect(server.scans).toHaveLength(2);
    expect(server.scans[0]!.nonce).toBe(server.scans[1]!.nonce);
  });
});

describe('DoorSession offline', () => {
  it('verifies locally, refuses a repeat and a forgery, and syncs the queue when the server is back', async () => {
    const server = new FakeDoorServer();
    const store = { saved: [] as QueuedScan[] };
    const session = await started(server, store);
    const before = server.ticket();
    await session.scan(before.code);
    server.down = true;
    const t = server.ticket();
    expect(await session.scan(t.code)).toMatchObject({ kind: 'admitted', offline: true, ticketId: t.id });
    expect(session.snapshot()).toMatchObject({ connection: 'offline', queued: 1 });
    expect(store.saved.map((s) => s.ticketId)).toEqual([t.id]);
    expect(await session.scan(t.code)).toMatchObject({ kind: 'already', offline: true, door: 'this door (offline)' });
    expect(await session.scan(before.code)).toMatchObject({ kind: 'already', offline: true, door: 'North door' });
    const forged = server.ticket();
    const tampered = forged.code.slice(0, 10) + (forged.code[10] === 'A' ? 'B' : 'A') + forged.code.slice(11);
    expect(await session.scan(tampered)).toMatchObject({ kind: 'forged', offline: true });
    expect((await session.scan(server.ticket(server.otherEventId).code)).kind).toBe('other_event');
    expect(server.admitted.has(t.id)).toBe(false);

    server.down = false;
    await session.refresh();
    expect(session.snapshot()).toMatchObject({ connection: 'online', queued: 0 });
    expect(server.admitted.has(t.id)).toBe(true);
    expect(store.saved).toEqual([]);
  });

  it('refuses cancelled tickets from the door list while offline', async () => {
    const server = new FakeDoorServer();
    const c = server.ticket();
    server.cancelled.add(c.id);
    const session = await started(server);
    server.down = true;
    expect(await session.scan(c.code)).toMatchObject({ kind: 'cancelled', offline: true });
  });

  it('shows the conflict the server reports for a ticket another door admitted first', async () => {
    const server = new FakeDoorServer();
    const session = await started(server);
    server.down = true;
    const t = server.ticket();
    expect((await session.scan(t.code)).kind).toBe('admitted');
    server.admitted.set(t.id, { door: 'South door', at: '2026-12-02T20:41:07Z' });
    server.down = false;
    await session.refresh();
    const snap = session.snapshot();
    expect(snap.queued).toBe(0);
    expect(snap.syncNotices).toEqual([expect.objectContaining({ outcome: 'conflict', ticketId: t.id })]);
    expect(snap.syncNotices[0]!.message).toContain('South door');
    expect(snap.conflicts.map((c) => c.ticketId)).toEqual([t.id]);
  });

  it('admits nobody when the organiser does not allow offline, and reuses the nonce on a rescan', async () => {
    const server = new FakeDoorServer();
    server.offlineAllowed = false;
    const session = await started(server);
    server.down = true;
    const t = server.ticket();
    expect(await session.scan(t.code)).toMatchObject({ kind: 'offline_refused' });
    expect(session.snapshot()).toMatchObject({ connection: 'offline_not_allowed', queued: 0, admittedHere: 0 });
    server.down = false;
    expect(await session.scan(t.code)).toMatchObject({ kind: 'admitted' });
    expect(server.scans.length).toBeGreaterThanOrEqual(3);
    expect(new Set(server.scans.map((s) => s.nonce)).size).toBe(1);
  });

  it('keeps the queue across a restart of the door program', async () => {
    const server = new FakeDoorServer();
    const store = { saved: [] as QueuedScan[] };
    const first = await started(server, store);
    server.down = true;
    const t = server.ticket();
    await first.scan(t.code);
    const second = await started(server, store).catch(() => undefined);
    expect(second).toBeUndefined(); // still down: no door list to start with
    server.down = false;
    const third = await started(server, store);
    expect(third.snapshot().queued).toBe(0);
    expect(server.admitted.has(t.id)).toBe(true);
  });
});

describe('DoorSession restarted without network', () => {
  const fileStore = () => {
    const state: { saved: QueuedScan[]; list?: DoorList } = { saved: [] };
    return {
      state,
      store: { load: () => state.saved, save: (s: readonly QueuedScan[]) => (state.saved = [...s]), loadList: () => state.list, saveList: (l: DoorList) => (state.list = l) },
    };
  };

  it('starts offline from the last door list when offline is allowed, and still refuses what it knew', async () => {
    const server = new FakeDoorServer();
    const { state, store } = fileStore();
    const before = server.ticket();
    const first = new DoorSession(server, { store, refreshMs: 60_000, probeMs: 60_000 });
    await first.start();
    first.stop();
    await first.scan(before.code);
    await first.refresh();
    server.down = true;
    const second = new DoorSession(server, { store, refreshMs: 60_000, probeMs: 60_000 });
    await second.start();
    second.stop();
    expect(second.snapshot()).toMatchObject({ connection: 'offline', eventName: 'Rock Night' });
    expect((await second.scan(before.code)).kind).toBe('already');
    const t = server.ticket();
    expect(await second.scan(t.code)).toMatchObject({ kind: 'admitted', offline: true });
    expect(state.saved).toHaveLength(1);
  });

  it('does not start offline when the last list did not allow it', async () => {
    const server = new FakeDoorServer();
    server.offlineAllowed = false;
    const { store } = fileStore();
    const first = new DoorSession(server, { store, refreshMs: 60_000, probeMs: 60_000 });
    await first.start();
    first.stop();
    server.down = true;
    await expect(new DoorSession(server, { store }).start()).rejects.toThrow(/connection refused/);
  });
});
