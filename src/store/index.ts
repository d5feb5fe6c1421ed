import { join } from 'node:path';
import type { Store } from '../core/store.js';
import { MemoryStore } from './memory/memory-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

export { MemoryStore, SqliteStore };
export type { Store };

export interface StoreSelection {
  /** `:memory:`, a SQLite file path, or undefined for `<dataDir>/boxoffice.db`. */
  db?: string;
  dataDir: string;
}

/** Picks the adapter the way the CLI documents it. */
export function openStore(selection: StoreSelection): Store {
  const db = selection.db ?? join(selection.dataDir, 'boxoffice.db');
  if (db === ':memory:') return new MemoryStore();
  if (/^postgres(ql)?:\/\//i.test(db)) throw new Error('PostgreSQL storage is not available in this version; use a SQLite file or :memory:');
  return new SqliteStore(db);
}

/** A human description of where data lives, for the startup log line. */
export function describeStore(selection: StoreSelection): string {
  const db = selection.db ?? join(selection.dataDir, 'boxoffice.db');
  if (db === ':memory:') return 'memory (not durable)';
  return /^postgres(ql)?:\/\//i.test(db) ? 'postgres' : `sqlite ${db}`;
}
