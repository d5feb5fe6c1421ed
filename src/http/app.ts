import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { TicketService } from '../core/ticket-service.js';
import { adminAuth } from './admin-auth.js';
import { registerAdmission, type AdmissionState } from './admission.js';
import { registerCrossSiteCheck } from './cross-site.js';
import { DEFAULT_BUYER_RATE, registerBuyerRate } from './buyer-rate.js';
import { guardConnections } from './connection-guard.js';
import { answerClientError, answerConnect, answerExpectation, answerFrameworkError, formatSchemaErrors, registerErrorHandling } from './errors.js';
import { Metrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { checkinRoutes } from './routes/checkins.js';
import { doorAuth } from './door-auth.js';
import { eventRoutes } from './routes/events.js';
import { holdRoutes } from './routes/holds.js';
import { legacyRoutes } from './routes/legacy.js';
import { lookupRoutes } from './routes/lookups.js';
import { opsRoutes } from './routes/ops.js';
import { queueRoutes } from './routes/queue.js';
import { DEFAULT_MAX_STREAMS, DEFAULT_MAX_STREAMS_PER_CLIENT, DEFAULT_STREAM_IDLE_TIMEOUT_MS, MAX_BUFFERED_BYTES, streamRoutes } from './routes/stream.js';
import { ListSnapshot } from './list-snapshot.js';
import { webRoutes } from './routes/web.js';
import { sharedSchemas } from './schemas.js';
import { registerSecurity } from './security.js';
import { proxyTrust, type TrustProxy } from './trust-proxy.js';

export interface AppConfig {
  adminToken: string;
  /** A second credential that may read /metrics and nothing else. */
  metricsToken?: string;
  /** Serve POST /noop, the benchmark's ceiling (default off). */
  benchRoutes?: boolean;
  /** Requests in service at once before answering 429 (default 512). */
  maxInFlight?: number;
  /** Largest accepted request body in bytes (default 16 KiB). */
  bodyLimit?: number;
  /** Seconds a refused client is told to wait (default 1). */
  retryAfterSeconds?: number;
  /** Requests in service at once from one client address (default: an eighth of maxInFlight, at least 8). */
  maxInFlightPerClient?: number;
  /** Open sockets in all (default 10,000); a socket beyond it gets 429 and is closed. */
  maxConnections?: number;
  /** Open sockets per client address (default 256; 0 turns it off; not applied to a trusted proxy's address). */
  maxConnectionsPerClient?: number;
  /** Request bodies still arriving at once from one client address before 429 (default 16). */
  maxUploadsPerClient?: number;
  /** All request headers must arrive within this many ms (default 10 s): slow-header clients are cut off. */
  headersTimeoutMs?: number;
  /** A whole request, body included, must arrive within this many ms (default 10 s), else 408. */
  requestTimeoutMs?: number;
  /** Booking and hold requests a second from one client address (default 10); 0 turns the limit off. */
  buyerRatePerSecond?: number;
  /** Which proxies' X-Forwarded-For entries to believe (trust-proxy.ts); off by default. */
  trustProxy?: TrustProxy;
  /** Live event streams at once (default 1,000). */
  maxStreams?: number;
  /** Live event streams at once per client address (default 8; 0 turns it off). */
  maxStreamsPerClient?: number;
  /** A stream subscriber whose unread bytes stay above the cap this long is dropped (default 30 s). */
  streamIdleTimeoutMs?: number;
  /** Unread bytes a stream subscriber may pile up beyond its snapshot before it is dropped (default 1 MiB). */
  streamBufferBytes?: number;
  /** The one browser origin allowed to call the API cross-origin (and to write from another site); CORS is off without it. */
  corsOrigin?: string;
  /** The version shown in the OpenAPI document. */
  version?: string;
  /** Collect Node process metrics (default true; tests building many apps turn it off). */
  processMetrics?: boolean;
}

export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const DEFAULT_MAX_CONNECTIONS_PER_CLIENT = 256;
export const DEFAULT_MAX_UPLOADS_PER_CLIENT = 16;

export interface BoxofficeApp {
  app: FastifyInstance;
  metrics: Metrics;
  /** From now on, new requests get 503 shutting_down and /healthz reports it. */
  beginShutdown(): void;
  /** Requests admitted and not yet answered. */
  inFlight(): number;
  /** Requests whose body is still arriving (they hold no slot yet, but shutdown waits for them too). */
  uploading(): number;
}

export const DEFAULT_MAX_IN_FLIGHT = 512;
export const DEFAULT_BODY_LIMIT = 16 * 1024;

/** Builds the HTTP API around a ticket service. Listening and shutdown are the caller's. */
export function buildApp(options: { service: TicketService; config: AppConfig; logger?: PinoLogger }): BoxofficeApp {
  const { service, config } = options;
  const bodyLimit = config.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const proxies = proxyTrust(config.trustProxy);
  const retryAfterSeconds = config.retryAfterSeconds ?? 1;
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // One line per booking comes from the service; a line per request on top would double the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    // We answer 503 ourselves, in the API's error shape, while closing.
    return503OnClosing: false,
    trustProxy: proxies.trust,
    // Node checks header and request deadlines every connectionsCheckingInterval (30 s by default);
    // once a second makes a 10 s headers timeout mean about 10 s against slowloris.
    serverFactory: (handler) =>
      createServer(
        {
          connectionsCheckingInterval: 1000,
          headersTimeout: config.headersTimeoutMs ?? 10_000,
          // Also the deadline of a slow body, which holds an upload place (not a slot) meanwhile.
          requestTimeout: config.requestTimeoutMs ?? 10_000,
          keepAliveTimeout: 10_000,
          maxHeaderSize: 16 * 1024,
          // Answered by the admission hook in the API's error shape instead of Node's empty 400.
          requireHostHeader: false,
        },
        handler,
      ),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    schemaErrorFormatter: formatSchemaErrors,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
  }) as unknown as FastifyInstance;

  const metrics = new Metrics({ processMetrics: config.processMetrics });
  service.observe(metrics.serviceObserver);
  service.queue.onWait = (seconds) => metrics.queueWait.observe(seconds);
  const state: AdmissionState = { shuttingDown: false };

  // JSON is the only body the API reads; anything else is 415, not a string handed to a route.
  app.removeContentTypeParser('text/plain');
  for (const schema of sharedSchemas) app.addSchema(schema);
  registerErrorHandling(app, bodyLimit);
  app.server.on('connect', (_request, socket) => answerConnect(socket as import('node:net').Socket));
  app.server.on('checkExpectation', answerExpectation);
  const guard = guardConnections(app.server, {
    maxConnections: config.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
    maxConnectionsPerClient: config.maxConnectionsPerClient ?? DEFAULT_MAX_CONNECTIONS_PER_CLIENT,
    isProxySocket: proxies.isProxySocket,
    retryAfterSeconds,
  });
  registerSecurity(app, { corsOrigin: config.corsOrigin });
  // Before admission: a page on another site gets its 403 without taking an upload place or a slot.
  registerCrossSiteCheck(app, { trustedOrigins: config.corsOrigin ? [config.corsOrigin] : [], metrics });
  const maxInFlight = config.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const admission = registerAdmission(app, {
    maxInFlight,
    maxInFlightPerClient: config.maxInFlightPerClient ?? Math.max(8, Math.floor(maxInFlight / 8)),
    maxUploadsPerClient: config.maxUploadsPerClient ?? DEFAULT_MAX_UPLOADS_PER_CLIENT,
    retryAfterSeconds,
    metrics,
    state,
    isOverLimit: guard.isOverLimit,
  });
  const auth = adminAuth(config.adminToken, config.metricsToken);
  registerBuyerRate(app, { perSecond: config.buyerRatePerSecond ?? DEFAULT_BUYER_RATE, metrics, isAdmin: auth.isAdmin });
  app.addHook('onResponse', (request, reply, done) => {
    metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });

  registerOpenApi(app, config.version ?? '0.0.0');
  // The event list encoded once per change, shared by GET /events and every stream subscriber.
  const snapshot = new ListSnapshot(service, metrics);
  const streamLimits = {
    maxStreams: config.maxStreams ?? DEFAULT_MAX_STREAMS,
    maxStreamsPerClient: config.maxStreamsPerClient ?? DEFAULT_MAX_STREAMS_PER_CLIENT,
    idleTimeoutMs: config.streamIdleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS,
    maxBufferedBytes: config.streamBufferBytes ?? MAX_BUFFERED_BYTES,
    retryAfterSeconds,
  };
  // Inside a plugin so they are added after the OpenAPI generator has loaded and can see them;
  // the hooks, schemas and error handler above still apply to them.
  void app.register(async (routes) => {
    eventRoutes(routes, { service, adminOnly: auth.adminOnly, snapshot });
    checkinRoutes(routes, { service, adminOnly: auth.adminOnly, doors: doorAuth(service) });
    holdRoutes(routes, { service });
    queueRoutes(routes, { service, adminOnly: auth.adminOnly });
    lookupRoutes(routes, { service, auth });
    legacyRoutes(routes, { service });
    opsRoutes(routes, { metrics, state, saturation: admission, monitoringOnly: auth.monitoringOnly, clock: () => service.clockStatus(), storage: () => service.storageReadiness(), benchRoutes: config.benchRoutes ?? false });
    streamRoutes(routes, { service, state, snapshot, metrics, limits: streamLimits });
    webRoutes(routes);
  });

  return {
    app,
    metrics,
    beginShutdown: () => {
      state.shuttingDown = true;
    },
    inFlight: admission.inFlight,
    uploading: admission.uploading,
  };
}
