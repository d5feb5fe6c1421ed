import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger, type TransportTargetOptions } from 'pino';
import type { RollOptions } from './log-target.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

let transportFailed = false;

/** Each log file's size before it is rotated, and how many files are kept in all (the live one included). */
export const DEFAULT_LOG_MAX_SIZE = 20 * 1024 * 1024;
export const DEFAULT_LOG_FILES = 5;

/** A new file every day or hour (at local midnight, on the hour), or every so many milliseconds. */
export type LogFrequency = 'daily' | 'hourly' | number;

/** How the log files rotate: by size, and also by time when `frequency` is set. */
export interface LogRotation {
  maxSize?: number;
  files?: number;
  frequency?: LogFrequency;
}

/**
 * The date in a timed file's name, so a restart continues today's file instead of an older one
 * that happens to have the same number, and the oldest is found by name.
 */
const DATE_FORMATS: Record<string, string> = { daily: 'yyyy-MM-dd', hourly: 'yyyy-MM-dd-HH' };

/** pino-roll's options for `<file>`; the files kept count the live one. */
export function rollOptions(file: string, rotation: LogRotation): RollOptions {
  const { maxSize = DEFAULT_LOG_MAX_SIZE, files = DEFAULT_LOG_FILES, frequency } = rotation;
  return {
    file,
    // pino-roll reads a number as MiB.
    size: maxSize / 1024 ** 2,
    ...(frequency !== undefined && { frequency, dateFormat: DATE_FORMATS[frequency] ?? 'yyyy-MM-dd-HHmmss' }),
    // pino-roll keeps `count` files besides the live one. removeOtherLogFiles: it counts the files in
    // the directory, not only this process's, so those of earlier runs (and other --workers) go too.
    limit: { count: Math.max(1, files - 1), removeOtherLogFiles: true },
    mkdir: true,
    mode: 0o600,
  };
}

/**
 * Our log file target (log-target.ts: pino-roll, plus the stable `<name>.log` and a full disk that
 * drops lines instead of killing the process); pino-roll alone when this module runs from
 * TypeScript source, which a transport thread cannot load.
 */
function fileTarget(): string {
  return import.meta.url.endsWith('.ts') ? 'pino-roll' : fileURLToPath(new URL('./log-target.js', import.meta.url));
}

/**
 * JSON lines to `<dataDir>/logs/<name>.log` (a symlink to the live numbered file) for machines, and, when asked, readable lines on stderr
 * for a person. Both run in pino's transport thread, so formatting never costs the HTTP thread.
 */
export function createFileLogger(options: {
  dataDir: string;
  name: 'server' | 'client' | 'admin';
  level: LogLevel;
  prettyStderr: boolean;
  /** Also hands every JSON line to this in-process destination (a terminal UI's log tail). */
  extraStream?: { write(line: string): unknown };
  /** Rotation: bytes a file may reach, files kept in all (`<name>.1.log`, `<name>.2.log`, …), and by time. */
  rotation?: LogRotation;
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
      options: rollOptions(file, options.rotation ?? {}),
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
