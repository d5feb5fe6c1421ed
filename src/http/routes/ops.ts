import type { FastifyInstance } from 'fastify';
import { Errors } from '../../core/errors.js';
import type { AdmissionState } from '../admission.js';
import type { Metrics } from '../metrics.js';

/** Liveness and metrics: never refused by the admission limit, so they work during overload. */
export interface Saturation {
  inFlight(): number;
  capacity: number;
}

export function opsRoutes(app: FastifyInstance, deps: { metrics: Metrics; state: AdmissionState; saturation: Saturation }): void {
  const ok = JSON.stringify({ status: 'ok' });
  app.get('/healthz', { config: { alwaysAdmit: true }, schema: { summary: 'Liveness: 200 ok, 503 while stopping', tags: ['operations'] } }, async (_request, reply) => {
    // A stopping node says so, so a load balancer takes it out of rotation.
    if (deps.state.shuttingDown) throw Errors.shuttingDown();
    return reply.type('application/json; charset=utf-8').send(ok);
  });
  // Readiness for a load balancer: a node whose every admission slot is taken (or that is
  // stopping) says so, so traffic goes elsewhere instead of collecting 429s from it.
  app.get('/readyz', { config: { alwaysAdmit: true }, schema: { summary: 'Readiness: 200 ready, 503 while saturated or stopping', tags: ['operations'] } }, async (_request, reply) => {
    if (deps.state.shuttingDown) throw Errors.shuttingDown();
    const inFlight = deps.saturation.inFlight();
    const { capacity } = deps.saturation;
    if (inFlight >= capacity) {
      reply.header('retry-after', '1');
      return reply.code(503).send({ error: 'saturated', message: `Every request slot is in use (${inFlight} of ${capacity}); try another node or retry shortly.`, inFlight, maxInFlight: capacity });
    }
    return reply.send({ status: 'ready', inFlight, maxInFlight: capacity });
  });
  // The HTTP stack's own ceiling for the benchmark: a JSON POST that goes through admission,
  // parsing and serialisation like a booking, and does nothing else.
  const noop = JSON.stringify({ ok: true });
  app.post('/noop', { schema: { summary: 'Does nothing: the benchmark\'s ceiling', tags: ['operations'], body: { type: 'object' } } }, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(noop),
  );
  app.get('/metrics', { config: { alwaysAdmit: true }, schema: { summary: 'Prometheus metrics', tags: ['operations'] } }, async (_request, reply) => {
    const text = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
