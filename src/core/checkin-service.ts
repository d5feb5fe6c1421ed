import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { refusalError, type Command, type Outcome, type Success } from './commands.js';
import { publicDoor } from './decisions/index.js';
import type { StoredDoor } from './effects.js';
import { BoxofficeError, Errors } from './errors.js';
import type { IdentitySource } from './identity.js';
import type { ServiceObserver } from './observers.js';
import type { Store } from './store.js';
import type { ReadCode, TicketCodes } from './ticket-codes.js';
import type { AttendeeRow, ConflictGroup, Door, DoorListing, DoorSummary, Event, FirstCheckIn, ScanRecord, ScanResult, SyncResult } from './types.js';
import { checkDisplayable, describe, parseId, validateDate } from './validation.js';

/** What the check-in service needs of the ticket service: its lane, its clock, its storage errors. */
export interface CheckinDeps {
  store: Store;
  codes: TicketCodes;
  identity: IdentitySource;
  observers: readonly ServiceObserver[];
  /** One command through the write lane; resolves with its outcome (a refusal is not thrown). */
  submit(command: Command): Promise<Outcome>;
  getEvent(id: string): Promise<Event>;
  withStorage<T>(pending: Promise<T>): Promise<T>;
}

export interface NewDoor extends Door {
  /** Shown once: the database keeps only its SHA-256. */
  token: string;
}

export const SYNC_MAX_SCANS = 1000;
/** An offline scan's time may be this far from the server's, either way. */
export const SCAN_CLOCK_TOLERANCE_MS = 24 * 60 * 60 * 1000;
const NONCE = /^[\x21-\x7e]{16,64}$/;
const TOKEN = /^bod_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const DOOR_NAME_MAX = 60;
/** How long a checked door token is trusted without reading its row (the write re-checks revocation). */
const DOOR_AUTH_CACHE_MS = 2000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/**
 * Check-in at the door (issue 14): doors and their tokens, scans online and offline, and the
 * organiser's views. Rules are in decisions/checkin.ts; this parses input, verifies codes (no
 * storage needed for a forged one) and sends commands through the service's one write lane.
 */
export class CheckinService {
  private readonly doorCache = new LRUCache<string, { door: StoredDoor; until: number }>({ max: 10_000 });
  /**
   * Codes whose signature was verified lately (a verification costs ~0.1–0.2 ms of CPU on the HTTP
   * thread; a ticket is often scanned more than once: at two doors, or again after a refusal). Only
   * genuine codes are kept, and a genuine code stays genuine.
   */
  private readonly genuine = new LRUCache<string, { ticketId: string; eventId: string }>({ max: 50_000 });

  constructor(private readonly deps: CheckinDeps) {}

  async createDoor(eventId: unknown, input: unknown): Promise<NewDoor> {
    const id = parseId(eventId, 'eventId');
    const name = parseDoorName(input);
    const doorId = this.deps.identity.newId();
    const token = `bod_${doorId.replaceAll('-', '')}_${randomBytes(32).toString('base64url')}`;
    const door: StoredDoor = { id: doorId, eventId: id, name, tokenHash: sha256(token), createdAt: this.deps.identity.now().toISOString() };
    const outcome = await this.write<'door'>({ type: 'createDoor', door });
    return { ...outcome.door, token };
  }

  listDoors(eventId: unknown): Promise<DoorSummary[]> {
    const id = parseId(eventId, 'eventId');
    return this.deps.getEvent(id).then(() => this.deps.withStorage(this.deps.store.listDoors(id)));
  }

  async revokeDoor(eventId: unknown, doorId: unknown): Promise<Door> {
    const command: Command = { type: 'revokeDoor', eventId: parseId(eventId, 'eventId'), doorId: parseId(doorId, 'door id') };
    const door = (await this.write<'door'>(command)).door;
    for (const [key, entry] of this.doorCache.entries()) if (entry.door.id === door.id) this.doorCache.delete(key);
    return door;
  }

  async setOfflineCheckIn(eventId: unknown, input: unknown): Promise<Event> {
    const value = (input as { offlineCheckIn?: unknown } | null)?.offlineCheckIn;
    if (typeof value !== 'boolean') throw Errors.invalidRequest(`offlineCheckIn must be true or false, got ${describe(value)}.`);
    return (await this.write<'settings'>({ type: 'checkinSettings', eventId: parseId(eventId, 'eventId'), offlineCheckIn: value })).event;
  }

  /**
   * The door a token names, or undefined for anything that is not a live door token. The token's
   * hash is compared in constant time; a revoked door is returned with `revokedAt` (the caller
   * answers door_revoked).
   */
  async authenticateDoor(token: string): Promise<StoredDoor | undefined> {
    const match = TOKEN.exec(token);
    if (!match) return undefined;
    const presented = sha256(token);
    const cached = this.doorCache.get(presented);
    if (cached && cached.until > Date.now()) return cached.door;
    const hex = match[1]!;
    const doorId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const door = await this.deps.withStorage(this.deps.store.getDoor(doorId));
    if (!door || !timingSafeEqual(Buffer.from(door.tokenHash, 'hex'), Buffer.from(presented, 'hex'))) return undefined;
    if (!door.revokedAt) this.doorCache.set(presented, { door, until: Date.now() + DOOR_AUTH_CACHE_MS });
    return door;
  }

  /** An online scan. Throws the refusal (with `firstCheckIn` for a ticket already admitted). */
  async checkIn(door: Door, eventId: unknown, body: unknown): Promise<{ scan: ScanResult; replayed: boolean }> {
    const id = parseId(eventId, 'eventId');
    const { code, nonce } = parseScan(body, false);
    const outcome = await this.scan(door, id, code, nonce);
    if (!outcome.ok) throw refusalOf(outcome);
    if (outcome.kind !== 'checkin') throw Errors.internal();
    return { scan: outcome.scan, replayed: outcome.replayed === true };
  }

  /** Offline scans uploaded by a door, each recorded (or refused) on its own, in the order given. */
  async sync(door: Door, eventId: unknown, body: unknown): Promise<{ results: SyncResult[] }> {
    const id = parseId(eventId, 'eventId');
    const scans = (body as { scans?: unknown } | null)?.scans;
    if (!Array.isArray(scans) || scans.length < 1 || scans.length > SYNC_MAX_SCANS) {
      throw Errors.invalidRequest(`scans must be a list of 1 to ${SYNC_MAX_SCANS} scans, got ${describe(scans)}.`);
    }
    const parsed = scans.map((s) => parseScan(s, true));
    const event = await this.deps.getEvent(id);
    if (!event.offlineCheckIn) throw Errors.offlineNotAllowed();
    const now = this.deps.identity.now().getTime();
    const results = await Promise.all(
      parsed.map(async ({ code, nonce, scannedAt }): Promise<SyncResult> => {
        const at = Date.parse(scannedAt!);
        if (Math.abs(at - now) > SCAN_CLOCK_TOLERANCE_MS) {
          return { nonce, outcome: 'refused', error: 'invalid_request', message: `scannedAt ${scannedAt} is more than 24 hours from the server's time; check the door's clock.` };
        }
        try {
          const outcome = await this.scan(door, id, code, nonce, scannedAt);
          if (outcome.ok && outcome.kind === 'checkin') {
            const result: SyncResult = { nonce, outcome: outcome.scan.outcome, ticketId: outcome.scan.ticket.id };
            if (outcome.scan.firstCheckIn) result.firstCheckIn = outcome.scan.firstCheckIn;
            if (outcome.replayed) result.replayed = true;
            return result;
          }
          const refused = outcome as Extract<Outcome, { ok: false }>;
          const result: SyncResult = { nonce, outcome: 'refused', error: refused.code, message: refused.message };
          if (refused.firstCheckIn) result.firstCheckIn = refused.firstCheckIn;
          if (refused.replayed) result.replayed = true;
          return result;
        } catch (err) {
          if (!(err instanceof BoxofficeError) || err.status >= 500) throw err;
          return { nonce, outcome: 'refused', error: err.code, message: err.message };
        }
      }),
    );
    return { results };
  }

  /** Everything an offline door needs to admit on its own, and the conflicts that concern it. */
  async doorList(door: Door, eventId: unknown): Promise<DoorListing> {
    const id = parseId(eventId, 'eventId');
    const event = await this.deps.withStorage(this.deps.store.getEvent(id));
    if (!event) throw Errors.eventNotFound(id);
    const [lists, scans] = await Promise.all([this.deps.withStorage(this.deps.store.doorList(id)), this.deps.withStorage(this.deps.store.scans(id, 0))]);
    const conflicts = groupConflicts(scans.conflicts).filter((g) => g.scans.some((s) => s.door.id === door.id));
    return {
      door: { id: door.id, name: door.name },
      eventId: id,
      eventName: event.name,
      publicKey: this.deps.codes.publicKey(id),
      offlineAllowed: event.offlineCheckIn,
      generatedAt: this.deps.identity.now().toISOString(),
      cancelled: lists.cancelled,
      checkedIn: lists.checkedIn,
      conflicts,
    };
  }

  /** Which door a token is and its event: a door screen started with only its token finds its event. */
  async doorSelf(door: Door): Promise<{ door: { id: string; name: string }; eventId: string; eventName: string }> {
    const event = await this.deps.withStorage(this.deps.store.getEvent(door.eventId));
    if (!event) throw Errors.eventNotFound(door.eventId);
    return { door: { id: door.id, name: door.name }, eventId: event.id, eventName: event.name };
  }

  /** The organiser's view: the count, the last 50 scans and every conflict. */
  async report(eventId: unknown): Promise<{ checkedIn: number; recent: ScanRecord[]; conflicts: ConflictGroup[] }> {
    const id = parseId(eventId, 'eventId');
    const event = await this.deps.withStorage(this.deps.store.getEvent(id));
    if (!event) throw Errors.eventNotFound(id);
    const scans = await this.deps.withStorage(this.deps.store.scans(id, 50));
    return { checkedIn: event.checkedInTickets, recent: scans.recent, conflicts: groupConflicts(scans.conflicts) };
  }

  async attendeesCsv(eventId: unknown): Promise<string> {
    const id = parseId(eventId, 'eventId');
    await this.deps.getEvent(id);
    const rows = await this.deps.withStorage(this.deps.store.attendees(id));
    return toCsv(rows);
  }

  private async scan(door: Door, eventId: string, code: string, nonce: string, scannedAt?: string): Promise<Outcome> {
    if (door.eventId !== eventId) throw Errors.wrongEvent('door');
    const known = this.genuine.get(code);
    let read: ReadCode | undefined = known && { ok: true, ...known };
    if (!read) {
      read = this.deps.codes.read(code);
      if (read.ok) this.genuine.set(code, { ticketId: read.ticketId, eventId: read.eventId });
    }
    // Counted as scans, but not as offline scans synced: nothing of them was recorded.
    if (!read.ok) {
      this.report1('invalid_code');
      throw Errors.invalidCode(read.reason);
    }
    if (read.eventId !== eventId) {
      this.report1('wrong_event');
      throw Errors.wrongEvent('ticket');
    }
    const command: Command = { type: 'checkin', eventId, ticketId: read.ticketId, doorId: door.id, key: { key: `scan:${door.id}:${nonce}`, fingerprint: `scan:${read.ticketId}` } };
    if (scannedAt !== undefined) command.scannedAt = scannedAt;
    return this.deps.submit(command);
  }

  private report1(outcome: string): void {
    for (const o of this.deps.observers) o.scanDecided?.(outcome, false);
  }

  private async write<K extends Extract<Outcome, { ok: true }>['kind']>(command: Command): Promise<Success<K>> {
    const outcome = await this.deps.submit(command);
    if (!outcome.ok) throw refusalOf(outcome);
    return outcome as Success<K>;
  }
}

const refusalOf = refusalError;

function parseDoorName(input: unknown): string {
  const raw = (input as { name?: unknown } | null)?.name;
  const name = typeof raw === 'string' ? raw.trim() : undefined;
  if (!name || [...name].length > DOOR_NAME_MAX) throw Errors.invalidRequest(`name must be text of 1 to ${DOOR_NAME_MAX} characters, got ${describe(raw)}.`);
  checkDisplayable(name, 'name');
  return name;
}

function parseScan(input: unknown, offline: boolean): { code: string; nonce: string; scannedAt?: string } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw Errors.invalidRequest('A scan must be a JSON object with code and nonce.');
  const { code, nonce, scannedAt } = input as Record<string, unknown>;
  if (typeof nonce !== 'string' || !NONCE.test(nonce)) throw Errors.invalidRequest(`nonce must be 16 to 64 visible ASCII characters, got ${describe(nonce)}.`);
  if (typeof code !== 'string' || code.length === 0 || code.length > 1000) throw Errors.invalidCode('malformed');
  if (!offline) return { code, nonce };
  let at: string;
  try {
    at = validateDate(scannedAt);
  } catch {
    throw Errors.invalidRequest(`scannedAt must be an RFC 3339 date-time with a time zone, got ${describe(scannedAt)}.`);
  }
  return { code, nonce, scannedAt: at };
}

export function groupConflicts(records: readonly ScanRecord[]): ConflictGroup[] {
  const groups = new Map<string, ConflictGroup>();
  for (const r of records) {
    const group = groups.get(r.ticketId) ?? { ticketId: r.ticketId, scans: [] };
    group.scans.push({ door: r.door, at: r.at, offline: r.offline, outcome: r.outcome });
    groups.set(r.ticketId, group);
  }
  return [...groups.values()];
}

const CSV_HEADER = 'ticket_id,booking_id,booked_at,status,checked_in_at,door,name,email';

/**
 * RFC 4180 (CRLF, quotes doubled), UTF-8 with a byte order mark so a spreadsheet reads accents
 * right. A text a spreadsheet would run as a formula (it starts with = + - @, a tab or a CR: a
 * buyer's name, an email, a door name) is prefixed with ' (OWASP "CSV injection").
 */
export function toCsv(rows: readonly AttendeeRow[]): string {
  const field = (value: string | undefined) => {
    if (value === undefined) return '';
    const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
    return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = rows.map((r) => [r.ticketId, r.bookingId, r.bookedAt, r.status, field(r.checkedInAt), field(r.door), field(r.name), field(r.email)].join(','));
  return `\ufeff${[CSV_HEADER, ...lines].join('\r\n')}\r\n`;
}

export { publicDoor };
