import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/client/api-error.js';
import { DoorApiError, type AdmittedScan, type DoorApi, type DoorList, type OfflineScan, type SyncResult } from '../../src/client/door-client.js';
import { DoorSession, type QueuedScan } from '../../src/client/door-session.js';
import type { Event } from '../../src/client/types.js';
import { ticketCodes } from '../../src/core/ticket-codes.js';

/** A server in memory that answers the door routes as the API contract says. */
class FakeDoorServer implements DoorApi {
  readonly baseUrl = 'http://fake';
  readonly codes = ticketCodes(new Uint8Array(32).fill(7));
  readonly eventId = randomUUID();
  readonly otherEventId = randomUUID();
  down = false;
  offlineAllowed = true;
  readonly admitted = new Map<string, { door: string; at: string }>();
  readonly cancelled = new Set<string>();
  readonly nonces = new Map<string, unknown>();
  scans: Array<{ code: string; nonce: string }> = [];
  synced: OfflineScan[][] = [];
  constructor(readonly doorName = 'North door') {}

  private check() {
    if (this.down) throw new ApiError({ status: 0, code: 'unreachable', message: 'Cannot reach boxoffice at http://fake: connection refused' });
  }
  ticket(eventId = this.eventId) {
    const id = randomUUID();
    return { id, code: this.codes.codeFor(id, eventId) };
  }
  async listEvents(): Promise<Event[]> {
    this.check();
    return [{ id: this.otherEventId } as Event, { id: this.eventId } as Event];
  }
  async doorList(eventId: string): Promise<DoorList> {
    this.check();
    if (eventId !== this.eventId) throw new DoorApiError({ status: 403, code: 'wrong_event', message: 'other event' }, undefined);
    return {
      eventId,
      eventName: 'Rock Night',
      publicKey: this.codes.publicKey(eventId),
      offlineAllowed: this.offlineAllowed,
      generatedAt: new Date().toISOString(),
      cancelled: [...this.cancelled],
      checkedIn: [...this.admitted.keys()],
    };
  }
  private decide(code: string, at: string): AdmittedScan | DoorApiError {
    const read = this.codes.read(code);
    if (!read.ok) return new DoorApiError({ status: 400, code: 'invalid_code', message: 'forged' }, undefined);
    if (read.eventId !== this.eventId) return new DoorApiError({ status: 403, code: 'wrong_event', message: 'other event' }, undefined);
    if (this.cancelled.has(read.ticketId)) return new DoorApiError({ status: 410, code: 'ticket_cancelled', message: 'cancelled' }, undefined);
    const first = this.admitted.get(read.ticketId);
    if (first) {
      const firstCheckIn = { door: { id: 'd', name: first.door }, at: first.at };
      return new DoorApiError({ status: 409, code: 'already_checked_in', message: `already entered through ${first.door}` }, { firstCheckIn });
    }
    this.admitted.set(read.ticketId, { door: this.doorName, at });
    return { outcome: 'admitted', ticket: { id: read.ticketId, eventId: this.eventId, bookingId: 'b' }, door: { id: 'd', name: this.doorName }, at };
  }
  async scan(_eventId: string, code: string, nonce: string): Promise<AdmittedScan> {
    this.check();
    this.scans.push({ code, nonce });
    const answer = this.nonces.get(nonce) ?? this.decide(code, new Date().toISOString());
    this.nonces.set(nonce, answer);
    if (answer instanceof Error) throw answer;
    return answer as AdmittedScan;
  }
  async sync(_eventId: string, scans: OfflineScan[]): Promise<{ results: SyncResult[] }> {
    this.check();
    this.synced.push(scans);
    return {
      results: scans.map((s) => {
        const read = this.codes.read(s.code);
        const first = read.ok ? this.admitted.get(read.ticketId) : undefined;
        if (read.ok && first && !this.nonces.has(s.nonce)) {
          return { nonce: s.nonce, outcome: 'conflict', ticketId: read.ticketId, firstCheckIn: { door: { id: 'd2', name: first.door }, at: first.at } };
        }
        const answer = this.nonces.get(s.nonce) ?? this.decide(s.code, s.scannedAt);
        this.nonces.set(s.nonce, answer);
        return answer instanceof DoorApiError ? { nonce: s.nonce, outcome: 'refused', error: answer.code } : { nonce: s.nonce, outcome: 'admitted', ticketId: (answer as AdmittedScan).ticket.id };
      }),
    };
  }
}

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
