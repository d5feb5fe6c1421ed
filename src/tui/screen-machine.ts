import { useApp } from 'ink';
import { useCallback, useRef, useState } from 'react';
import type { Status } from './components/StatusLine.js';
import { useKeys } from './keys.js';

/** A screen: its name picks the component, the rest is what that screen was opened with. */
export interface ScreenState {
  name: string;
}

export interface ExitResult {
  code: number;
  message?: string;
}

export interface ScreenMachineOptions<S extends ScreenState> {
  /** The first screen. */
  initial: S;
  /** Once, when the app is done. */
  onExit?: (result: ExitResult) => void;
  /** Run on quit before `onExit`; a rejection exits with code 1 and "shutdown failed: …". */
  shutdown?: () => void | Promise<void>;
  /** Shown while an asynchronous `shutdown` runs. */
  stopping?: S;
}

/**
 * The screens of one app as a stack (the top one is shown), the status line, and quitting. Once the
 * app quits, navigation is ignored: an answer arriving during shutdown cannot bring a screen back.
 */
export interface ScreenMachine<S extends ScreenState> {
  readonly screen: S;
  /** Opens `next` above the current screen; `back` returns here. Clears a warning or refusal about the screen left. */
  go(next: S): void;
  /** Swaps the current screen for `next` (a step of the same task: busy, done, refused). */
  replace(next: S): void;
  /** Esc: the screen below; the bottom screen stays. */
  back(): void;
  /** Starts over with `root` as the only screen. */
  reset(root: S): void;
  readonly status: Status | undefined;
  /** An outcome the user caused: replaces whatever the status line shows. */
  setStatus(status: Status): void;
  /** A notice the user did not cause (e.g. the connection dropped); the next `setStatus` replaces it. */
  notice(status: Status): void;
  /** Updates the notice only while it is still shown, so a repeated notice never hides an outcome. */
  refreshNotice(status: Status): void;
  /** Once: `shutdown`, then `onExit` and Ink's exit. Ctrl-C calls it too. */
  quit(code?: number, message?: string): void;
}

export function useScreenMachine<S extends ScreenState>(options: ScreenMachineOptions<S>): ScreenMachine<S> {
  const { exit } = useApp();
  const [stack, setStack] = useState<readonly S[]>(() => [options.initial]);
  const [status, setOutcome] = useState<Status | undefined>(undefined);
  const showingNotice = useRef(false);
  const done = useRef(false);
  // quit stays the same function across renders (hosts register it once), yet runs the latest options.
  const latest = useRef(options);
  latest.current = options;

  const navigate = useCallback((change: (stack: readonly S[]) => readonly S[]) => {
    if (!done.current) setStack(change);
  }, []);
  const go = useCallback(
    (next: S) => {
      if (done.current) return;
      // A warning or refusal was about the screen the user is leaving ("No tickets selected", "sold
      // out"): on a new screen it would read as being about this one. Notices (the connection) stay.
      if (!showingNotice.current) setOutcome((s) => (s && (s.kind === 'warning' || s.kind === 'error') ? undefined : s));
      navigate((s) => [...s, next]);
    },
    [navigate],
  );
  const replace = useCallback((next: S) => navigate((s) => [...s.slice(0, -1), next]), [navigate]);
  const back = useCallback(() => navigate((s) => (s.length > 1 ? s.slice(0, -1) : s)), [navigate]);
  const reset = useCallback((root: S) => navigate(() => [root]), [navigate]);

  const setStatus = useCallback((s: Status) => {
    showingNotice.current = false;
    setOutcome(s);
  }, []);
  const notice = useCallback((s: Status) => {
    showingNotice.current = true;
    setOutcome(s);
  }, []);
  const refreshNotice = useCallback((s: Status) => {
    if (showingNotice.current) setOutcome(s);
  }, []);

  const quit = useCallback(
    (code = 0, message?: string) => {
      if (done.current) return;
      done.current = true;
      const { onExit, shutdown, stopping } = latest.current;
      if (stopping) setStack([stopping]);
      const finish = (result: ExitResult) => {
        onExit?.(result);
        exit();
      };
      const pending = shutdown?.();
      if (!pending) return finish({ code, message });
      pending.then(
        () => finish({ code, message }),
        (err: unknown) => finish({ code: 1, message: `shutdown failed: ${err instanceof Error ? err.message : String(err)}` }),
      );
    },
    [exit],
  );

  useKeys((input, key) => {
    if (key.ctrl && input === 'c') quit();
  });

  return { screen: stack[stack.length - 1]!, go, replace, back, reset, status, setStatus, notice, refreshNotice, quit };
}
