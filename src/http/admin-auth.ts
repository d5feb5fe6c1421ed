import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { Errors } from '../core/errors.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** The credential in `Authorization: Bearer <credential>`, if the header has that form. */
export function bearerCredential(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return match?.[1];
}

export interface AdminAuth {
  /** An onRequest hook that admits only the admin token. */
  adminOnly: onRequestHookHandler;
  /** Whether this request carries the admin token (for routes a buyer may also use). */
  isAdmin(request: FastifyRequest): boolean;
}

/**
 * Admin token checks. Both sides are hashed first so the comparison takes the same time whatever
 * the length or content of the guess.
 */
export function adminAuth(token: string): AdminAuth {
  if (token.length < 16) throw new Error('the admin token must be at least 16 characters');
  const expected = digest(token);
  const isAdmin = (request: FastifyRequest) => {
    const credential = bearerCredential(request);
    return credential !== undefined && timingSafeEqual(digest(credential), expected);
  };
  return {
    isAdmin,
    adminOnly: (request, _reply, done) => done(isAdmin(request) ? undefined : Errors.unauthorized()),
  };
}
