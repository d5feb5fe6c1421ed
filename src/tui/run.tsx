import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { render } from 'ink';
import type { ReactElement } from 'react';
import { BoxofficeClient } from '../client/boxoffice-client.js';
import { ADMIN_TOKEN_ENV } from '../server/admin-token.js';
import { createFileLogger, type LogLevel } from '../server/logger.js';
import { ensureWritableDir, startServer, type ServeOptions } from '../server/serve.js';
import { AdminApp } from './admin-app.js';
import { InProcessBackend } from './backends/in-process.js';
import { RemoteBackend } from './backends/remote.js';
import { ClientApp } from './client-app.js';
import { DoorClient } from '../client/door-client.js';
import { doorKeyOf, fileQueueStore } from '../client/door-queue-file.js';
import { DoorSession } from '../client/door-session.js';
import { DoorApp } from './door-app.js';
import { LogTail } from './log-tail.js';
import { fileEntryStore } from './waiting-room/entry-file.js';

// Alternate screen (the shell's screen comes back on exit), cursor home, and "alternate scroll":
// terminals that support it send the mouse wheel as ↑/↓, which the Logs screen scrolls with.
const ENTER_SCREEN = '\u001B[?1049h\u001B[H\u001B[?1007h';
const LEAVE_SCREEN = '\u001B[?1007l\u001B[?1049l';

export interface UiResult {
  code: number;
  message?: string;
}

/** A terminal UI needs a terminal on both ends: keys in, screen out. */
export function hasTerminal(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

/**
 * Renders `app` full screen until it exits. Ink is the only writer to stdout meanwhile; renders are
 * capped at 10 per second. The terminal is restored however the process ends.
 */
async function fullScreen(app: (onExit: (result: UiResult) => void) => ReactElement): Promise<UiResult> {
  let result: UiResult = { code: 0 };
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    process.stdout.write(LEAVE_SCREEN);
  };
  const crash = (err: unknown) => {
    try {
      instance.unmount();
    } catch {
      // already gone
    }
    leave();
    process.stderr.write(`boxoffice: the terminal UI failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  };
  process.once('exit', leave);
  process.on('uncaughtException', crash);
  process.stdout.write(ENTER_SCREEN);
  const instance = render(
    app((r) => (result = r)),
    { exitOnCtrlC: false, maxFps: 10, patchConsole: true },
  );
  try {
    await instance.waitUntilExit();
  } catch (err) {
    result = { code: 1, message: `the terminal UI failed: ${(err as Error).message}` };
  } finally {
    process.off('uncaughtException', crash);
    leave();
  }
  return result;
}

function flush(logger: { flush(cb: (err?: Error) => void): void }): Promise<void> {
  return new Promise((done) => logger.flush(() => done()));
}

function finish(result: UiResult): number {
  if (result.message) process.stderr.write(`boxoffice: ${result.message}\n`);
  return result.code;
}

function requireTerminal(command: string): void {
  if (!hasTerminal()) throw new Error(`${command} is a terminal UI: run it in a terminal (stdin and stdout must be a TTY)`);
}

export interface ClientUiOptions {
  url: string;
  dataDir: string;
  logLevel: LogLevel;
  /** How long to keep trying to reach the server at start (default 10 s). */
  connectTimeoutMs?: number;
}

/** `boxoffice client`: the buyer's UI. Logs go to <data-dir>/logs/client.log and the Logs screen. */
export async function runClientUi(options: ClientUiOptions): Promise<number> {
  requireTerminal('boxoffice client');
  const client = new BoxofficeClient({ baseUrl: options.url });
  const dataDir = resolve(options.dataDir);
  ensureWritableDir(dataDir);
  const tail = new LogTail();
  const { logger } = createFileLogger({ dataDir, name: 'client', level: options.logLevel, prettyStderr: false, extraStream: tail });
  const result = await fullScreen((onExit) => <ClientApp client={client} logger={logger} tail={tail} connectTimeoutMs={options.connectTimeoutMs} onExit={onExit} entries={fileEntryStore(dataDir)} />);
  await flush(logger);
  return finish(result);
}

export interface AdminUiOptions {
  url: string;
  token?: string;
  dataDir: string;
  logLevel: LogLevel;
}

/** The admin token: --token, then BOXOFFICE_ADMIN_TOKEN, then <data-dir>/admin-token (never created here). */
export function findAdminToken(options: { token?: string; dataDir: string }, env: NodeJS.ProcessEnv = process.env): { token?: string; source?: string } {
  if (options.token?.trim()) return { token: options.token.trim(), source: '--token' };
  const fromEnv = env[ADMIN_TOKEN_ENV]?.trim();
  if (fromEnv) return { token: fromEnv, source: ADMIN_TOKEN_ENV };
  const file = join(resolve(options.dataDir), 'admin-token');
  try {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { token, source: file };
  } catch {
    // no token file
  }
  return {};
}

/** `boxoffice admin`: the organiser's screens against a remote server over HTTP. */
export async function runAdminUi(options: AdminUiOptions): Promise<number> {
  requireTerminal('boxoffice admin');
  const { token, source } = findAdminToken(options);
  const client = new BoxofficeClient({ baseUrl: options.url, adminToken: token });
  const dataDir = resolve(options.dataDir);
  ensureWritableDir(dataDir);
  const tail = new LogTail();
  const { logger } = createFileLogger({ dataDir, name: 'admin', level: options.logLevel, prettyStderr: false, extraStream: tail });
  const backend = new RemoteBackend(client, logger, source);
  const result = await fullScreen((onExit) => <AdminApp backend={backend} tail={tail} title="boxoffice admin · organiser" onExit={onExit} />);
  await flush(logger);
  return finish(result);
}

export const DOOR_TOKEN_ENV = 'BOXOFFICE_DOOR_TOKEN';

export interface DoorUiOptions {
  url: string;
  token?: string;
  /** The event, when the door should not look for it among the server's events. */
  eventId?: string;
  /** Where the offline queue is kept between runs. */
  dataDir: string;
}

/** `boxoffice door`: the scan screen for a laptop at the door. The token is never printed. */
export async function runDoorUi(options: DoorUiOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const token = options.token?.trim() || env[DOOR_TOKEN_ENV]?.trim();
  if (!token) throw new Error(`boxoffice door needs a door token: --token or ${DOOR_TOKEN_ENV} (the organiser creates one per door)`);
  requireTerminal('boxoffice door');
  const dataDir = resolve(options.dataDir);
  ensureWritableDir(dataDir);
  const api = new DoorClient({ baseUrl: options.url, token });
  const session = new DoorSession(api, { eventId: options.eventId, store: fileQueueStore(dataDir, doorKeyOf(token)) });
  const result = await fullScreen((onExit) => <DoorApp session={session} baseUrl={api.baseUrl} onExit={onExit} />);
  session.stop();
  return finish(result);
}

export type ServeUiOptions = Omit<ServeOptions, 'headless' | 'logStream' | 'onProgress'>;

/**
 * `boxoffice serve` in a terminal: the server runs in this process with the admin screens around it.
 * Its log goes to <data-dir>/logs/server.log and the Logs screen (not stderr); Quit, Ctrl-C, SIGINT
 * and SIGTERM all shut it down gracefully.
 */
export async function runServeUi(options: ServeUiOptions): Promise<number> {
  const tail = new LogTail();
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const backend = new InProcessBackend(
    (onProgress) => startServer({ ...options, headless: false, logStream: tail, onProgress }),
    `http://${host}:${options.port}`,
    // The line's numbers come from the routes that serve them to remote organisers, on this server.
    (url) => {
      const client = new BoxofficeClient({ baseUrl: url, adminToken: findAdminToken({ dataDir: options.dataDir }).token });
      return { summary: (id) => client.queueSummary(id), pause: (id) => client.pauseQueue(id), resume: (id) => client.resumeQueue(id) };
    },
  );
  const quitters = new Set<() => void>();
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(130);
    for (const quit of quitters) quit();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const onQuitRequest = (quit: () => void) => {
    quitters.add(quit);
    return () => {
      quitters.delete(quit);
    };
  };
  const result = await fullScreen((onExit) => (
    <AdminApp backend={backend} tail={tail} title="boxoffice serve · organiser" onExit={onExit} onQuitRequest={onQuitRequest} />
  ));
  return finish(result);
}
