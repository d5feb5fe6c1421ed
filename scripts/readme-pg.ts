/**
 * The README's PostgreSQL examples (group `pg`) against a real PostgreSQL without touching anything a
 * reader or another test owns: the server gets a schema of its own, the restore a database of its own,
 * and both are dropped afterwards. The README's names stand for them: `--schema=public` for the run's
 * schema, `boxoffice_restored` for the run's database; `psql` finds the tables through PGOPTIONS, as a
 * reader's would in `public`. The URL is BOXOFFICE_TEST_PG_URL (as for the PostgreSQL tests); without
 * it the group is skipped, visibly, unless BOXOFFICE_REQUIRE_PG=1.
 */
import { spawnSync } from 'node:child_process';

export interface PgRun {
  /** The server's flags. */
  flags: string[];
  /** The shell's environment additions. */
  env: Record<string, string>;
  /** The command as this run types it. */
  rewrite: (command: string) => string;
  cleanup: () => void;
}

export const PG_GROUP = 'pg';

/** Why the group cannot run here (no PostgreSQL configured), or undefined when it can. */
export function pgUnavailable(): string | undefined {
  if (process.env.BOXOFFICE_TEST_PG_URL) return undefined;
  const why = 'BOXOFFICE_TEST_PG_URL is not set';
  if (process.env.BOXOFFICE_REQUIRE_PG === '1') throw new Error(`README group ${PG_GROUP}: BOXOFFICE_REQUIRE_PG=1 but ${why}`);
  return why;
}

export function pgRun(): PgRun {
  const url = process.env.BOXOFFICE_TEST_PG_URL!;
  const tag = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const schema = `bo_readme_${tag}`;
  const database = `bo_readme_restored_${tag}`;
  const psql = (sql: string, target = url) => spawnSync('psql', [target, '-qAtc', sql], { encoding: 'utf8' });
  return {
    flags: ['--db', url, '--pg-schema', schema],
    env: { DATABASE_URL: url, PGOPTIONS: `-c search_path=${schema}` },
    rewrite: (command) => command.replaceAll('--schema=public', `--schema=${schema}`).replaceAll('boxoffice_restored', database),
    cleanup: () => {
      psql(`DROP DATABASE IF EXISTS ${database}`);
      psql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}
