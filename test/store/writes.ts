import type { CancelProof, Command, EventCounts, KeyClaim, Outcome } from '../../src/core/commands.js';
import type { ErrorCode } from '../../src/core/errors.js';
import type { Store } from '../../src/core/store.js';
import type { Booking, Event, Hold } from '../../src/core/types.js';

/**
 * The contract suite's view of `Store.write`: each helper sends one batch of commands through the
 * generic write path and reads the plain outcome in the shape the assertions use.
 */
export type Seen =
  | { ok: true; booking: Booking; hold: Hold; counts?: EventCounts; replayed?: boolean; cancelled: number }
  | { ok: false; error: { code: ErrorCode; message: string }; counts?: EventCounts; replayed?: boolean };

export interface Placement {
  eventId: string;
  tickets: number;
  kind?: 'book' | 'hold';
  idempotency?: KeyClaim;
  buyer?: string;
}

function seen(outcome: Outcome): Seen {
  if (!outcome.ok) return { ok: false, error: { code: outcome.code, message: outcome.message }, counts: outcome.counts, replayed: outcome.replayed };
  return outcome as unknown as Seen;
}

const iso = (now: Date | undefined) => (now ?? new Date()).toISOString();

/** Writes as the service sends them; `settings` go with every batch (a smaller buyer budget, say). */
export function writes(store: Store, settings: { buyerBudget?: { givenBack: number; refusals: number } } = {}) {
  const one = async (command: Command, now?: Date) => (await store.write({ now: iso(now), commands: [command], ...settings }))[0]!;
  return {
    async createEvent(event: Event): Promise<void> {
      const outcome = await one({ type: 'createEvent', event });
      if (!outcome.ok) throw new Error(outcome.message);
    },
    async commitBookings(requests: Placement[], now?: Date): Promise<Seen[]> {
      const commands = requests.map(
        (r): Command => ({
          type: r.kind ?? 'book',
          eventId: r.eventId,
          tickets: r.tickets,
          ...(r.idempotency ? { key: r.idempotency } : {}),
          ...(r.buyer ? { buyer: r.buyer } : {}),
        }),
      );
      return (await store.write({ now: iso(now), commands, ...settings })).map(seen);
    },
    confirmHold: async (holdId: string, now: Date) => seen(await one({ type: 'confirm', holdId }, now)),
    releaseHold: async (holdId: string, now: Date) => seen(await one({ type: 'release', holdId }, now)),
    async expireHolds(now: Date): Promise<{ expired: number; counts: EventCounts[] }> {
      const outcome = await one({ type: 'expire' }, now);
      if (!outcome.ok || outcome.kind !== 'expired') throw new Error(`expected an expiry, got ${JSON.stringify(outcome)}`);
      return { expired: outcome.expired, counts: outcome.counts };
    },
    async cancelBooking(bookingId: string, ticketIds: string[] | undefined, now: Date, proof: CancelProof = { admin: true }): Promise<Seen> {
      return seen(await one(ticketIds ? { type: 'cancel', bookingId, ticketIds, proof } : { type: 'cancel', bookingId, proof }, now));
    },
  };
}
