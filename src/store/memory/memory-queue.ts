import { randomBytes } from 'node:crypto';
import { emptyLine, type QueueEffects, type QueueEntryQuery, type QueueLine, type QueueLineRead, type StoredQueueEntry } from '../../core/queue-effects.js';
import type { QueueCounts } from '../../core/store.js';

/** The waiting room's rows in memory (the memory store's part; same guards as the SQL adapters). */
export class MemoryQueue {
  private readonly lineRows = new Map<string, QueueLine>();
  private readonly entryRows = new Map<string, StoredQueueEntry>();
  private readonly keys = new Map<string, string>();

  /** The line's row alone, without creating it (a read). */
  line(eventId: string): QueueLine | undefined {
    const row = this.lineRows.get(eventId);
    return row && { ...row };
  }

  lines(eventIds: string[], now: string): QueueLineRead[] {
    return eventIds.map((eventId) => {
      if (!this.lineRows.has(eventId)) this.lineRows.set(eventId, emptyLine(eventId));
      let admitted = 0;
      let due = 0;
      for (const e of this.entryRows.values()) {
        if (e.eventId !== eventId || e.state !== 'admitted') continue;
        admitted++;
        if (e.passExpiresAt! <= now) due++;
      }
      return { ...this.lineRows.get(eventId)!, admitted, due };
    });
  }

  entries(query: QueueEntryQuery): StoredQueueEntry[] {
    const ids = new Set(query.ids);
    const buyers = new Set(query.buyers.map((b) => `${b.eventId} ${b.buyer}`));
    const unpositioned = new Set(query.unpositioned);
    return [...this.entryRows.values()]
      .filter((e) => ids.has(e.id) || (buyers.has(`${e.eventId} ${e.buyer}`) && (e.state === 'waiting' || e.state === 'admitted')) || (unpositioned.has(e.eventId) && e.position === null))
      .map((e) => ({ ...e }));
  }

  /** Every check runs before the memory store changes anything. */
  check(q: QueueEffects): void {
    for (const { line, expectVersion } of q.lines.values()) {
      if ((this.lineRows.get(line.eventId)?.version ?? 0) !== expectVersion) throw new Error(`the line of event ${line.eventId} changed under this batch`);
    }
    const active = new Set([...this.entryRows.values()].filter((e) => e.state === 'waiting' || e.state === 'admitted').map((e) => `${e.eventId} ${e.buyer}`));
    for (const e of q.newEntries) {
      if (this.entryRows.has(e.id) || active.has(`${e.eventId} ${e.buyer}`)) throw new Error(`entry ${e.id} would be a second active entry`);
      active.add(`${e.eventId} ${e.buyer}`);
    }
    for (const p of q.positions) if (this.entryRows.get(p.id)?.position !== null) throw new Error(`entry ${p.id} already has a position`);
    for (const f of q.finished) {
      const e = this.entryRows.get(f.id);
      const admittedNow = e && q.admitRanges.some((r) => r.eventId === e.eventId && e.position !== null && e.position >= r.from && e.position <= r.to);
      if (e?.state !== 'admitted' && !admittedNow) throw new Error(`entry ${f.id} holds no pass`);
    }
  }

  apply(q: QueueEffects): void {
    for (const { line } of q.lines.values()) this.lineRows.set(line.eventId, { ...line });
    for (const e of q.newEntries) this.entryRows.set(e.id, { ...e });
    for (const p of q.positions) this.entryRows.get(p.id)!.position = p.position;
    for (const r of q.admitRanges) {
      let n = 0;
      for (const e of this.entryRows.values()) {
        if (e.eventId === r.eventId && e.position !== null && e.position >= r.from && e.position <= r.to && e.state === 'waiting') {
          Object.assign(e, { state: 'admitted', admittedAt: r.at, passExpiresAt: r.passExpiresAt });
          n++;
        }
      }
      if (n !== r.to - r.from + 1) throw new Error(`admitted ${n} of positions ${r.from}..${r.to}`);
    }
    for (const x of q.expiredPasses) {
      let n = 0;
      for (const e of this.entryRows.values()) {
        if (e.eventId === x.eventId && e.state === 'admitted' && e.passExpiresAt! <= x.now) {
          Object.assign(e, { state: 'expired', finishedAt: x.now });
          n++;
        }
      }
      if (n !== x.count) throw new Error(`expired ${n} passes, expected ${x.count}`);
    }
    for (const f of q.finished) {
      const e = this.entryRows.get(f.id)!;
      if (e.state !== 'admitted') throw new Error(`entry ${f.id} holds no pass`);
      Object.assign(e, { state: 'done', finishedAt: f.at });
    }
  }

  entry(id: string): StoredQueueEntry | undefined {
    const e = this.entryRows.get(id);
    return e && { ...e };
  }

  summary(eventId: string, now: string): QueueCounts | undefined {
    const line = this.lineRows.get(eventId);
    if (!line) return undefined;
    const counts = { waiting: 0, admitted: 0, due: 0, done: 0, expired: 0 };
    for (const e of this.entryRows.values()) {
      if (e.eventId !== eventId) continue;
      counts[e.state]++;
      if (e.state === 'admitted' && e.passExpiresAt! <= now) counts.due++;
    }
    return { ...line, ...counts };
  }

  sharedKey(name: string): string {
    if (!this.keys.has(name)) this.keys.set(name, randomBytes(32).toString('hex'));
    return this.keys.get(name)!;
  }
}
