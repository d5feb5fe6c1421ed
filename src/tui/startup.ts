import { useCallback, useEffect, useState } from 'react';
import type { Progress } from './admin-backend.js';

/** The screens every app starts with, and the one it lands on once started. */
export type StartupScreen = { name: 'starting' } | { name: 'failed'; message: string } | { name: 'menu' };

/** Runs until the app can show its menu; throws an Error whose message is one plain sentence. */
export type StartFn = (signal: AbortSignal, onProgress: (progress: Progress) => void) => Promise<void>;

/**
 * Starts the app (connects, or starts the server) behind a progress bar: `starting` while `start`
 * runs, then `menu`, or `failed` with its message; `retry` runs it again. Keep `start` stable
 * (useCallback): a new one starts over.
 */
export function useStartup(nav: { reset(screen: StartupScreen): void }, start: StartFn, firstLabel: string): { progress: Progress; retry: () => void } {
  const [progress, setProgress] = useState<Progress>({ fraction: 0, label: firstLabel });
  const [attempt, setAttempt] = useState(0);
  const { reset } = nav;
  useEffect(() => {
    const abort = new AbortController();
    reset({ name: 'starting' });
    start(abort.signal, (p) => {
      if (!abort.signal.aborted) setProgress(p);
    }).then(
      () => {
        if (!abort.signal.aborted) reset({ name: 'menu' });
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        setProgress((p) => ({ ...p, fraction: 1 }));
        reset({ name: 'failed', message: err instanceof Error ? err.message : String(err) });
      },
    );
    return () => abort.abort();
  }, [attempt, start, reset]);
  return { progress, retry: useCallback(() => setAttempt((a) => a + 1), []) };
}
