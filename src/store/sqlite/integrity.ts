import type Database from 'better-sqlite3';

/** The flag that skips the check (a quick check reads the whole file: minutes on a huge one). */
export const SKIP_INTEGRITY_FLAG = '--skip-integrity-check';

const DAMAGED_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

/** SQLite's word that the file is damaged, as opposed to busy, missing or unwritable. */
export function isDamage(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && [...DAMAGED_CODES].some((damaged) => code.startsWith(damaged));
}

export function damagedError(detail: string): Error {
  const line = detail.replace(/\s+/g, ' ').slice(0, 160);
  return Object.assign(
    new Error(`the database file is damaged (${line}): restore it from a backup, or start with ${SKIP_INTEGRITY_FLAG} to serve what can still be read`),
    { code: 'SQLITE_CORRUPT' },
  );
}

/**
 * PRAGMA quick_check: every page and b-tree is well formed (it skips the slower index-content
 * cross-check of integrity_check). A server that started on a damaged file would say ok while some
 * bookings answer 503 for good; this refuses to start instead.
 */
export function quickCheck(db: Database.Database): void {
  const rows = (db.pragma('quick_check(10)') as Array<{ quick_check: string }>).map((row) => row.quick_check);
  if (rows.length === 1 && rows[0] === 'ok') return;
  // A row may hold several problems, one a line, under a "*** in database main ***" heading.
  const problems = rows.flatMap((row) => row.split('\n')).filter((line) => line.trim() !== '' && !line.startsWith('***'));
  const count = problems.length >= 10 ? '10 or more problems' : `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  throw damagedError(`PRAGMA quick_check found ${count}; first: ${problems[0] ?? rows[0]}`);
}
