import { createHash, timingSafeEqual } from 'node:crypto';
import type { onRequestHookHandler } from 'fastify';
import { Errors } from '../core/errors.js';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * An onRequest hook that admits only `Authorization: Bearer <token>`. Both sides are hashed first so
 * the comparison takes the same time whatever the length or content of the guess.
 */
export function requireAdminToken(token: string): onRequestHookHandler {
  if (token.length < 16) throw new Error('the admin token must be at least 16 characters');
  const expected = digest(token);
  return (request, _reply, done) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match || !timingSafeEqual(digest(match[1]!), expected)) return done(Errors.unauthorized());
    done();
  };
}
