import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { Errors } from '../core/errors.js';
import type { Metrics } from './metrics.js';

/** The routes that take stock: a buyer's request rate on them is limited. */
const STOCK_WRITES = new Set(['POST /reserve', 'POST /events/:id/bookings', 'POST /events/:id/holds']);

export const DEFAULT_BUYER_RATE = 10;

/**
 * A request-rate limit per buyer (the client address, as `--trust-proxy` resolves it) on the routes
 * that take stock, per process: a script that re-holds the moment stock comes back, or hammers a
 * sale, gets 429 with Retry-After beyond `perSecond` requests a second, while reads and other
 * buyers are untouched. 0 turns it off. Counts live in this process (each worker or node has its own).
 */
export function registerBuyerRate(app: FastifyInstance, options: { perSecond: number; metrics: Metrics }): void {
  if (options.perSecond <= 0) return;
  void app.register(rateLimit, {
    global: true,
    max: options.perSecond,
    timeWindow: 1000,
    hook: 'preHandler',
    keyGenerator: (request) => request.ip,
    allowList: (request) => !STOCK_WRITES.has(`${request.method} ${request.routeOptions.url ?? ''}`),
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
