import { once } from 'node:events';
import { lstatSync, renameSync, symlinkSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import type pino from 'pino';

type FileStream = ReturnType<typeof pino.destination>;

/** pino-roll's options (it ships no types); the rest goes to its sonic-boom stream. */
export interface RollOptions {
  /** `<dir>/<name>.log`: pino-roll writes `<name>.<n>.log`, or `<name>.<date>.<n>.log` with a date format. */
  file: string;
  size?: number;
  frequency?: 'daily' | 'hourly' | number;
  dateFormat?: string;
  limit?: { count: number; removeOtherLogFiles?: boolean };
  mkdir?: boolean;
  mode?: number;
}

const pinoRoll = createRequire(import.meta.url)('pino-roll') as (options: RollOptions & { sync?: boolean; maxLength?: number }) => Promise<FileStream>;

/** What a full disk may hold back in memory before new lines are dropped (and counted). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How often a stuck log retries on its own when no new line arrives to retry it. */
const RETRY_MS = 1000;

/**
 * The log file's transport target (runs in pino's transport thread): pino-roll's stream, which
 * rotates by size and/or time and removes the oldest files, with two things added:
 *
 * - `<name>.log` stays the live file's name: a symlink to the numbered file pino-roll writes now,
 *   moved at every roll (pino-roll's own `symlink` option is one `current.log` per directory, and
 *   server, client and admin logs share `logs/`). A regular `<name>.log` left by an older version
 *   is kept as `<name>.0.log`, the first to go when the count is reached.
 * - a write error (ENOSPC on a full disk, EIO) never kills the thread, and so never the server.
 *   While the file cannot be written, lines wait in memory up to MAX_BUFFERED_BYTES, then new ones
 *   are dropped and counted; when a write succeeds again, one warning line says how many were lost.
 */
export default async function logFileTarget(options: RollOptions): Promise<FileStream> {
  const live = options.file;
  keepOldLiveFile(live);
  const file = await pinoRoll({ ...options, sync: false, maxLength: MAX_BUFFERED_BYTES });
  // 'ready' follows the first open and every reopen, i.e. every roll.
  file.on('ready', () => pointAt(live, (file as unknown as { file: string }).file));
  await once(file, 'ready');
  let failing = false;
  let dropped = 0;
  let retry: ReturnType<typeof setInterval> | undefined;
  file.on('drop', () => dropped++);
  file.on('error', () => {
    if (failing) return;
    failing = true;
    // An empty write makes sonic-boom try its stuck buffer again.
    retry = setInterval(() => file.write(''), RETRY_MS);
    retry.unref();
  });
  file.on('write', () => {
    if (!failing) return;
    failing = false;
    clearInterval(retry);
    const lost = dropped;
    dropped = 0;
    const msg = lost > 0 ? `the log file could not be written for a while (disk full?): ${lost} lines were dropped` : 'the log file could not be written for a while (disk full?); no line was dropped';
    setImmediate(() => file.write(`${JSON.stringify({ level: 40, time: Date.now(), pid: process.pid, droppedLines: lost, msg })}\n`));
  });
  return file;
}

/** Swaps the `live` symlink to `target` in one rename, so a reader never finds it missing. */
function pointAt(live: string, target: string): void {
  const temporary = `${live}.${process.pid}.tmp`;
  try {
    try {
      unlinkSync(temporary);
    } catch {
      // Usually not there.
    }
    symlinkSync(basename(target), temporary);
    renameSync(temporary, live);
  } catch {
    // The numbered file is still written; only its stable name lags until the next roll.
  }
}

function keepOldLiveFile(live: string): void {
  try {
    if (!lstatSync(live).isFile()) return;
    renameSync(live, join(dirname(live), `${basename(live, '.log')}.0.log`));
  } catch {
    // No such file: a fresh directory.
  }
}
