import pg from 'pg';
import type { Logger } from '../../core/logger.js';
import { applicationName } from './connection.js';

/**
 * Other nodes' commits, as PostgreSQL notifications on the schema's channel. LISTEN runs on a
 * dedicated connection that reconnects with backoff, and a reconnect reports a change (some may
 * have been missed meanwhile). A node's own notifications carry its id and are ignored.
 */
export class ChangeFeed {
  private readonly stops = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly options: { url: string; channel: string; nodeId: string; timeoutMs: number; logger: Logger },
  ) {}

  watch(listener: () => void): () => void {
    const { url, channel, nodeId, timeoutMs, logger } = this.options;
    let client: pg.Client | undefined;
    let stopped = false;
    let delay = 250;
    const connect = async () => {
      if (stopped || this.closed) return;
      const c = new pg.Client({ connectionString: url, application_name: `${applicationName()}-listen`, connectionTimeoutMillis: timeoutMs });
      client = c;
      const retry = (reason: string) => {
        c.removeAllListeners();
        c.on('error', () => {});
        void c.end().catch(() => {});
        if (stopped || this.closed) return;
        logger.warn({ reason, retryInMs: delay }, 'postgres change feed lost; reconnecting');
        setTimeout(() => void connect(), delay).unref();
        delay = Math.min(delay * 2, 5000);
      };
      c.on('error', (err) => retry(err.message));
      c.on('end', () => retry('connection ended'));
      c.on('notification', (msg) => {
        if (msg.payload !== nodeId) listener();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${channel}`);
        if (delay > 250) listener();
        delay = 250;
      } catch (err) {
        retry((err as Error).message);
      }
    };
    const stop = () => {
      stopped = true;
      this.stops.delete(stop);
      if (client) {
        client.removeAllListeners();
        client.on('error', () => {});
        void client.end().catch(() => {});
      }
    };
    this.stops.add(stop);
    void connect();
    return stop;
  }

  close(): void {
    this.closed = true;
    for (const stop of [...this.stops]) stop();
  }
}
