import { InvalidArgumentError, type Command } from 'commander';

/** How a terminal program names the server it talks to: `--url`, or `--host` and `--port`. */
export interface ServerAddressFlags {
  url?: string;
  host: string;
  port: number;
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) throw new InvalidArgumentError('port must be a whole number from 1 to 65535.');
  return n;
}

function url(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidArgumentError('url must be an address like http://127.0.0.1:8080.');
  }
  if (!/^https?:$/.test(parsed.protocol)) throw new InvalidArgumentError('url must start with http:// or https://.');
  return value.replace(/\/+$/, '');
}

/**
 * The same three flags on `client`, `admin` and `door`, so a command line written for one works for
 * the others (the README once had `admin --url` next to `client --port`).
 */
export function addServerAddressOptions(command: Command): Command {
  return command
    .option('--host <address>', 'server host', 'localhost')
    .option('--port <n>', 'server port', port, 8080)
    .option('--url <url>', 'server URL (instead of --host and --port), e.g. http://tickets.example:8080', url);
}

/**
 * The server's URL: `--url` when given, else from `--host` and `--port`. Both `--url` and an explicit
 * `--host`/`--port` would say two different things, so that is refused.
 */
export function serverUrl(command: Command): string {
  const opts = command.opts<ServerAddressFlags>();
  if (opts.url) {
    const explicit = (['host', 'port'] as const).filter((name) => command.getOptionValueSource(name) === 'cli');
    if (explicit.length > 0) throw new InvalidArgumentError(`give either --url or --host/--port, not both (got --url and --${explicit.join(' and --')}).`);
    return opts.url;
  }
  return `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
}
