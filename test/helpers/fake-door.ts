import { randomUUID } from 'node:crypto';
import { ApiError } from '../../src/client/api-error.js';
import { DoorApiError, type AdmittedScan, type DoorApi, type DoorList, type OfflineScan, type SyncResult } from '../../src/client/door-client.js';
import type { Event } from '../../src/client/types.js';
import { ticketCodes } from '../../src/core/ticket-codes.js';

/** A server in memory that answers the door routes as the API contract says. */
export class FakeDoorServer implements DoorApi {
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
      door: { id: 'fake-door', name: 'Fake door' },
      publicKey: this.codes.publicKey(eventId),
      publicKeys: [this.codes.publicKey(eventId)],
      offlineAllowed: this.offlineAllowed,
      generatedAt: new Date().toISOString(),
      cancelled: [...this.cancelled],
      checkedIn: [...this.admitted.keys()],
      conflicts: [],
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
    // Every attempt is recorded, also those that never reach the server: tests compare their nonces.
    this.scans.push({ code, nonce });
    this.check();
    const answer = this.nonces.get(nonce) ?? this.decide(code, new Date().toISOString());
    this.nonces.set(nonce, answer);
    if (answer instanceof Error) throw answer;
    return answer as AdmittedScan;
  }
  async sync(_eventId: string, scans: OfflineScan[]): Promise<{ results: SyncResult[] }> {
    this.check();
    if (!this.offlineAllowed) throw new DoorApiError({ status: 403, code: 'offline_not_allowed', message: 'Offline check-in is not allowed for this event.' }, undefined);
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

