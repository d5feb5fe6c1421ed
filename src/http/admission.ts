import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
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

export interface AdmissionOptions {
  /** Requests in service at once, for the whole process. */
  maxInFlight: number;
  /** Requests in service at once for one client address, so one greedy client cannot take every slot. */
  maxInFlightPerClient: number;
  retryAfterSeconds: number;
  metrics: Metrics;
  state: AdmissionState;
}

/**
 * Bounded in-flight work: at most `maxInFlight` requests are in service at once, and at most
 * `maxInFlightPerClient` of them from one client address (request.ip: the socket's address, or
 * X-Forwarded-For behind a trusted proxy). Any request beyond either bound is answered 429 at once
 * instead of queueing, so a spike costs a refusal, not unbounded memory, and a client hammering on
 * hundreds of connections only ever holds its own share while everyone else is still admitted.
 * A slot is held from the first byte of headers until the response has gone or the socket died,
 * whichever comes first, so slowly uploaded bodies count too and no slot outlives its socket.
 */
export function registerAdmission(app: FastifyInstance, options: AdmissionOptions): { inFlight: () => number; capacity: number } {
  const { maxInFlight, maxInFlightPerClient, metrics, state } = options;
  const retryAfter = String(options.retryAfterSeconds);
  let inFlight = 0;
  const perClient = new Map<string, number>();
  app.addHook('onRequest', (request, reply, done) => {
    // HTTP/1.1 demands a Host header; Node would answer its absence with an empty 400.
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      return done(Errors.invalidRequest('An HTTP/1.1 request needs a Host header.'));
    }
    if (request.routeOptions.config.alwaysAdmit) return done();
    if (state.shuttingDown) {
      metrics.refused.inc({ reason: 'shutting_down' });
      reply.header('connection', 'close');
      return done(Errors.shuttingDown());
    }
    const client = request.ip;
    const mine = perClient.get(client) ?? 0;
    if (inFlight >= maxInFlight || mine >= maxInFlightPerClient) {
      metrics.refused.inc({ reason: mine >= maxInFlightPerClient ? 'client_limit' : 'too_many_requests' });
      reply.header('retry-after', retryAfter);
      return done(mine >= maxInFlightPerClient ? Errors.tooManyRequestsFromClient(maxInFlightPerClient) : Errors.tooManyRequests());
    }
    inFlight++;
    perClient.set(client, mine + 1);
    metrics.inFlight.inc();
    releaseOnce(request.raw.socket, reply.raw, () => {
      inFlight--;
      metrics.inFlight.dec();
      const left = perClient.get(client)! - 1;
      if (left === 0) perClient.delete(client);
      else perClient.set(client, left);
    });
    done();
  });
  // While stopping, every answer tells the client to open its next request elsewhere.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (state.shuttingDown) reply.header('connection', 'close');
    done(null, payload);
  });
  return { inFlight: () => inFlight, capacity: maxInFlight };
}

/**
 * Runs `release` exactly once, on whichever comes first: the reply finished, the reply closed, or
 * the socket closed. The socket matters for pipelined requests: a reply queued behind an earlier
 * one on a socket that dies is never attached to it, so neither of its own events ever fires.
 */
function releaseOnce(socket: Socket | null, response: ServerResponse, release: () => void): void {
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
}
