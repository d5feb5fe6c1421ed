import { join } from 'node:path';
import pino, { type Logger, type TransportTargetOptions } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * JSON lines to `<dataDir>/logs/<name>.log` for machines, and, when asked, readable lines on stderr
 * for a person. Both run in pino's transport thread, so formatting never costs the HTTP thread.
 */
export function createFileLogger(options: { dataDir: string; name: 'server' | 'client'; level: LogLevel; prettyStderr: boolean }): {
  logger: Logger;
  file: string;
} {
  const file = join(options.dataDir, 'logs', `${options.name}.log`);
  const targets: TransportTargetOptions[] = [
    { target: 'pino/file', level: options.level, options: { destination: file, mkdir: true } },
  ];
  if (options.prettyStderr) {
    targets.push({
      target: 'pino-pretty',
      level: options.level,
      options: { destination: 2, colorize: Boolean(process.stderr.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
    });
  }
  const logger = pino({ level: options.level, base: { pid: process.pid } }, pino.transport({ targets }));
  return { logger, file };
}
