import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Where new ids and secrets come from; tests may inject their own. */
export interface IdSource {
  newId(): string;
  /** A booking's cancellation secret: unguessable, URL-safe. */
  newSecret?(): string;
}

/** Ids, secrets and the one clock of a service; tests inject their own clock here. */
export interface IdentitySource extends IdSource {
  now(): Date;
}

export const systemIdentity: IdentitySource = {
  newId: () => crypto.randomUUID(),
  now: () => new Date(),
  newSecret: () => randomBytes(24).toString('base64url'),
};

export function newSecret(ids: IdSource): string {
  return ids.newSecret?.() ?? randomBytes(24).toString('base64url');
}

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

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(presented: string, storedHash: string | undefined): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
