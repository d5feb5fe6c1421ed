import pg from 'pg';
import type { Logger } from '../../core/logger.js';

export interface ConnectionOptions {
  url: string;
  schema: string;
  poolSize: number;
  /** Upper bound for waiting on a connection and for any statement, in ms. */
  timeoutMs: number;
  logger: Logger;
}

/** This deployment's sessions, named so an operator (or a test) can tell them apart in pg_stat_activity. */
export const applicationName = (): string => process.env.PGAPPNAME ?? 'boxoffice';

export function createPool(options: ConnectionOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.timeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs + 1000,
    application_name: applicationName(),
    options: `-c search_path=${options.schema}`,
  });
  // An idle connection dropped by the server must not crash the process; the pool replaces it.
  pool.on('error', (err) => options.logger.warn({ err: err.message }, 'postgres connection lost'));
  // A connection's 'error' can also come while nobody listens: the pool stops listening when it hands a
  // connection out, and a FATAL (a terminated backend) read in the same chunk as a new connection's
  // ReadyForQuery is emitted before the caller's own listener is attached. Unhandled, that 'error' ends
  // the process (seen with backends terminated under load). So every connection keeps one listener for
  // life; the query that fails is what reports the failure, and a broken connection is not reused.
  pool.on('connect', (client) => client.on('error', (err) => options.logger.debug({ err: err.message }, 'postgres connection error')));
  return pool;
}

/** BEGIN … COMMIT on one pooled connection; any failure rolls back and throws. */
export async function inTransaction<T>(pool: pg.Pool, logger: Logger, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // While checked out, the pool does not listen for the connection's errors: a backend killed
  // mid-transaction would otherwise be an unhandled 'error' event and take the process down.
  // The query in progress rejects on its own, which is what reports the failure.
  const onError = (err: Error) => logger.warn({ err: err.message }, 'postgres connection lost during a transaction');
  client.on('error', onError);
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    // A rollback asked for on purpose (`keepConnection`) leaves the connection as good as new.
    broken = !(err as { keepConnection?: boolean }).keepConnection;
    await client.query('ROLLBACK').catch(() => (broken = true));
    throw err;
  } finally {
    client.off('error', onError);
    // A connection that saw an error may be half-broken: drop it rather than reuse it.
    client.release(broken);
  }
}
