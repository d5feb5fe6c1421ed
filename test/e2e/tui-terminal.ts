/**
 * Drives the built CLI in a real terminal: a private tmux server (its own socket, so parallel test
 * files never meet), one 80×24 window per program, keys in with send-keys, the screen out with
 * capture-pane. Every wait polls the screen with a deadline; nothing sleeps a fixed time.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLI_PATH, REPO_ROOT } from '../helpers/server-process.js';

export const TMUX = '/usr/bin/tmux';
const EXIT_MARK = /\[exited (\d+)\]/;

/** A shell word, quoted. */
const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

export class TmuxServer {
  readonly socket = `boxoffice-e2e-${process.pid}-${randomBytes(4).toString('hex')}`;
  private windows = 0;

  /** tmux with this server's socket and no user configuration. */
  run(...args: string[]): string {
    return execFileSync(TMUX, ['-L', this.socket, '-f', '/dev/null', ...args], {
      encoding: 'utf8',
      // A plain environment: no CI (Ink would only print the last frame), no test-runner options.
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color', LANG: 'C.UTF-8', TZ: process.env.TZ ?? 'UTC' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /**
   * Runs `node dist/cli.js <args>` in a new 80×24 terminal. When the program exits, the window stays
   * and shows `[exited <code>]`, so a crash can be seen rather than a vanished window.
   */
  open(args: readonly string[], options: { env?: Record<string, string>; width?: number; height?: number } = {}): Terminal {
    const name = `t${++this.windows}`;
    const env = Object.entries({ NO_COLOR: '', FORCE_COLOR: '', ...options.env })
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ');
    const command = `cd ${quote(REPO_ROOT)} && env -u NO_COLOR -u FORCE_COLOR ${env} ${quote(process.execPath)} ${quote(CLI_PATH)} ${args.map(quote).join(' ')}; echo "[exited $?]"; sleep 600`;
    this.run('new-session', '-d', '-s', name, '-x', String(options.width ?? 80), '-y', String(options.height ?? 24), command);
    return new Terminal(this, name);
  }

  /** Ends every window and the server itself, and removes its socket file. */
  kill(): void {
    try {
      this.run('kill-server');
    } catch {
      // already gone
    }
    // run() starts tmux without TMUX_TMPDIR, so the socket is under /tmp.
    rmSync(join('/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}

export class Terminal {
  constructor(
    private readonly server: TmuxServer,
    readonly name: string,
  ) {}

  /** The screen as text; with `colors`, SGR escapes included. */
  screen(options: { colors?: boolean } = {}): string {
    return this.server.run('capture-pane', '-p', ...(options.colors ? ['-e'] : []), '-t', this.name);
  }

  size(): string {
    return this.server.run('display-message', '-p', '-t', this.name, '#{pane_width}x#{pane_height}').trim();
  }

  /** Named keys (Enter, Up, Escape, Tab, BSpace, …). */
  keys(...keys: string[]): void {
    this.server.run('send-keys', '-t', this.name, ...keys);
  }

  /** Text typed literally. */
  type(text: string): void {
    this.server.run('send-keys', '-t', this.name, '-l', '--', text);
  }

  /** The exit code once the program has exited, else undefined. */
  exitCode(): number | undefined {
    const m = EXIT_MARK.exec(this.screen());
    return m ? Number(m[1]) : undefined;
  }

  /**
   * Polls the screen until `match` holds and returns it; fails with the last screen after the
   * deadline (generous: the machine is a loaded 2-core box).
   */
  async waitFor(match: string | RegExp | ((screen: string) => boolean), options: { timeoutMs?: number; colors?: boolean } = {}): Promise<string> {
    const test = typeof match === 'function' ? match : typeof match === 'string' ? (s: string) => s.includes(match) : (s: string) => match.test(s);
    const timeoutMs = options.timeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen({ colors: options.colors });
      if (test(screen)) return screen;
      if (Date.now() > deadline) {
        throw new Error(`terminal ${this.name}: no screen matched ${String(match)} within ${timeoutMs} ms. Last screen:\n${screen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The row of the event list (or any line) that mentions `text`, skipping the filter line. */
export function rowOf(screen: string, text: string): string {
  return screen.split('\n').find((line) => /^[› ] /.test(line) && line.includes(text)) ?? '';
}

/** The status line (second to last line of the frame). */
export function statusLine(screen: string): string {
  const lines = screen.replace(/\n+$/, '').split('\n');
  return lines.at(-2) ?? '';
}
