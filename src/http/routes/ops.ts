import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { Errors } from '../../core/errors.js';
import type { AdmissionState } from '../admission.js';
import type { StorageStatus } from '../../core/storage-health.js';
import type { ClockStatus } from '../../core/store.js';
import type { Metrics } from '../metrics.js';
import { errorResponses } from '../schemas.js';

/** Liveness and metrics: never refused by the admission limit, so they work during overload. */
export interface Saturation {
  inFlight(): number;
  capacity: number;
}

export interface OpsDeps {
  metrics: Metrics;
  state: AdmissionState;
  saturation: Saturation;
  /** Guards /metrics: sales totals and refusal reasons are the organiser's business. */
  monitoringOnly: onRequestHookHandler;
  /** This node's clock against the shared one, when the storage has one. */
  clock: () => ClockStatus | undefined;
  /** Whether storage works (failing: writes or reads keep failing, or the journal is gone). */
  storage: () => Promise<StorageStatus>;
  /** Serve the benchmark's no-op route (off in production: it is a free ride past every rule). */
  benchRoutes: boolean;
}

export function opsRoutes(app: FastifyInstance, deps: OpsDeps): void {
  const ok = JSON.stringify({ status: 'ok' });
  app.get('/healthz', { config: { alwaysAdmit: true }, schema: { operationId: 'healthz', summary: 'Liveness: 200 ok, 503 while stopping', tags: ['operations'] } }, async (_request, reply) => {
    // A stopping node says so, so a load balancer takes it out of rotation.
    if (deps.state.shuttingDown) throw Errors.shuttingDown();
    return reply.type('application/json; charset=utf-8').send(ok);
  });
  // Readiness for a load balancer: a node whose every admission slot is taken (or that is
  // stopping) says so, so traffic goes elsewhere instead of collecting 429s from it.
  app.get('/readyz', { config: { alwaysAdmit: true }, schema: { operationId: 'readyz', summary: 'Readiness: 200 ready, 503 while saturated, stopping, or storage is failing or unreachable (a cheap database read, at most once a second)', tags: ['operations'] } }, async (_request, reply) => {
    if (deps.state.shuttingDown) throw Errors.shuttingDown();
    const inFlight = deps.saturation.inFlight();
    const { capacity } = deps.saturation;
    // A skewed clock is reported, not refused: deadlines use the shared clock anyway, so the node
    // still serves correctly; the operator is told to fix it.
    const clock = deps.clock();
    // Storage that keeps failing takes the node out of rotation: its bookings would only get 503s.
    const storage = await deps.storage();
    if (storage.status !== 'ok') {
      reply.header('retry-after', '5');
      const what = storage.status === 'unreachable' ? 'The database does not answer this node' : 'Storage is failing on this node';
      return reply.code(503).send({ error: 'storage_unavailable', message: `${what} (${storage.reason}); try another node.`, storage: storage.status, inFlight, maxInFlight: capacity, ...(clock && { clock }) });
    }
    if (inFlight >= capacity) {
      reply.header('retry-after', '1');
      return reply.code(503).send({ error: 'saturated', message: `Every request slot is in use (${inFlight} of ${capacity}); try another node or retry shortly.`, inFlight, maxInFlight: capacity, ...(clock && { clock }) });
    }
    return reply.send({ status: 'ready', storage: storage.status, inFlight, maxInFlight: capacity, ...(clock && { clock }) });
  });
  // The HTTP stack's own ceiling for the benchmark: a JSON POST that goes through admission,
  // parsing and serialisation like a booking, and does nothing else.
  if (deps.benchRoutes) {
    const noop = JSON.stringify({ ok: true });
    app.post('/noop', { schema: { operationId: 'noop', summary: 'Does nothing: the benchmark\'s ceiling (only with --bench-routes)', tags: ['operations'], body: { type: 'object' } } }, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(noop),
    );
  }
  // Still always admitted (a saturated node must be observable), and the token check is a hash and
  // a compare: next to nothing beside rendering the metrics themselves.
  app.get('/metrics', { config: { alwaysAdmit: true }, onRequest: deps.monitoringOnly, schema: { operationId: 'metrics', summary: 'Prometheus metrics (admin or metrics token)', tags: ['operations'], security: [{ bearer: [] }], response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errorResponses(401) } } }, async (_request, reply) => {
    const text = await deps.metrics.text();
    return reply.type(deps.metrics.registry.contentType).send(text);
  });
}
