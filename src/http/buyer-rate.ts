import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../core/errors.js';
import type { Metrics } from './metrics.js';

/**
 * Every route a buyer writes through: taking stock (book, hold), and confirming, releasing and
 * cancelling, since each of those also writes rows (a confirmation is a booking; a release or a
 * cancellation is a change that stays on disk) and a loop of hold-release or book-cancel would
 * otherwise run at the speed of the writer.
 */
const BUYER_WRITES = new Set([
  'POST /reserve',
  'POST /events/:id/bookings',
  'POST /events/:id/holds',
  'POST /holds/:id/confirm',
  'DELETE /holds/:id',
  'DELETE /bookings/:id',
]);

export const DEFAULT_BUYER_RATE = 10;

/**
 * A request-rate limit per buyer (the client address, as `--trust-proxy` resolves it) on the routes
 * a buyer writes through, per process: a script that re-holds the moment stock comes back, hammers a
 * sale, or churns bookings gets 429 with Retry-After beyond `perSecond` requests a second, while
 * reads and other buyers are untouched. The admin (its token) is not a buyer and is not limited.
 * 0 turns it off. Counts live in this process (each worker or node has its own).
 */
export function registerBuyerRate(app: FastifyInstance, options: { perSecond: number; metrics: Metrics; isAdmin: (request: FastifyRequest) => boolean }): void {
  if (options.perSecond <= 0) return;
  void app.register(rateLimit, {
    global: true,
    max: options.perSecond,
    timeWindow: 1000,
    hook: 'preHandler',
    keyGenerator: (request) => request.ip,
    allowList: (request) => !BUYER_WRITES.has(`${request.method} ${request.routeOptions.url ?? ''}`) || options.isAdmin(request),
    // Hundreds of thousands of addresses at most, each a few bytes: bounded like the other per-address maps.
    cache: 100_000,
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (_request, context) => {
      options.metrics.refused.inc({ reason: 'buyer_rate' });
      const error = Errors.buyerRateLimited(options.perSecond, Math.max(1, Math.ceil(context.ttl / 1000)));
      // The plugin throws what this returns; the error handler answers it in the API's shape.
      return error;
    },
  });
}
