import { once } from 'node:events';
import { fstatSync, readdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import pino from 'pino';

/** What a full disk may hold back in memory before new lines are dropped (and counted). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How often a stuck log retries on its own when no new line arrives to retry it. */
const RETRY_MS = 1000;

/**
 * The log file's transport target (runs in pino's transport thread), in place of `pino/file`: the
 * same sonic-boom file stream, except that a write error (ENOSPC on a full disk, EIO) never kills
 * the thread, and so never the server. While the file cannot be written, lines wait in memory up to
 * MAX_BUFFERED_BYTES, then new ones are dropped and counted; when a write succeeds again, one warning
 * line says how many were lost. Nothing here throws after start.
 */
export default async function logFileTarget(options: { destination: string; mkdir?: boolean; mode?: number; maxSize?: number; files?: number }): Promise<ReturnType<typeof pino.destination>> {
  const file = pino.destination({ dest: options.destination, sync: false, mkdir: options.mkdir ?? true, mode: options.mode, maxLength: MAX_BUFFERED_BYTES });
  await once(file, 'ready');
  if (options.maxSize) rotateBySize(file, options.destination, options.maxSize, options.files ?? 1);
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

/**
 * Size rotation, logrotate style: past `maxSize` bytes, `<file>` becomes `<file>.1` (`.1` becomes
 * `.2`, …; the oldest beyond `files` in all is removed) and a new `<file>` is opened, so the live
 * log keeps its documented name (pino-roll numbers the live file instead: server.1.log, server.2.log…).
 * Renames, not copies: nothing is rewritten, and a rename works on a full disk too.
 *
 * Every `checkEvery` bytes this process wrote, it looks at the file by its name (two stats): with
 * `--workers` every process appends to the same file, so the size that counts is the file's, and a
 * file another process already rotated is followed (reopened), not rotated again. A file may pass
 * `maxSize` by about `checkEvery` per process plus what was buffered when it was crossed.
 */
function rotateBySize(file: ReturnType<typeof pino.destination>, path: string, maxSize: number, files: number): void {
  const checkEvery = Math.max(4096, Math.floor(maxSize / 32));
  let sinceCheck = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  file.on('write', (n: number) => {
    sinceCheck += n;
    if (sinceCheck < checkEvery) return;
    sinceCheck = 0;
    try {
      const named = statSync(path, { throwIfNoEntry: false });
      const open = fstatSync((file as unknown as { fd: number }).fd);
      if (!named || named.ino !== open.ino || named.dev !== open.dev) {
        // Rotated by another process (or moved away by hand): write to the file of that name now.
        file.reopen();
      } else if (open.size >= maxSize) {
        shiftFiles(path, files);
        file.reopen();
      }
    } catch {
      // A failed stat, rename or reopen leaves the current file in use; the next check tries again.
    }
  });
}

/** `<path>.k` → `<path>.k+1` down to `<path>` → `<path>.1`; removes what would be beyond `files`. */
function shiftFiles(path: string, files: number): void {
  const dir = dirname(path);
  const name = basename(path);
  for (const entry of readdirSync(dir)) {
    const n = entry.startsWith(`${name}.`) ? Number(entry.slice(name.length + 1)) : NaN;
    if (Number.isInteger(n) && n >= files - 1) unlinkSync(join(dir, entry));
  }
  for (let i = files - 2; i >= 1; i--) renameIfThere(`${path}.${i}`, `${path}.${i + 1}`);
  if (files >= 2) renameIfThere(path, `${path}.1`);
  else unlinkSync(path);
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
