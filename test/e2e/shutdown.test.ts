import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllProcesses, runCli, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

describe('shutdown and binding', () => {
  const tmp = tempDir();
  afterAll(async () => {
    await killAllProcesses();
    tmp.cleanup();
  });

  it('a client stalled mid-upload cannot keep the server from exiting 0 on SIGTERM', async () => {
    const server = await startServerProcess({ dataDir: `${tmp.dir}/stall` });
    const socket = connect(server.port, '127.0.0.1');
    socket.on('error', () => {});
    await new Promise((r) => socket.once('connect', r));
    // Headers complete, body promised but never sent.
    socket.write('POST /noop HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
    await new Promise((r) => setTimeout(r, 200));
    server.kill('SIGTERM');
    const exit = await server.waitForExit();
    expect(exit, server.stderr()).toEqual({ code: 0, signal: null });
    socket.destroy();
  });

  it('warns when listening beyond loopback with a token from a file, not when the token is set explicitly', async () => {
    // Two servers of their own (own data directories and ports), each read on its own stderr: started side by side.
    const [fromFile, explicit] = await Promise.all([
      startServerProcess({ dataDir: `${tmp.dir}/public`, adminToken: null, args: ['--host', '0.0.0.0'] }),
      startServerProcess({ dataDir: `${tmp.dir}/public2`, args: ['--host', '0.0.0.0'] }),
    ]);
    await expect.poll(() => fromFile.stderr(), { timeout: 5000 }).toMatch(/reachable from other machines/);
    fromFile.kill('SIGTERM');
    await fromFile.waitForExit();
    await expect.poll(() => explicit.stderr(), { timeout: 5000 }).toMatch(/boxoffice listening/);
    expect(explicit.stderr()).not.toMatch(/reachable from other machines/);
    explicit.kill('SIGTERM');
    await explicit.waitForExit();
  });

  it('refuses a CORS origin that is not an origin', async () => {
    const res = await runCli(['serve', '--cors-origin', 'https://tickets.example/path', '--data-dir', `${tmp.dir}/cors`]);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/cors-origin must be an origin/);
  });
});
