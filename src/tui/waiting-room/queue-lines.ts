import type { QueueUpdate } from '../../client/types.js';

/**
 * The latest `queue` numbers per event from the live stream (coalesced by the server, so applying
 * one is O(changed events)). Screens subscribe and re-render.
 */
export class QueueLines {
  private readonly lines = new Map<string, QueueUpdate>();
  private readonly listeners = new Set<() => void>();

  apply(queues: readonly QueueUpdate[]): void {
    for (const q of queues) this.lines.set(q.eventId, q);
    for (const listener of this.listeners) listener();
  }

  get(eventId: string): QueueUpdate | undefined {
    return this.lines.get(eventId);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
