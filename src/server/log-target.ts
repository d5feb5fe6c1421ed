import { once } from 'node:events';
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
export default async function logFileTarget(options: { destination: string; mkdir?: boolean; mode?: number }): Promise<ReturnType<typeof pino.destination>> {
  const file = pino.destination({ dest: options.destination, sync: false, mkdir: options.mkdir ?? true, mode: options.mode, maxLength: MAX_BUFFERED_BYTES });
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
