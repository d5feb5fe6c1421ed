/**
 * A PostgreSQL connection's 'error' never goes unheard (src/store/postgres/connection.ts): the pool
 * stops listening while a connection is handed out, and an unheard 'error' event ends the process
 * (found with backends terminated under load: one node of two died, test/e2e/scale-out.test.ts).
 */
import { afterAll, expect, it } from 'vitest';
import { createPool } from '../../src/store/postgres/connection.js';
import { describePg, PG_URL } from '../helpers/pg.js';

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describePg('PostgreSQL connections', () => {
  const pool = createPool({ url: PG_URL!, schema: 'public', poolSize: 2, timeoutMs: 5000, logger: quiet });
  afterAll(async () => {
    await pool.end();
  });

  it('an error on a connection that is handed out is heard, not thrown; the connection is then dropped', async () => {
    const client = await pool.connect();
    expect(client.listenerCount('error')).toBeGreaterThan(0);
    expect(() => client.emit('error', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).not.toThrow();
    client.release(true);
    // The pool goes on with a fresh connection.
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    const again = await pool.connect();
    expect(again.listenerCount('error')).toBeGreaterThan(0);
    again.release();
  });
});
