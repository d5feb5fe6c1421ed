import type { Store } from '../../src/core/store.js';
import { TicketService, type TicketServiceOptions } from '../../src/core/ticket-service.js';
import { buildApp, type AppConfig } from '../../src/http/app.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const adminHeaders = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
/** /metrics needs a credential: the admin token here. */
export const metricsHeaders = { authorization: `Bearer ${ADMIN_TOKEN}` };

/** An in-process app on a real socket (127.0.0.1, free port) over the given store. */
export async function startApp(options: { store?: Store; config?: Partial<AppConfig>; service?: TicketServiceOptions } = {}) {
  const store = options.store ?? new MemoryStore();
  const service = new TicketService(store, options.service);
  // Every test client shares 127.0.0.1: the per-address socket cap, stream quota and the per-buyer
  // request rate are off unless a test sets them. The benchmark's /noop is on: several tests use it as a route
  // that costs nothing.
  const built = buildApp({
    service,
    config: { adminToken: ADMIN_TOKEN, processMetrics: false, maxConnectionsPerClient: 0, maxStreamsPerClient: 0, buyerRatePerSecond: 0, benchRoutes: true, ...options.config },
  });
  await built.app.listen({ host: '127.0.0.1', port: 0 });
  const address = built.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    ...built,
    service,
    store,
    url,
    port: address.port,
    close: async () => {
      await built.app.close();
      await service.close();
    },
  };
}
