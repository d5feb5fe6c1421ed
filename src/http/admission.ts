import type { FastifyInstance } from 'fastify';
import { Errors } from '../core/errors.js';
import type { Metrics } from './metrics.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Health and metrics routes are answered even when the server is saturated or stopping. */
    alwaysAdmit?: boolean;
  }
}

export interface AdmissionState {
  shuttingDown: boolean;
}

/**
 * Bounded in-flight work: at most `maxInFlight` requests are in service at once; any request beyond
 * that is answered 429 at once instead of queueing, so a spike costs a refusal, not unbounded memory.
 * The slot is held from the first byte of headers until the response has gone (or the socket died),
 * so slowly uploaded bodies count too.
 */
export function registerAdmission(
  app: FastifyInstance,
  options: { maxInFlight: number; retryAfterSeconds: number; metrics: Metrics; state: AdmissionState },
): { inFlight: () => number } {
  const { maxInFlight, metrics, state } = options;
  const retryAfter = String(options.retryAfterSeconds);
  let inFlight = 0;
  const release = () => {
    inFlight--;
    metrics.inFlight.dec();
  };
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config.alwaysAdmit) return done();
    if (state.shuttingDown) {
      metrics.refused.inc({ reason: 'shutting_down' });
      reply.header('connection', 'close');
      return done(Errors.shuttingDown());
    }
    if (inFlight >= maxInFlight) {
      metrics.refused.inc({ reason: 'too_many_requests' });
      reply.header('retry-after', retryAfter);
      return done(Errors.tooManyRequests());
    }
    inFlight++;
    metrics.inFlight.inc();
    reply.raw.once('close', release);
    done();
  });
  // While stopping, every answer tells the client to open its next request elsewhere.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  return { inFlight: () => inFlight };
}
