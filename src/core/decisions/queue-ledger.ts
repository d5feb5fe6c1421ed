import { randomInt } from 'node:crypto';
import { emptyLine, type QueueEffects, type QueueLine, type QueueLineRead, type StoredQueueEntry } from '../queue-effects.js';

/**
 * The waiting room's part of a batch's working copy: lines and entries as the batch leaves them,
 * and their effects. Kept apart from `Ledger` so each stays small; `Ledger.queue` is one.
 */
export class QueueLedger {
  private readonly lines = new Map<string, QueueLineRead>();
  private readonly stored = new Map<string, number>();
  private readonly entries = new Map<string, StoredQueueEntry>();

  constructor(
    lines: ReadonlyMap<string, QueueLineRead> | undefined,
    entries: ReadonlyMap<string, StoredQueueEntry> | undefined,
    private readonly effects: QueueEffects,
    readonly random: (max: number) => number = randomInt,
  ) {
    for (const [id, line] of lines ?? []) {
      this.lines.set(id, { ...line });
      this.stored.set(id, line.version);
    }
    for (const [id, entry] of entries ?? []) this.entries.set(id, { ...entry });
  }

  /** The event's line (the plan read or created it for every event whose queue a command touches). */
  line(eventId: string): QueueLineRead {
    return this.lines.get(eventId) ?? { ...emptyLine(eventId), version: 0, admitted: 0, due: 0 };
  }

  setLine(line: QueueLineRead): void {
    this.lines.set(line.eventId, line);
    const expectVersion = this.stored.get(line.eventId) ?? 0;
    const { admitted: _a, due: _d, ...stored } = line;
    this.effects.lines.set(line.eventId, { line: { ...stored, version: expectVersion + 1 }, expectVersion });
  }

  /** Changes only the batch's view of the counts (nothing of the stored line moved). */
  adjust(line: QueueLineRead): void {
    this.lines.set(line.eventId, line);
  }

  entry(id: string): StoredQueueEntry | undefined {
    return this.entries.get(id);
  }

  /** The buyer's entry still in line or holding a pass, if any. */
  activeOf(eventId: string, buyer: string): StoredQueueEntry | undefined {
    for (const e of this.entries.values()) if (e.eventId === eventId && e.buyer === buyer && (e.state === 'waiting' || e.state === 'admitted')) return e;
    return undefined;
  }

  /** Entries of the event without a position, in arrival order. */
  unpositioned(eventId: string): StoredQueueEntry[] {
    return [...this.entries.values()].filter((e) => e.eventId === eventId && e.position === null).sort((a, b) => a.seq - b.seq);
  }

  addEntry(entry: StoredQueueEntry): void {
    this.entries.set(entry.id, entry);
    this.effects.newEntries.push(entry);
  }

  place(entry: StoredQueueEntry, position: number): void {
    this.entries.set(entry.id, { ...entry, position });
    this.effects.positions.push({ id: entry.id, position });
  }

  admit(eventId: string, from: number, to: number, at: string, passExpiresAt: string): void {
    for (const [id, e] of this.entries) {
      if (e.eventId === eventId && e.position !== null && e.position >= from && e.position <= to) this.entries.set(id, { ...e, state: 'admitted', admittedAt: at, passExpiresAt });
    }
    this.effects.admitRanges.push({ eventId, from, to, at, passExpiresAt });
  }

  expirePasses(eventId: string, now: string, count: number): void {
    for (const [id, e] of this.entries) {
      if (e.eventId === eventId && e.state === 'admitted' && e.passExpiresAt !== null && e.passExpiresAt <= now) this.entries.set(id, { ...e, state: 'expired', finishedAt: now });
    }
    this.effects.expiredPasses.push({ eventId, now, count });
  }

  finish(entry: StoredQueueEntry, at: string): void {
    this.entries.set(entry.id, { ...entry, state: 'done', finishedAt: at });
    this.effects.finished.push({ id: entry.id, at });
  }
}

export type { QueueLine };
