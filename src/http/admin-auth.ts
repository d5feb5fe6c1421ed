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
  /** An onRequest hook that admits the admin token or the metrics token (monitoring routes). */
  monitoringOnly: onRequestHookHandler;
}

/**
 * Admin token checks. Both sides are hashed first so the comparison takes the same time whatever
 * the length or content of the guess.
 */
export function adminAuth(token: string, metricsToken?: string): AdminAuth {
  if (token.length < 16) throw new Error('the admin token must be at least 16 characters');
  const admin = digest(token);
  const metrics = metricsToken === undefined ? undefined : digest(metricsToken);
  const presented = (request: FastifyRequest) => {
    const credential = bearerCredential(request);
    return credential === undefined ? undefined : digest(credential);
  };
  const isAdmin = (request: FastifyRequest) => {
    const given = presented(request);
    return given !== undefined && timingSafeEqual(given, admin);
  };
  const mayMonitor = (request: FastifyRequest) => {
    const given = presented(request);
    if (given === undefined) return false;
    // Both comparisons always run, so the time taken does not tell which token was close.
    const isAdminToken = timingSafeEqual(given, admin);
    const isMetricsToken = metrics !== undefined && timingSafeEqual(given, metrics);
    return isAdminToken || isMetricsToken;
  };
  return {
    isAdmin,
    adminOnly: (request, _reply, done) => done(isAdmin(request) ? undefined : Errors.unauthorized()),
    monitoringOnly: (request, _reply, done) =>
      done(
        mayMonitor(request)
          ? undefined
          : Errors.unauthorized('Metrics need Authorization: Bearer <token>, with the admin token or BOXOFFICE_METRICS_TOKEN.'),
      ),
  };
}
