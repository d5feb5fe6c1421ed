import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { Errors } from '../core/errors.js';
import { writeRawError } from './errors.js';

export interface ConnectionLimits {
  /** Open sockets for the whole server. */
  maxConnections: number;
  /** Open sockets per remote address; 0 turns it off. */
  maxConnectionsPerClient: number;
  /** Sockets from a trusted proxy carry many clients: the per-address allowance skips them. */
  isProxySocket: (address: string) => boolean;
  retryAfterSeconds: number;
}

/**
 * A socket beyond an allowance that sends nothing is answered 429 and closed after this long; one
 * that sends part of a request (a slowloris dribbling headers) is answered as soon as that arrives.
 */
const IDLE_GRACE_MS = 500;

export interface ConnectionGuard {
  open(): number;
  /** Whether this socket was opened beyond an allowance: its request gets 429 and the socket closes. */
  isOverLimit(socket: Socket | null): boolean;
}

/**
 * Socket-level defence against slow clients (slowloris): one address cannot hold more than its
 * share of sockets, and the server's own header and request timeouts (see app.ts) reclaim the ones
 * it has. A socket beyond a limit is not reset, which clients take for a network fault and retry at
 * once: a whole first request is answered 429 with Retry-After and Connection: close by the
 * admission hook, and a partial or missing one gets the same answer here at once (or after a short
 * grace), so a busy client behind a shared address learns to wait while a slow one is still cut off.
 */
export function guardConnections(server: Server, limits: ConnectionLimits): ConnectionGuard {
  const perAddress = new Map<string, number>();
  const overLimit = new WeakSet<Socket>();
  // Over-limit sockets whose first request has not arrived yet, with the timer that will refuse them.
  const waiting = new Map<Socket, NodeJS.Timeout>();
  const stopWaiting = (socket: Socket): void => {
    clearTimeout(waiting.get(socket));
    waiting.delete(socket);
  };
  // Node reports a request once its headers are complete; from then on the admission hook answers it.
  server.prependListener('request', (request: IncomingMessage) => {
    if (waiting.size > 0) stopWaiting(request.socket);
  });
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    const address = socket.remoteAddress ?? 'unknown';
    const mine = (perAddress.get(address) ?? 0) + 1;
    perAddress.set(address, mine);
    socket.once('close', () => {
      stopWaiting(socket);
      open--;
      const left = perAddress.get(address)! - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    const perClient = limits.maxConnectionsPerClient;
    if (open > limits.maxConnections || (perClient > 0 && mine > perClient && !limits.isProxySocket(address))) {
      overLimit.add(socket);
      const refuse = (): void => {
        if (!waiting.has(socket)) return;
        stopWaiting(socket);
        if (socket.destroyed) return;
        socket.on('error', () => {});
        writeRawError(socket, Errors.tooManyConnections(), { 'Retry-After': String(limits.retryAfterSeconds) });
        closeAfterFlush(socket);
      };
      waiting.set(socket, setTimeout(refuse, IDLE_GRACE_MS).unref());
      // Node's own 'data' listener parses first: a request whose headers are all here has been
      // reported by now and will be answered by the admission hook; anything less is refused now.
      socket.once('data', refuse);
    }
  });
  return { open: () => open, isOverLimit: (socket) => socket !== null && overLimit.has(socket) };
}

/** Sends what was written and a FIN, then lets go of the socket even if the peer never hangs up. */
function closeAfterFlush(socket: Socket): void {
  socket.end(() => socket.destroy());
  setTimeout(() => socket.destroy(), 500).unref();
}
