import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Where new ids, secrets and the current time come from; tests inject their own. */
export interface IdentitySource {
  newId(): string;
  now(): Date;
  /** A booking's cancellation secret: unguessable, URL-safe. */
  newSecret?(): string;
}

export const systemIdentity: IdentitySource = {
  newId: () => crypto.randomUUID(),
  now: () => new Date(),
  newSecret: () => randomBytes(24).toString('base64url'),
};

export function newSecret(identity: IdentitySource): string {
  return identity.newSecret?.() ?? randomBytes(24).toString('base64url');
}

/** Stores keep only this: a leaked database does not let anyone cancel somebody's tickets. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Compares a presented secret with a stored hash in constant time. */
export function secretMatches(presented: string, storedHash: string | undefined): boolean {
  if (!storedHash) return false;
  const a = Buffer.from(hashSecret(presented), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
