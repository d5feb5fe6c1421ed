import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { keyedSecrets } from '../core/identity.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../core/store.js';
import { MemoryStore } from './memory/memory-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export { MemoryStore, PostgresStore, SqliteStore };
export { CLUSTER_WRITER_ENV } from './sqlite/cluster-protocol.js';
export { ClusterWriterHost } from './sqlite/cluster-writer-host.js';
export type { Store };

export interface StoreSelection {
  /** `:memory:`, a `postgres://` URL, a SQLite file path, or undefined for `<dataDir>/boxoffice.db`. */
  db?: string;
  dataDir: string;
  /** PostgreSQL only: schema for the tables (default `public`). */
  pgSchema?: string;
  /** PostgreSQL only: connections in this process's pool. */
  poolSize?: number;
  /** SQLite only: check the file with PRAGMA quick_check at open (default true). */
  integrityCheck?: boolean;
  logger?: Logger;
  /** The keys booking secrets are derived from, current first (see src/server/secret-key.ts). */
  secretKeys?: readonly Uint8Array[];
  /** SQLite only: a worker of `serve --workers N` whose writes go to the primary's one writer. */
  clusterWorker?: boolean;
}

export const isPostgresUrl = (db: string | undefined): db is string => !!db && /^postgres(ql)?:\/\//i.test(db);

/** Picks and opens the adapter the way the CLI documents it. */
export async function openStore(selection: StoreSelection): Promise<Store> {
  const db = selection.db ?? join(selection.dataDir, 'boxoffice.db');
  const keys = selection.secretKeys;
  const identity = keys?.length ? { newId: () => randomUUID(), secrets: keyedSecrets(keys) } : undefined;
  if (db === ':memory:') return new MemoryStore(identity);
  if (isPostgresUrl(db)) {
    return PostgresStore.open({ url: db, schema: selection.pgSchema, poolSize: selection.poolSize, logger: selection.logger, identity });
  }
  if (selection.clusterWorker) return SqliteStore.openClusterWorker(db);
  return SqliteStore.open(db, { secretKeys: keys, integrityCheck: selection.integrityCheck });
}

/** A human description of where data lives, for logs (never a password). */
export function describeStore(selection: StoreSelection): string {
  const db = selection.db ?? join(selection.dataDir, 'boxoffice.db');
  if (db === ':memory:') return 'memory (not durable)';
  if (isPostgresUrl(db)) {
    const url = new URL(db);
    return `postgres ${url.hostname}:${url.port || 5432}${url.pathname} schema ${selection.pgSchema ?? 'public'}`;
  }
  return `sqlite ${db}`;
}
