import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open sockets for the whole server; beyond it the kernel's backlog holds new ones. */
  maxConnections: number;
  /**
   * Open sockets per remote address; 0 turns it off (behind a proxy every socket comes from the
   * proxy, so there the per-client limit is the request-level one in admission.ts).
   */
  maxConnectionsPerClient: number;
}

/**
 * Socket-level defence against slow clients (slowloris): one address cannot hold more than its
 * share of sockets, and the server's own header and request timeouts (see app.ts) reclaim the ones
 * it has. A refused socket is closed at once, before any byte of it is parsed.
 */
export function guardConnections(server: Server, limits: ConnectionLimits): { open: () => number } {
  server.maxConnections = limits.maxConnections;
  const perAddress = new Map<string, number>();
  let open = 0;
  server.on('connection', (socket: Socket) => {
    open++;
    const address = socket.remoteAddress ?? 'unknown';
    const mine = (perAddress.get(address) ?? 0) + 1;
    perAddress.set(address, mine);
    socket.once('close', () => {
      open--;
      const left = perAddress.get(address)! - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
    if (limits.maxConnectionsPerClient > 0 && mine > limits.maxConnectionsPerClient) socket.destroy();
  });
  return { open: () => open };
}
