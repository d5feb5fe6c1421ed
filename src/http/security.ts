import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

// A JSON API needs few of helmet's headers; setting these three by hand keeps them off the
// booking path's profile while closing the holes that matter for an API: MIME sniffing,
// framing, and intermediaries caching live availability or someone's tickets.
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/** Security headers on every answer; CORS only for the one origin the operator names. */
export function registerSecurity(app: FastifyInstance, options: { corsOrigin?: string }): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });
  // Off unless asked for: browsers on other origins cannot call the API at all by default.
  if (options.corsOrigin) {
    void app.register(cors, { origin: options.corsOrigin, methods: ['GET', 'POST', 'DELETE'], allowedHeaders: ['content-type', 'authorization', 'idempotency-key'] });
  }
}
