/**
 * A server started by an npm script (`npm start`) lives as long as npm does. npm forwards SIGTERM and
 * SIGINT to the script, but when npm itself is killed outright (SIGKILL, an OOM kill, a crashed
 * supervisor) the server would be reparented to init and keep the port, answering /healthz for a
 * process nobody manages any more. So, only under an npm script, the server watches its parent: when
 * the parent changes (npm is gone), it sends itself SIGTERM and stops the way a signal stops it.
 *
 * Not for a server started directly (`node dist/cli.js serve &`, nohup, systemd): there, outliving
 * the shell that started it is the point.
 */
export const PARENT_CHECK_MS = 1_000;

export function startedByNpmScript(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.npm_lifecycle_event === 'string' && env.npm_lifecycle_event !== '';
}

/** Checks the parent pid every `intervalMs`; once it changes, calls `onOrphaned` (once) and stops checking. */
export function watchParent(onOrphaned: () => void, intervalMs = PARENT_CHECK_MS): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, intervalMs);
  // The check alone must not keep a process alive that has nothing else to do.
  timer.unref();
  return () => clearInterval(timer);
}
