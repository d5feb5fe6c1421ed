import { statfsSync } from 'node:fs';

/**
 * Below this much free space the server does not start: the database, its WAL and the log all
 * need room, and a server that starts only to answer 503 to every booking helps nobody.
 */
export const MIN_FREE_BYTES = 1024 * 1024;

/** Why the file system holding `dir` is too full to start on, or undefined when there is room. */
export function diskFullProblem(dir: string): string | undefined {
  let free: number;
  try {
    const stats = statfsSync(dir);
    // bavail: what an unprivileged process may use (root's reserve does not count).
    free = stats.bavail * stats.bsize;
  } catch {
    return undefined; // Not knowing is no reason to refuse: the writes themselves will tell.
  }
  if (free >= MIN_FREE_BYTES) return undefined;
  return `the disk holding ${dir} is full (${formatBytes(free)} free, at least ${formatBytes(MIN_FREE_BYTES)} needed): free some space and start again`;
}

function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${Math.floor(n / 1024)} KiB`;
  return `${n} bytes`;
}
