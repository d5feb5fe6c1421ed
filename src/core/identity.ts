import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Booking secrets are derived, never stored: secret = base64url(HMAC-SHA256(key, "booking-secret:" + id)).
 * The database keeps only the secret's hash (as before), so a copy of it lets nobody cancel; a
 * replay (an idempotent retry, a repeated confirm) recomputes the secret from the booking id
 * instead of reading it back from a table. The key lives outside the database (src/server/secret-key.ts).
 */
export interface BookingSecrets {
  /** The secret of a new booking (made with the current key). */
  secretFor(bookingId: string): string;
  /**
   * Recomputes a booking's secret with the current key, or a previous one, if one of them yields
   * `secretHash`; undefined otherwise (a booking made before secrets were derived, or with a key
   * no longer known): a replay then answers the booking without its secret rather than a wrong one.
   */
  recover(bookingId: string, secretHash: string | undefined): string | undefined;
}

/** Where new ids and booking secrets come from; tests may inject their own. */
export interface IdSource {
  newId(): string;
  /** Absent: a key of this process only (fine for memory stores; replays after a restart lose the secret). */
  secrets?: BookingSecrets;
  /** A uniform integer in [0, max): the waiting room's shuffle. Absent: `crypto.randomInt` (tests inject their own). */
  randomInt?(max: number): number;
}

/** Ids, secrets and the one clock of a service; tests inject their own clock here. */
export interface IdentitySource extends IdSource {
  now(): Date;
}

/** Shortest server key accepted: 256 bits. */
export const MIN_SECRET_KEY_BYTES = 32;

/** Secrets derived from `keys[0]`; the others (previous keys) are only tried when recovering. */
export function keyedSecrets(keys: readonly Uint8Array[]): BookingSecrets {
  if (keys.length === 0 || keys.some((k) => k.length < MIN_SECRET_KEY_BYTES)) throw new Error(`a booking secret key must be at least ${MIN_SECRET_KEY_BYTES} bytes`);
  const derive = (key: Uint8Array, bookingId: string) => createHmac('sha256', key).update(`booking-secret:${bookingId}`).digest('base64url');
  return {
    secretFor: (bookingId) => derive(keys[0]!, bookingId),
    recover(bookingId, secretHash) {
      if (!secretHash) return undefined;
      for (const key of keys) {
        const secret = derive(key, bookingId);
        if (secretMatches(secret, secretHash)) return secret;
      }
      return undefined;
    },
  };
}

/**
 * The key of this process when none is given: a store opened without one still works, within this
 * process (SQLite hands it to its writer thread). After a restart such replays answer without the
 * secret; the server always passes its own key.
 */
export const PROCESS_SECRET_KEY: Uint8Array = randomBytes(MIN_SECRET_KEY_BYTES);
const processSecrets = keyedSecrets([PROCESS_SECRET_KEY]);

export function secretsOf(ids: IdSource): BookingSecrets {
  return ids.secrets ?? processSecrets;
}

export const systemIdentity: IdentitySource = {
  newId: () => crypto.randomUUID(),
  now: () => new Date(),
};

/** Stores keep only this: a leaked database does not let anyone cancel somebody's tickets. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * The key a buyer's limits are counted under: a hash of who asks (the client address), so the
 * database holds no addresses. Short: it is a counter's key, not a secret.
 */
export function buyerOf(address: string): string {
  return createHash('sha256').update(address).digest('base64url').slice(0, 22);
}

/**
 * What an Idempotency-Key is stored under: a hash of the buyer and the key, so one client's key
 * means nothing for another (a repeat from another address is a new request, and a `422` only
 * ever speaks of the asker's own keys), and the database holds no client key.
 */
export function scopedKey(key: string, buyer: string | undefined): string {
  return `k1:${createHash('sha256').update(`${buyer ?? ''}\n${key}`).digest('base64url')}`;
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(presented: string, storedHash: string | undefined): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
