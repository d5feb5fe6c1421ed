import pg from 'pg';
import { describe } from 'vitest';

/** PostgreSQL for tests: the URL comes from BOXOFFICE_TEST_PG_URL; CI sets BOXOFFICE_REQUIRE_PG=1 so nothing skips there. */
export const PG_URL = process.env.BOXOFFICE_TEST_PG_URL;
const REQUIRED = process.env.BOXOFFICE_REQUIRE_PG === '1';

/** `describe` when PostgreSQL is configured; otherwise a visible skip (or a failure when it is required). */
export function describePg(name: string, body: () => void): void {
  if (PG_URL) {
    describe(name, body);
    return;
  }
  if (REQUIRED) {
    describe(name, () => {
      throw new Error('BOXOFFICE_REQUIRE_PG=1 but BOXOFFICE_TEST_PG_URL is not set');
    });
    return;
  }
  console.warn(`[boxoffice] skipping "${name}": set BOXOFFICE_TEST_PG_URL=postgres://… to run the PostgreSQL tests`);
  describe.skip(name, body);
}

/** A schema of its own for one test run, so parallel runs never collide; `drop` removes it. */
export function uniqueSchema(tag: string): { schema: string; drop: () => Promise<void> } {
  const schema = `bo_${tag}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`.toLowerCase().slice(0, 40);
  return {
    schema,
    drop: () => withPgClient((client) => client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => {}),
  };
}

/** One connection for `fn`, closed afterwards whatever happens. */
export async function withPgClient<T>(fn: (client: pg.Client) => Promise<T>, url = PG_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
