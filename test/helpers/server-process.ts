/**
 * Runs the real built binary (`node dist/cli.js ...`) as child processes for the end-to-end tests.
 *
 * Every process spawned here is tracked; call `killAllProcesses()` from `afterEach`/`afterAll` so a
 * failing test never leaves a server behind. A process 'exit' hook is a last safety net.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Repository root, from this file's location (test/helpers/ → ../../). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export const TEST_ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
export const ADMIN_TOKEN_ENV = 'BOXOFFICE_ADMIN_TOKEN';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface CliProcess {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Sends a signal (SIGTERM by default); a no-op once the process has exited. */
  kill(signal?: NodeJS.Signals): void;
  /** Settles when the process has exited and its output streams are closed. */
  waitForExit(): Promise<ExitInfo>;
  /** The exit, once it happened; undefined while running. */
  exited(): ExitInfo | undefined;
}

export interface ServerProcess extends CliProcess {
  url: string;
  port: number;
  dataDir: string;
}

export interface SpawnOptions {
  /**
   * The admin token put into BOXOFFICE_ADMIN_TOKEN. Defaults to TEST_ADMIN_TOKEN; `null` removes the
   * variable (also when the surrounding environment has one), so the server generates a token file.
   */
  adminToken?: string | null;
  /** Extra environment variables (undefined removes one). */
  env?: Record<string, string | undefined>;
}

const live = new Set<CliProcess>();

function childEnv(options: SpawnOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Keep the child's output plain and its behaviour independent of the test runner.
  delete env.NODE_OPTIONS;
  delete env.FORCE_COLOR;
  env.NO_COLOR = '1';
  // `serve` falls back to $DATABASE_URL when it is a PostgreSQL URL; tests pick their storage explicitly.
  delete env.DATABASE_URL;
  if (options.adminToken === null) delete env[ADMIN_TOKEN_ENV];
  else env[ADMIN_TOKEN_ENV] = options.adminToken ?? TEST_ADMIN_TOKEN;
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Spawns `node dist/cli.js <args>` (tracked), capturing stdout and stderr. */
export function spawnCli(args: readonly string[], options: SpawnOptions = {}): CliProcess {
  if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} is missing: run \`npm run build\` first`);
  const proc = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: REPO_ROOT,
    env: childEnv(options),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let exit: ExitInfo | undefined;
  const exitPromise = new Promise<ExitInfo>((resolve) => {
    proc.once('error', (error) => {
      err += `\n[spawn error] ${error.message}\n`;
      exit ??= { code: null, signal: null };
      resolve(exit);
    });
    // 'close' comes after 'exit' and after stdio has ended, so the captured output is complete.
    proc.once('close', (code, signal) => {
      exit ??= { code, signal };
      resolve(exit);
    });
  });
  const handle: CliProcess = {
    proc,
    stdout: () => out,
    stderr: () => err,
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (exit === undefined && proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    waitForExit: () => exitPromise,
    exited: () => exit,
  };
  live.add(handle);
  void exitPromise.then(() => live.delete(handle));
  return handle;
}

/** Runs the CLI to completion; kills it (and reports `timedOut`) if it is still running after `timeoutMs`. */
export async function runCli(
  args: readonly string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<ExitInfo & { stdout: string; stderr: string; timedOut: boolean }> {
  const child = spawnCli(args, options);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 15_000);
  try {
    const exit = await child.waitForExit();
    return { ...exit, stdout: child.stdout(), stderr: child.stderr(), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** A port that was free a moment ago: bind 127.0.0.1:0, read the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** One GET on a fresh connection (no keep-alive pool): the status, or undefined if it failed. */
export function probe(url: string, timeoutMs = 1_000): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
      res.once('error', () => resolve(undefined));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(undefined));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface StartOptions extends SpawnOptions {
  dataDir: string;
  /** Arguments after the standard `serve --headless --port P --data-dir D`. */
  args?: readonly string[];
  /** Serve POST /noop (default true: tests use it as a route that costs nothing). */
  benchRoutes?: boolean;
  /** A fixed port; by default a free one is picked (and picked again if someone else took it). */
  port?: number;
  /** How long to wait for GET /healthz to answer 200. */
  readyTimeoutMs?: number;
}

/**
 * Starts `serve --headless` and resolves once GET /healthz answers 200. Rejects with the captured
 * stderr if the process exits first or never becomes healthy (the process is then killed).
 */
export async function startServerProcess(options: StartOptions): Promise<ServerProcess> {
  const attempts = options.port === undefined ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startOnce(port, options);
    } catch (err) {
      // Another process grabbed the port between freePort() and listen(): pick another.
      if (attempt < attempts && /already in use/.test((err as Error).message)) continue;
      throw err;
    }
  }
}

const READY_TIMEOUT_MS = 40_000;

async function startOnce(port: number, options: StartOptions): Promise<ServerProcess> {
  // Every test client shares 127.0.0.1: the per-buyer request rate is off unless a test sets it.
  const extra = options.args ?? [];
  const rate = extra.includes('--buyer-rate') ? [] : ['--buyer-rate', '0'];
  const bench = options.benchRoutes === false ? [] : ['--bench-routes'];
  const args = ['serve', '--headless', '--port', String(port), '--data-dir', options.dataDir, ...rate, ...bench, ...extra];
  const child = spawnCli(args, options);
  const url = `http://127.0.0.1:${port}`;
  // Only a bound on a wait for a condition: at load 17 on two cores a start took more than 15 s.
  const deadline = Date.now() + (options.readyTimeoutMs ?? READY_TIMEOUT_MS);
  const describe = (why: string) =>
    `${why}\n  command: node dist/cli.js ${args.join(' ')}\n  stderr:\n${indent(child.stderr())}\n  stdout:\n${indent(child.stdout())}`;
  for (;;) {
    const exit = child.exited();
    if (exit) throw new Error(describe(`server exited before it was healthy (code ${exit.code}, signal ${exit.signal})`));
    if ((await probe(`${url}/healthz`)) === 200) break;
    if (child.exited()) continue;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await child.waitForExit();
      throw new Error(describe(`GET /healthz did not answer 200 within ${options.readyTimeoutMs ?? READY_TIMEOUT_MS} ms`));
    }
    await sleep(50);
  }
  return { ...child, url, port, dataDir: options.dataDir };
}

function indent(text: string): string {
  return text.length === 0 ? '    (empty)' : text.replace(/^/gm, '    ');
}

/** SIGKILLs every tracked process still running and waits until each has exited. */
export async function killAllProcesses(): Promise<void> {
  const running = [...live];
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(running.map((child) => child.waitForExit()));
}

/** The processes spawned here that have not exited yet. */
export function liveProcessCount(): number {
  return live.size;
}

// Last resort if a test file dies without its hooks running: no orphaned servers.
process.once('exit', () => {
  for (const child of live) {
    try {
      child.proc.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});
