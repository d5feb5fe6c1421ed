import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger, type TransportTargetOptions } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let transportFailed = false;

/** Each log file's size before it is rotated, and how many files are kept in all (the live one included). */
export const DEFAULT_LOG_MAX_SIZE = 20 * 1024 * 1024;
export const DEFAULT_LOG_FILES = 5;

/**
 * Our log file target (log-target.ts: a full disk drops lines instead of killing the process); the
 * plain `pino/file` only when this module runs from TypeScript source, which a transport thread
 * cannot load.
 */
function fileTarget(): string {
  return import.meta.url.endsWith('.ts') ? 'pino/file' : fileURLToPath(new URL('./log-target.js', import.meta.url));
}

/**
 * JSON lines to `<dataDir>/logs/<name>.log` for machines, and, when asked, readable lines on stderr
 * for a person. Both run in pino's transport thread, so formatting never costs the HTTP thread.
 */
export function createFileLogger(options: {
  dataDir: string;
  name: 'server' | 'client' | 'admin';
  level: LogLevel;
  prettyStderr: boolean;
  /** Also hands every JSON line to this in-process destination (a terminal UI's log tail). */
  extraStream?: { write(line: string): unknown };
  /** Rotation: bytes a file may reach, and files kept in all (`<name>.log`, `.log.1`, …). */
  maxSize?: number;
  files?: number;
}): {
  logger: Logger;
  file: string;
} {
  const file = join(options.dataDir, 'logs', `${options.name}.log`);
  // Logs are this account's only (they name bookings and buyers' requests): 0700 directory, 0600 file.
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const targets: TransportTargetOptions[] = [
    {
      target: fileTarget(),
      level: options.level,
      options: { destination: file, mkdir: true, mode: 0o600, maxSize: options.maxSize ?? DEFAULT_LOG_MAX_SIZE, files: options.files ?? DEFAULT_LOG_FILES },
    },
  ];
  if (options.prettyStderr) {
    targets.push({
      target: 'pino-pretty',
      level: options.level,
      options: { destination: 2, colorize: Boolean(process.stderr.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
    });
  }
  const transport = pino.transport({ targets });
  // Last line of defence: if the log thread dies anyway, logging stops but the server keeps serving.
  transport.on('error', (err: Error) => {
    if (!transportFailed) process.stderr.write(`boxoffice: logging stopped: ${err.message}\n`);
    transportFailed = true;
  });
  if (!options.extraStream) return { logger: pino({ level: options.level, base: { pid: process.pid } }, transport), file };
  const streams = pino.multistream([
    { level: options.level === 'silent' ? 'fatal' : options.level, stream: transport },
    { level: options.level === 'silent' ? 'fatal' : options.level, stream: options.extraStream },
  ]);
  // multistream has no flush(cb); logger.flush(cb) must still wait for the file.
  const flushable = Object.assign(streams, { flush: (cb: (err?: Error) => void) => transport.flush(cb) });
  return { logger: pino({ level: options.level, base: { pid: process.pid } }, flushable), file };
}
