import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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

export interface AdmissionOptions {
  /** Requests in service at once, for the whole process. */
  maxInFlight: number;
  /** Requests in service at once for one client address, so one greedy client cannot take every slot. */
  maxInFlightPerClient: number;
  /** Request bodies still arriving at once from one client address. */
  maxUploadsPerClient: number;
  retryAfterSeconds: number;
  metrics: Metrics;
  state: AdmissionState;
  /** Sockets opened beyond the connection allowances (connection-guard.ts): their request gets 429. */
  isOverLimit: (socket: Socket | null) => boolean;
}

/**
 * Bounded in-flight work: at most `maxInFlight` requests are in service at once, and at most
 * `maxInFlightPerClient` of them from one client address (request.ip: the socket's address, or the
 * rightmost untrusted X-Forwarded-For entry behind a trusted proxy). Any request beyond either bound
 * is answered 429 at once instead of queueing, so a spike costs a refusal, not unbounded memory, and
 * a client hammering on hundreds of connections only ever holds its own share while everyone else
 * is still admitted.
 * A slot is taken once the request's body has fully arrived (preValidation) and held until the
 * response has gone or the socket died, whichever comes first: a body trickling in at a byte a second
 * costs no slot, only one of its address's `maxUploadsPerClient` upload places, and Node's request
 * deadline (app.ts) ends it.
 */
export function registerAdmission(
  app: FastifyInstance,
  options: AdmissionOptions,
): { inFlight: () => number; uploading: () => number; capacity: number } {
  const { maxInFlight, maxInFlightPerClient, maxUploadsPerClient, metrics, state } = options;
  const retryAfter = String(options.retryAfterSeconds);
  let inFlight = 0;
  let uploading = 0;
  const perClient = new Counter();
  const uploads = new Counter();
  // The upload place of a request whose body is still arriving, given back when it has arrived.
  const uploadDone = new WeakMap<FastifyRequest, () => void>();

  const refuse = (reply: FastifyReply, reason: string, err: Error): Error => {
    metrics.refused.inc({ reason });
    reply.header('retry-after', retryAfter);
    return err;
  };

  app.addHook('onRequest', (request, reply, done) => {
    // HTTP/1.1 demands a Host header; Node would answer its absence with an empty 400.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      return done(Errors.invalidRequest('An HTTP/1.1 request needs a Host header.'));
    }
    if (options.isOverLimit(request.raw.socket)) {
      reply.header('connection', 'close');
      return done(refuse(reply, 'connection_limit', Errors.tooManyConnections()));
    }
    if (request.routeOptions.config.alwaysAdmit) return done();
    if (state.shuttingDown) return done(shuttingDown(reply));
    if (!hasBody(request)) return done();
    const client = request.ip;
    if (uploads.get(client) >= maxUploadsPerClient) {
      return done(refuse(reply, 'upload_limit', Errors.tooManyUploads(maxUploadsPerClient)));
    }
    uploads.add(client);
    uploading++;
    uploadDone.set(
      request,
      releaseOnce(request.raw.socket, reply.raw, () => {
        uploading--;
        uploads.remove(client);
      }),
    );
    done();
  });

  // Runs once the body has been read and parsed (or at once for a request without one).
  app.addHook('preValidation', (request, reply, done) => {
    uploadDone.get(request)?.();
    if (request.routeOptions.config.alwaysAdmit) return done();
    if (state.shuttingDown) return done(shuttingDown(reply));
    const client = request.ip;
    const mine = perClient.get(client);
    if (mine >= maxInFlightPerClient) {
      return done(refuse(reply, 'client_limit', Errors.tooManyRequestsFromClient(maxInFlightPerClient)));
    }
    if (inFlight >= maxInFlight) return done(refuse(reply, 'too_many_requests', Errors.tooManyRequests()));
    inFlight++;
    perClient.add(client);
    metrics.inFlight.inc();
    releaseOnce(request.raw.socket, reply.raw, () => {
      inFlight--;
      metrics.inFlight.dec();
      perClient.remove(client);
    });
    done();
  });

  const shuttingDown = (reply: FastifyReply): Error => {
    metrics.refused.inc({ reason: 'shutting_down' });
    reply.header('connection', 'close');
    return Errors.shuttingDown();
  };
  // While stopping, every answer tells the client to open its next request elsewhere.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  return { inFlight: () => inFlight, uploading: () => uploading, capacity: maxInFlight };
}

/** Whether the request declares a body (Node's parser has read only its headers so far). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Counts per client address, forgetting an address whose count is back to zero. */
class Counter {
  private readonly counts = new Map<string, number>();
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  add(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }
  remove(key: string): void {
    const left = this.get(key) - 1;
    if (left <= 0) this.counts.delete(key);
    else this.counts.set(key, left);
  }
}

/**
 * Runs `release` exactly once, on whichever comes first: the reply finished, the reply closed, or
 * the socket closed, or the caller gives it back early through the function returned. The socket matters for pipelined requests: a reply queued behind an earlier
 * one on a socket that dies is never attached to it, so neither of its own events ever fires.
 */
function releaseOnce(socket: Socket | null, response: ServerResponse, release: () => void): () => void {
  let released = false;
  const once = (): void => {
    if (released) return;
    released = true;
    response.off('finish', once);
    response.off('close', once);
    socket?.off('close', once);
    release();
  };
  response.once('finish', once);
  response.once('close', once);
  // A keep-alive socket serves many requests in turn: each one removes its listener when it ends.
  if (socket && !socket.destroyed) socket.once('close', once);
  else once();
  return once;
}
