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
 * A socket beyond an allowance must send its first request within this long; it is then answered
 * 429 and closed. A slowloris socket dribbling headers is answered the same way when this runs out.
 */
const OVER_LIMIT_GRACE_MS = 500;
/**
 * After that 429, how long the client has to read it and hang up before the socket is destroyed;
 * short, since a client still dribbling after the grace period is a slow one.
 */
const LINGER_MS = 500;

export interface ConnectionGuard {
  open(): number;
  /** Whether this socket was opened beyond an allowance: its request gets 429 and the socket closes. */
  isOverLimit(socket: Socket | null): boolean;
}

/**
 * Socket-level defence against slow clients (slowloris): one address cannot hold more than its
 * share of sockets, and the server's own header and request timeouts (see app.ts) reclaim the ones
 * it has. A socket beyond a limit is not reset, which clients take for a network fault and retry at
 * once: its first request is answered 429 with Retry-After and Connection: close (by the admission
 * hook, or here if the request does not arrive in time), so a busy client behind a shared address
 * learns to wait while a slow one is still cut off within about a second.
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
      const timer = setTimeout(() => {
        waiting.delete(socket);
        if (socket.destroyed) return;
        socket.on('error', () => {});
        writeRawError(socket, Errors.tooManyConnections(), { 'Retry-After': String(limits.retryAfterSeconds) });
        endAndLinger(socket);
      }, OVER_LIMIT_GRACE_MS);
      timer.unref();
      waiting.set(socket, timer);
    }
  });
  return { open: () => open, isOverLimit: (socket) => socket !== null && overLimit.has(socket) };
}

/** Half-closes, so the peer reads the answer and sees the end, then destroys if it never closes. */
function endAndLinger(socket: Socket): void {
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
