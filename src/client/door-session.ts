import { randomBytes, type KeyObject } from 'node:crypto';
import { ApiError } from './api-error.js';
import { genuine, importPublicKey, parseCode } from './door-codes.js';
import { DoorApiError, type ConflictGroup, type DoorApi, type DoorList, type SyncResult } from './door-client.js';
import type { Connection, DoorSessionOptions, DoorSnapshot, QueuedScan, SyncNotice, Verdict } from './door-session-types.js';

/**
 * A door device's session (issue 14), with no UI in it: the door TUI and the tests drive it alike.
 *
 * Online, every scan goes to the server with a fresh random nonce, repeated with the same nonce when
 * the answer was lost, so a retry can never admit twice. The door list (public key, cancelled and
 * admitted tickets, whether offline is allowed) is downloaded at start and every 30 s. When the
 * server cannot be reached and the organiser allows offline check-in, the door verifies the code's
 * Ed25519 signature itself, refuses cancelled and already-admitted tickets (its own offline
 * admissions included), queues the admission and uploads the queue when the server answers again,
 * keeping what the server reports as conflicts. When offline is not allowed, it admits nobody.
 */

export type { Connection, DoorSessionOptions, DoorSnapshot, QueueStore, QueuedScan, SyncNotice, Verdict } from './door-session-types.js';

const SYNC_CHUNK = 1000;

/** Whether a failure means "no usable answer from the server" (as opposed to a refusal). */
export function unreachable(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504);
}

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

export { parseCode } from './door-codes.js';

export class DoorSession {
  private eventId: string | undefined;
  private list: DoorList | undefined;
  private keys: KeyObject[] = [];
  private readonly checkedIn = new Set<string>();
  private readonly cancelled = new Set<string>();
  /** When and where a ticket was admitted, for "ALREADY IN — 20:41 North door". */
  private readonly admissions = new Map<string, { at?: string; door?: string; offline: boolean }>();
  private queue: QueuedScan[];
  /** A scan whose answer never came while offline was not allowed: the same code reuses its nonce. */
  private readonly unanswered = new Map<string, string>();
  private connection: Connection = 'connecting';
  /** This door's name, once the server has said it (an online answer names the door). */
  doorName: string | undefined;
  private admittedHere = 0;
  private conflicts: ConflictGroup[] = [];
  private syncNotices: SyncNotice[] = [];
  private lastError: string | undefined;
  /** The last refresh got no answer at all (as opposed to a refusal). */
  private noAnswer = false;
  private readonly listeners = new Set<() => void>();
  private chain: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly now: () => Date;
  private readonly newNonce: () => string;

  constructor(
    private readonly api: DoorApi,
    private readonly options: DoorSessionOptions = {},
  ) {
    this.eventId = options.eventId;
    this.now = options.now ?? (() => new Date());
    this.newNonce = options.nonce ?? (() => randomBytes(18).toString('base64url'));
    this.queue = options.store?.load() ?? [];
    for (const q of this.queue) this.admissions.set(q.ticketId, { at: q.scannedAt, offline: true });
  }

  /** Finds the door's event (unless given) and downloads its door list; throws when neither works. */
  async start(): Promise<void> {
    const cached = this.options.store?.loadList?.();
    try {
      if (!this.eventId) this.eventId = await this.discoverEvent();
    } catch (err) {
      if (!unreachable(err) || !cached) throw err;
      this.eventId = cached.eventId;
    }
    await this.refresh();
    // No answer, but the list of the last run, which allows offline: start offline rather than not at
    // all (a refusal such as a revoked door is not "no answer", and still stops the start).
    if (!this.list && this.noAnswer && cached?.eventId === this.eventId && cached.offlineAllowed) {
      this.applyList(cached);
      this.goOffline();
    }
    if (!this.list) throw new Error(this.lastError ?? 'Could not download the door list.');
    this.schedule();
  }

  /** Stops the background refresh. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): DoorSnapshot {
    return {
      connection: this.connection,
      eventId: this.eventId,
      eventName: this.list?.eventName,
      admittedHere: this.admittedHere,
      checkedIn: this.checkedIn.size,
      queued: this.queue.length,
      offlineAllowed: this.list?.offlineAllowed ?? false,
      conflicts: this.conflicts,
      syncNotices: this.syncNotices,
      listAt: this.list?.generatedAt,
      lastError: this.lastError,
    };
  }

  /** One scan, in the order scanned (a scanner may type the next code before the answer came). */
  scan(rawCode: string): Promise<Verdict> {
    const run = this.chain.then(() => this.scanNow(rawCode.trim()));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * Downloads the door list; on success the door is online, and uploads its offline queue. On no
   * answer the door is offline (or offline not allowed). Safe to call at any time.
   */
  refresh(): Promise<void> {
    const run = this.chain.then(() => this.refreshNow());
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async refreshNow(): Promise<void> {
    if (!this.eventId) return;
    try {
      const list = await this.api.doorList(this.eventId);
      this.applyList(list);
      this.options.store?.saveList?.(list);
      this.lastError = undefined;
      this.setConnection('online');
      if (this.queue.length > 0) await this.syncNow();
    } catch (err) {
      this.lastError = errorMessage(err);
      this.noAnswer = unreachable(err);
      if (unreachable(err)) this.goOffline();
      else if (err instanceof ApiError && err.code === 'door_revoked') this.setConnection('revoked');
      this.emit();
    }
  }

  private applyList(list: DoorList): void {
    this.list = list;
    if (list.door?.name) this.doorName = list.door.name;
    this.keys = (list.publicKeys?.length ? list.publicKeys : [list.publicKey]).map(importPublicKey);
    this.cancelled.clear();
    for (const id of list.cancelled) this.cancelled.add(id);
    // Keep this door's own admissions the list may not know yet (queued offline ones).
    const mine = [...this.admissions.keys()];
    this.checkedIn.clear();
    for (const id of list.checkedIn) this.checkedIn.add(id);
    for (const id of mine) this.checkedIn.add(id);
    if (list.conflicts) this.mergeConflicts(list.conflicts);
  }

  private mergeConflicts(groups: readonly ConflictGroup[]): void {
    const byId = new Map(this.conflicts.map((g) => [g.ticketId, g]));
    for (const g of groups) byId.set(g.ticketId, g);
    this.conflicts = [...byId.values()];
  }

  private goOffline(): void {
    this.setConnection(this.list?.offlineAllowed ? 'offline' : 'offline_not_allowed');
  }

  private async scanNow(code: string): Promise<Verdict> {
    if (!this.eventId || !this.list) return { kind: 'error', code: 'not_started', message: 'The door has not downloaded its door list yet.' };
    // Offline: the server stays unasked until the background probe reaches it (a dead network
    // would otherwise cost every person at the door the request timeout).
    if (this.connection === 'offline') return this.admitOffline(code);
    const nonce = this.unanswered.get(code) ?? this.newNonce();
    let lastFailure: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const answer = await this.api.scan(this.eventId, code, nonce);
        this.unanswered.delete(code);
        if (this.connection !== 'online') {
          this.setConnection('online');
          void this.refresh();
        }
        this.admittedHere++;
        this.doorName = answer.door.name;
        this.checkedIn.add(answer.ticket.id);
        this.admissions.set(answer.ticket.id, { at: answer.at, door: answer.door.name, offline: false });
        this.emit();
        return { kind: 'admitted', ticketId: answer.ticket.id, at: answer.at, offline: false };
      } catch (err) {
        if (!unreachable(err)) {
          this.unanswered.delete(code);
          if (this.connection !== 'online' && this.connection !== 'revoked') this.setConnection('online');
          return this.refusal(err, code);
        }
        lastFailure = err;
      }
    }
    this.lastError = errorMessage(lastFailure);
    this.goOffline();
    if (this.list.offlineAllowed) {
      // The same nonce: if the lost request did reach the server, the upload answers as it did.
      return this.admitOffline(code, nonce);
    }
    this.unanswered.set(code, nonce);
    this.emit();
    return { kind: 'offline_refused', message: `The server does not answer (${this.lastError}) and the organiser does not allow offline check-in: nobody can be admitted until it is back.` };
  }

  private refusal(err: unknown, code: string): Verdict {
    const read = parseCode(code);
    const ticketId = read.ok ? read.ticketId : undefined;
    const message = errorMessage(err);
    const apiCode = err instanceof ApiError ? err.code : 'error';
    switch (apiCode) {
      case 'already_checked_in': {
        const first = err instanceof DoorApiError ? err.firstCheckIn : undefined;
        if (ticketId) {
          this.checkedIn.add(ticketId);
          if (first) this.admissions.set(ticketId, { at: first.at, door: first.door.name, offline: false });
        }
        this.emit();
        return { kind: 'already', ticketId: ticketId ?? '', at: first?.at, door: first?.door.name, offline: false, message };
      }
      case 'invalid_code':
        return { kind: 'forged', offline: false, message };
      case 'ticket_cancelled':
        if (ticketId) this.cancelled.add(ticketId);
        return { kind: 'cancelled', ticketId, offline: false, message };
      case 'wrong_event':
        return { kind: 'other_event', offline: false, message };
      case 'ticket_not_found':
        return { kind: 'not_found', offline: false, message };
      case 'door_revoked':
        this.setConnection('revoked');
        return { kind: 'error', code: apiCode, message };
      default:
        return { kind: 'error', code: apiCode, message };
    }
  }

  /** The offline decision: signature, event, cancelled, already admitted; then queue it. */
  private admitOffline(code: string, nonce = this.newNonce()): Verdict {
    const read = parseCode(code);
    if (!read.ok) return { kind: 'forged', offline: true, message: 'Not a boxoffice ticket code (malformed or truncated).' };
    // Another event's key is not in this door's list, so its codes cannot be verified here: refused
    // either way, "other event" is the more useful thing to tell the holder.
    if (read.eventId !== this.eventId) return { kind: 'other_event', offline: true, message: 'This code is for another event.' };
    if (!genuine(read, this.keys)) {
      return { kind: 'forged', offline: true, message: 'The signature does not match: a forged or altered code.' };
    }
    if (this.cancelled.has(read.ticketId)) return { kind: 'cancelled', ticketId: read.ticketId, offline: true, message: 'This ticket was cancelled.' };
    if (this.checkedIn.has(read.ticketId)) {
      const first = this.admissions.get(read.ticketId);
      const where = first?.door ?? (first?.offline ? 'this door (offline)' : undefined);
      return {
        kind: 'already',
        ticketId: read.ticketId,
        at: first?.at,
        door: where,
        offline: true,
        message: `Ticket ${read.ticketId.slice(0, 8)}… was already admitted${where ? ` through ${where}` : ''} (door list of ${this.list?.generatedAt ?? 'start'}).`,
      };
    }
    const scannedAt = this.now().toISOString();
    this.queue.push({ code, nonce, scannedAt, ticketId: read.ticketId });
    this.options.store?.save(this.queue);
    this.checkedIn.add(read.ticketId);
    this.admissions.set(read.ticketId, { at: scannedAt, offline: true });
    this.admittedHere++;
    this.emit();
    return { kind: 'admitted', ticketId: read.ticketId, at: scannedAt, offline: true };
  }

  /** Uploads the queue in chunks; each answered scan leaves the queue, conflicts and refusals are kept to show. */
  private async syncNow(): Promise<void> {
    const eventId = this.eventId!;
    while (this.queue.length > 0) {
      const chunk = this.queue.slice(0, SYNC_CHUNK);
      let results: SyncResult[];
      try {
        results = (await this.api.sync(eventId, chunk.map(({ code, nonce, scannedAt }) => ({ code, nonce, scannedAt })))).results;
      } catch (err) {
        this.lastError = `Could not upload ${this.queue.length} offline scan${this.queue.length === 1 ? '' : 's'}: ${errorMessage(err)}`;
        if (unreachable(err)) this.goOffline();
        this.emit();
        return;
      }
      const answered = new Set<string>();
      for (const r of results) {
        answered.add(r.nonce);
        const scan = chunk.find((s) => s.nonce === r.nonce);
        const ticketId = r.ticketId ?? scan?.ticketId;
        if (r.outcome === 'conflict') {
          const first = r.firstCheckIn;
          this.syncNotices.push({ ticketId, nonce: r.nonce, outcome: 'conflict', firstCheckIn: first, message: `Ticket ${ticketId?.slice(0, 8) ?? '?'}… was also admitted${first ? ` at ${first.door.name} (${first.at})` : ''}: a conflict, reported to the organiser.` });
          if (ticketId && first) {
            this.mergeConflicts([{ ticketId, scans: [{ door: first.door, at: first.at, offline: false, outcome: 'admitted' }, { door: { id: '', name: 'this door' }, at: scan?.scannedAt ?? '', offline: true, outcome: 'conflict' }] }]);
          }
        } else if (r.outcome === 'refused') {
          this.syncNotices.push({ ticketId, nonce: r.nonce, outcome: 'refused', message: `Offline scan of ${ticketId?.slice(0, 8) ?? '?'}… refused by the server: ${r.message ?? r.error ?? 'refused'}.` });
        }
      }
      // A scan the server did not mention stays queued (it will be sent again with its nonce).
      this.queue = this.queue.filter((s) => !answered.has(s.nonce));
      this.options.store?.save(this.queue);
      this.emit();
      if (answered.size === 0) return;
    }
  }

  private async discoverEvent(): Promise<string> {
    if (this.api.doorSelf) {
      try {
        const self = await this.api.doorSelf();
        this.doorName = self.door.name;
        this.applyList(await this.api.doorList(self.eventId));
        return self.eventId;
      } catch (err) {
        // A server from before `GET /doors/self` answers 404 (or 405): ask each event's door list instead.
        if (!(err instanceof ApiError && (err.status === 404 || err.status === 405))) throw err;
      }
    }
    const events = await this.api.listEvents();
    for (const event of events) {
      try {
        const list = await this.api.doorList(event.id);
        this.applyList(list);
        return event.id;
      } catch (err) {
        if (err instanceof ApiError && (err.code === 'wrong_event' || err.status === 404)) continue;
        throw err;
      }
    }
    throw new Error('No event on this server accepts this door token (was the door deleted, or the event removed?).');
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.connection === 'online' ? (this.options.refreshMs ?? 30_000) : (this.options.probeMs ?? 5_000);
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, delay);
    this.timer.unref?.();
  }

  private setConnection(next: Connection): void {
    const wasOnline = this.connection === 'online';
    if (this.connection === next) return;
    this.connection = next;
    this.emit();
    // Going offline switches the timer to the short probe interval.
    if (wasOnline && next !== 'online' && this.timer && !this.stopped) {
      clearTimeout(this.timer);
      this.schedule();
    }
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}
