/**
 * /readyz asks the database: a node whose PostgreSQL stops answering says so (503, storage
 * "unreachable") while /healthz (liveness: the process works) stays 200, and it is ready again once
 * the database answers. The database "goes away" behind a TCP proxy this test owns, so the shared
 * PostgreSQL other tests use is never touched.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describePg, PG_URL, uniqueSchema } from '../helpers/pg.js';
import { killAllProcesses, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('boxoffice-readyz-');
afterEach(killAllProcesses);
afterAll(() => tmp.cleanup());

/** Forwards every connection on `port` (0: a free one) to the real PostgreSQL; close() cuts them all. */
async function pgProxy(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const target = new URL(PG_URL!);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

async function get(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describePg('/readyz checks the database', () => {
  const { schema, drop } = uniqueSchema('readyz');
  afterAll(drop);

  it('PostgreSQL unreachable: /readyz 503 storage "unreachable", /healthz still 200; ready again once it answers', async () => {
    let proxy = await pgProxy();
    const dbUrl = new URL(PG_URL!);
    dbUrl.hostname = '127.0.0.1';
    dbUrl.port = String(proxy.port);
    const server = await startServerProcess({ dataDir: `${tmp.dir}/pg`, args: ['--db', dbUrl.toString(), '--pg-schema', schema] });
    expect(await get(`${server.url}/readyz`)).toMatchObject({ status: 200, body: { status: 'ready', storage: 'ok' } });

    await proxy.close();
    await expect.poll(async () => (await get(`${server.url}/readyz`)).status, { timeout: 10_000, interval: 100 }).toBe(503);
    const down = await get(`${server.url}/readyz`);
    expect(down.body).toMatchObject({ error: 'storage_unavailable', storage: 'unreachable' });
    expect(String(down.body.message)).toMatch(/database does not answer/);
    expect((await get(`${server.url}/healthz`)).status).toBe(200);

    proxy = await pgProxy(Number(dbUrl.port));
    await expect.poll(async () => (await get(`${server.url}/readyz`)).status, { timeout: 15_000, interval: 100 }).toBe(200);
    server.kill('SIGTERM');
    await server.waitForExit();
    await proxy.close();
  }, 60_000);
});
