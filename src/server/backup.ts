import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isPostgresUrl } from '../store/index.js';
import { backupSqliteFile } from '../store/sqlite/backup.js';
import { makeFilesPrivate, StartupError } from './serve.js';

export interface BackupOptions {
  file: string;
  dataDir: string;
  db?: string;
  force: boolean;
}

/** The PostgreSQL answer: its own tool does it better (consistent, online, restorable with pg_restore). */
export const PG_DUMP_HINT =
  'PostgreSQL is backed up with its own tool: pg_dump --format=custom --schema=<schema> --file=<file> "$DATABASE_URL" (restore with pg_restore; see "Operating boxoffice" in the README)';

/** `boxoffice backup <file>`: an online copy of the SQLite database; returns the line to print. */
export async function runBackup(options: BackupOptions): Promise<string> {
  const db = options.db ?? (isPostgresUrl(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined);
  if (isPostgresUrl(db)) throw new StartupError(PG_DUMP_HINT);
  if (db === ':memory:') throw new StartupError('--db :memory: keeps nothing on disk: there is nothing to back up');
  const source = resolve(db ?? join(options.dataDir, 'boxoffice.db'));
  if (!existsSync(source)) throw new StartupError(`no database at ${source} (give the server's --data-dir or --db)`);
  const target = resolve(options.file);
  if (target === source) throw new StartupError('the backup file is the database itself: choose another file');
  if (existsSync(target) && !options.force) throw new StartupError(`${target} already exists: choose another file, or pass --force to replace it`);
  makeFilesPrivate();
  let bytes: number;
  try {
    ({ bytes } = await backupSqliteFile(source, target, { overwrite: options.force }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new StartupError(`${target} already exists: choose another file, or pass --force to replace it`);
    throw new StartupError(`cannot back up ${source} to ${target}: ${(err as Error).message}`);
  }
  return `backed up ${source} to ${target} (${bytes} bytes, mode 0600)`;
}
