/**
 * The server under test, started as a user starts it: `node dist/cli.js serve --headless …` in a
 * child process on a free port with a fresh data dir. Its stderr goes to a file in the data dir, so
 * writing logs never blocks on this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface ServerSpec {
  cliPath: string;
  dataDir: string;
  adminToken: string;
  /** Extra `serve` flags (e.g. --db, --workers, --max-batch). */
  args: string[];
  logLevel?: string;
  /** Node flags before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

export interface RunningServer {
  url: string;
  pid: number;
  dataDir: string;
  stderrFile: string;
  /** Peak resident memory so far (VmHWM) of the process and all its descendants, in bytes. */
  peakRss(): ProcessMemory[];
  stop(): Promise<void>;
}

export interface ProcessMemory {
  pid: number;
  hwmBytes: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
});

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startServer(spec: ServerSpec): Promise<RunningServer> {
  mkdirSync(spec.dataDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(spec, port, attempt);
    } catch (err) {
      if (attempt < 3 && /already in use/.test((err as Error).message)) continue;
      throw err;
    }
  }
}

async function startOnce(spec: ServerSpec, port: number, attempt: number): Promise<RunningServer> {
  const stderrFile = join(spec.dataDir, `server-stderr-${port}-${attempt}.log`);
  const fd = openSync(stderrFile, 'w');
  const args = [
    ...(spec.nodeArgs ?? []),
    spec.cliPath,
    'serve',
    '--headless',
    '--port',
    String(port),
    '--data-dir',
    spec.dataDir,
    ...(spec.logLevel ? ['--log-level', spec.logLevel] : []),
    // The load generator is one address: the per-buyer request rate would measure itself.
    '--buyer-rate',
    '0',
    // The no-op ceiling route exists only when asked for.
    '--bench-routes',
    ...spec.args,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, BOXOFFICE_ADMIN_TOKEN: spec.adminToken, NO_COLOR: '1' };
  delete env.NODE_OPTIONS;
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd], env });
  closeSync(fd);
  live.add(child);
  let exited: { code: number | null; signal: string | null } | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      live.delete(child);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) {
      const stderr = readFileSync(stderrFile, 'utf8');
      throw new Error(`server exited before it was healthy (code ${exited.code}): node ${args.join(' ')}\n${stderr}`);
    }
    if ((await probe(`${url}/healthz`)) === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer GET /healthz within 20 s: node ${args.join(' ')}`);
    }
    await sleep(50);
  }
  if (spec.args.includes('--workers')) await waitForWorkers(child.pid!, Number(spec.args[spec.args.indexOf('--workers') + 1]));
  return {
    url,
    pid: child.pid!,
    dataDir: spec.dataDir,
    stderrFile,
    peakRss: () => [child.pid!, ...descendants(child.pid!)].map((pid) => ({ pid, hwmBytes: vmHwm(pid) })),
    stop: async () => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exitPromise;
      clearTimeout(timer);
    },
  };
}

/** With --workers the primary answers /healthz as soon as one worker listens; wait for all of them. */
async function waitForWorkers(pid: number, workers: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (descendants(pid).length < workers && Date.now() < deadline) await sleep(50);
  // A worker that has forked still needs a moment to open its store and listen.
  await sleep(500);
}

function probe(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

/** Children, grandchildren… of pid, from /proc (cluster workers; not pino's transport threads, which are threads). */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may contain spaces and parentheses: the fields after the last ')' are fixed.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
    } catch {
      // the process went away while we looked
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const parent = queue.shift()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        queue.push(child);
      }
    }
  }
  return found;
}

function vmHwm(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A small JSON client for seeding and read-back (not used for load). */
export async function api(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string } = {},
): Promise<{ status: number; json: unknown; text: string }> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}
