import Database from 'better-sqlite3';
import { chmodSync, linkSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * An online copy of a SQLite database with SQLite's backup API (better-sqlite3's `db.backup()`): it
 * copies pages while the server keeps writing (restarting when a write lands mid-copy), and the copy
 * is one consistent snapshot, committed transactions only. A file copy (`cp`) of a database in WAL
 * mode is not: it misses what is still in the -wal file, or tears between the two.
 *
 * The copy is written next to the target under a temporary name, made 0600, then moved into place:
 * a failed or interrupted backup never leaves a half-written file under the target's name, and an
 * existing target is only replaced when `overwrite` says so.
 */
export async function backupSqliteFile(source: string, target: string, options: { overwrite: boolean; busyTimeoutMs?: number }): Promise<{ bytes: number }> {
  const partial = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    await db.backup(partial);
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    db.close();
  }
  try {
    chmodSync(partial, 0o600);
    // link() fails if the target exists, so "no overwrite" is decided atomically; rename() replaces.
    if (options.overwrite) renameSync(partial, target);
    else linkSync(partial, target);
  } finally {
    rmSync(partial, { force: true });
  }
  return { bytes: statSync(target).size };
}
