/**
 * `npm start` as an operator runs it: a signal to the npm process stops the server behind it.
 * npm runs the start script through `sh -c`; a signal npm forwards to that shell must reach the
 * server, or the server is left running, reparented to init, answering /healthz.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort, probe, REPO_ROOT } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('boxoffice-npm-start-');
const groups: ChildProcess[] = [];

afterEach(() => {
  // Whatever the test left (npm, sh, the server even if reparented) shares npm's process group.
  for (const child of groups.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});
afterAll(() => tmp.cleanup());

/** Pids of running `dist/cli.js serve` processes listening on `port` (by their command line). */
function serverPids(port: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const state = safeRead(`/proc/${entry}/stat`).split(') ')[1]?.[0];
    if (state === 'Z') continue;
    const at = argv.indexOf('--port');
    if (argv.some((a) => a.endsWith('dist/cli.js')) && argv.includes('serve') && at >= 0 && argv[at + 1] === String(port)) pids.push(Number(entry));
  }
  return pids;
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

async function startViaNpm(name: string, env: Record<string, string> = {}): Promise<{ npm: ChildProcess; port: number; url: string; output: () => string }> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', BOXOFFICE_ADMIN_TOKEN: 'npm-start-admin-token-0123456789', ...env };
  delete childEnv.NODE_OPTIONS;
  delete childEnv.DATABASE_URL;
  const npm = spawn('npm', ['start', '--', '--headless', '--port', String(port), '--data-dir', `${tmp.dir}/${name}`], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  groups.push(npm);
  let output = '';
  npm.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
  npm.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
  const url = `http://127.0.0.1:${port}`;
  // A fresh checkout builds first: allow for it.
  await expect.poll(() => probe(`${url}/healthz`), { timeout: 90_000, interval: 100 }).toBe(200);
  return { npm, port, url, output: () => output };
}

describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to the npm process stops the server: the port closes and no server process remains`, async () => {
      const { npm, port, url, output } = await startViaNpm(signal.toLowerCase());
      expect(serverPids(port), output()).toHaveLength(1);
      process.kill(npm.pid!, signal);
      await expect.poll(() => npm.exitCode !== null || npm.signalCode !== null, { timeout: 15_000, interval: 100 }).toBe(true);
      await expect.poll(() => serverPids(port), { timeout: 15_000, interval: 100 }).toEqual([]);
      expect(await probe(`${url}/healthz`)).toBeUndefined();
      expect(output()).toMatch(/shutting down/);
    }, 120_000);
  }

  it('SIGKILL of the npm process (no signal to forward) still stops the server: it notices its parent is gone', async () => {
    const { npm, port, url, output } = await startViaNpm('sigkill');
    process.kill(npm.pid!, 'SIGKILL');
    await expect.poll(() => serverPids(port), { timeout: 15_000, interval: 100 }).toEqual([]);
    expect(await probe(`${url}/healthz`)).toBeUndefined();
    expect(output()).toMatch(/npm process that started this server is gone/);
  }, 120_000);
});
