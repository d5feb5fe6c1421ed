/**
 * The screen machine both apps are built on: the screen stack (go, replace, back, reset), the
 * status line (outcomes vs. notices), quitting once (with or without an asynchronous shutdown),
 * Ctrl-C, and start-up with Retry.
 */
import { Text } from 'ink';
import { cleanup } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Progress } from '../../src/tui/admin-backend.js';
import { useScreenMachine, type ExitResult, type ScreenMachine, type ScreenMachineOptions } from '../../src/tui/screen-machine.js';
import { useStartup, type StartFn, type StartupScreen } from '../../src/tui/startup.js';
import { frame, KEYS, press, renderUi, settle } from './helpers.js';

afterEach(cleanup);

type Screen = { name: string; n?: number };

/** Renders the machine's state as one line and hands the machine out to the test. */
function harness(options: Partial<ScreenMachineOptions<Screen>> = {}) {
  const exits: ExitResult[] = [];
  let nav!: ScreenMachine<Screen>;
  function Probe() {
    nav = useScreenMachine<Screen>({ initial: { name: 'root' }, onExit: (r) => exits.push(r), ...options });
    return <Text>{`screen=${nav.screen.name}${nav.screen.n ?? ''} status=${nav.status?.text ?? '-'}`}</Text>;
  }
  const r = renderUi(<Probe />);
  return { r, exits, nav: () => nav };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('useScreenMachine', () => {
  it('go opens a screen above, back returns to the one below, and the bottom screen stays', async () => {
    const { r, nav } = harness();
    await frame(r, 'screen=root');
    nav().go({ name: 'a' });
    await frame(r, 'screen=a');
    nav().go({ name: 'b' });
    await frame(r, 'screen=b');
    nav().back();
    await frame(r, 'screen=a');
    nav().back();
    await frame(r, 'screen=root');
    nav().back();
    await settle();
    expect(r.lastFrame()).toContain('screen=root');
  });

  it('replace swaps the top screen, so back skips it; reset leaves only the new root', async () => {
    const { r, nav } = harness();
    nav().go({ name: 'list' });
    await frame(r, 'screen=list');
    nav().go({ name: 'form', n: 1 });
    nav().replace({ name: 'form', n: 2 });
    nav().replace({ name: 'busy' });
    await frame(r, 'screen=busy');
    nav().back();
    await frame(r, 'screen=list');
    nav().go({ name: 'x' });
    nav().reset({ name: 'menu' });
    await frame(r, 'screen=menu');
    nav().back();
    await settle();
    expect(r.lastFrame()).toContain('screen=menu');
  });

  it('a notice is refreshed only while it is still shown: an outcome set since is never overwritten', async () => {
    const { r, nav } = harness();
    nav().refreshNotice({ kind: 'error', text: 'retry 0' });
    await settle();
    expect(r.lastFrame()).toContain('status=-');
    nav().notice({ kind: 'error', text: 'lost 1' });
    await frame(r, 'status=lost 1');
    nav().refreshNotice({ kind: 'error', text: 'lost 2' });
    await frame(r, 'status=lost 2');
    nav().setStatus({ kind: 'success', text: 'Booked' });
    await frame(r, 'status=Booked');
    nav().refreshNotice({ kind: 'error', text: 'lost 3' });
    await settle();
    expect(r.lastFrame()).toContain('status=Booked');
    nav().notice({ kind: 'error', text: 'lost again' });
    await frame(r, 'status=lost again');
  });

  it('opening a screen drops a warning or refusal about the one left; successes, back and notices keep theirs', async () => {
    const { r, nav } = harness();
    nav().setStatus({ kind: 'warning', text: 'No tickets selected' });
    await frame(r, 'status=No tickets selected');
    nav().back();
    await settle();
    expect(r.lastFrame()).toContain('status=No tickets selected');
    nav().go({ name: 'select' });
    await frame(r, 'screen=select status=-');
    nav().setStatus({ kind: 'error', text: 'Not enough tickets' });
    await frame(r, 'status=Not enough tickets');
    nav().go({ name: 'other' });
    await frame(r, 'screen=other status=-');
    nav().setStatus({ kind: 'success', text: 'Booked' });
    await frame(r, 'status=Booked');
    nav().go({ name: 'logs' });
    await frame(r, 'screen=logs status=Booked');
    nav().notice({ kind: 'error', text: 'Lost connection' });
    await frame(r, 'status=Lost connection');
    nav().go({ name: 'more' });
    await frame(r, 'screen=more status=Lost connection');
  });

  it('quits once (Ctrl-C twice, then quit again), with the code and message of the first call', async () => {
    let shutdowns = 0;
    const { r, exits, nav } = harness({ shutdown: () => void shutdowns++ });
    await frame(r, 'screen=root');
    nav().quit(1, 'gave up');
    press(r, KEYS.ctrlC);
    press(r, KEYS.ctrlC);
    nav().quit();
    await settle();
    expect(exits).toEqual([{ code: 1, message: 'gave up' }]);
    expect(shutdowns).toBe(1);
  });

  it('Ctrl-C quits with code 0', async () => {
    const { r, exits } = harness();
    await frame(r, 'screen=root');
    press(r, KEYS.ctrlC);
    await settle();
    expect(exits).toEqual([{ code: 0, message: undefined }]);
  });

  it('an asynchronous shutdown shows the stopping screen, ignores navigation meanwhile, and exits when it is done', async () => {
    const stop = deferred();
    const { r, exits, nav } = harness({ shutdown: () => stop.promise, stopping: { name: 'stopping' } });
    nav().go({ name: 'form' });
    await frame(r, 'screen=form');
    nav().quit();
    await frame(r, 'screen=stopping');
    // An answer arriving during shutdown must not bring a screen back.
    nav().replace({ name: 'events' });
    nav().back();
    nav().reset({ name: 'menu' });
    await settle();
    expect(r.lastFrame()).toContain('screen=stopping');
    expect(exits).toEqual([]);
    stop.resolve();
    await settle();
    expect(exits).toEqual([{ code: 0, message: undefined }]);
  });

  it('a failed shutdown exits with code 1 and says so', async () => {
    const stop = deferred();
    const { exits, nav } = harness({ shutdown: () => stop.promise });
    nav().quit();
    stop.reject(new Error('the store would not close'));
    await settle();
    expect(exits).toEqual([{ code: 1, message: 'shutdown failed: the store would not close' }]);
  });
});

describe('useStartup', () => {
  /** An app with only the start-up screens: start is called through `attempts`. */
  function startup(attempts: Array<{ onProgress: (p: Progress) => void; signal: AbortSignal; done: ReturnType<typeof deferred> }>) {
    const start: StartFn = (signal, onProgress) => {
      const done = deferred();
      attempts.push({ onProgress, signal, done });
      return done.promise;
    };
    let retry!: () => void;
    function Probe() {
      const nav = useScreenMachine<StartupScreen>({ initial: { name: 'starting' } });
      const startup = useStartup(nav, start, 'Starting…');
      retry = startup.retry;
      const { progress } = startup;
      const failed = nav.screen.name === 'failed' ? ` (${nav.screen.message})` : '';
      return <Text>{`screen=${nav.screen.name}${failed} progress=${progress.label} ${Math.round(progress.fraction * 100)}%`}</Text>;
    }
    return { r: renderUi(<Probe />), retry: () => retry() };
  }

  it('shows progress while starting, then the menu', async () => {
    const attempts: Parameters<typeof startup>[0] = [];
    const { r } = startup(attempts);
    await frame(r, 'screen=starting progress=Starting… 0%');
    attempts[0]!.onProgress({ fraction: 0.5, label: 'Loading events…' });
    await frame(r, 'screen=starting progress=Loading events… 50%');
    attempts[0]!.done.resolve();
    await frame(r, 'screen=menu');
    expect(attempts).toHaveLength(1);
  });

  it('a failure shows its message with the bar full; Retry starts again and can succeed', async () => {
    const attempts: Parameters<typeof startup>[0] = [];
    const { r, retry } = startup(attempts);
    await frame(r, 'screen=starting');
    attempts[0]!.onProgress({ fraction: 0.3, label: 'Connecting…' });
    attempts[0]!.done.reject(new Error('Nothing is listening.'));
    await frame(r, 'screen=failed (Nothing is listening.) progress=Connecting… 100%');
    retry();
    await frame(r, 'screen=starting');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]!.signal.aborted).toBe(true);
    attempts[1]!.done.resolve();
    await frame(r, 'screen=menu');
  });

  it('an abandoned attempt neither moves the bar nor changes the screen', async () => {
    const attempts: Parameters<typeof startup>[0] = [];
    const { r, retry } = startup(attempts);
    await frame(r, 'screen=starting');
    attempts[0]!.done.reject(new Error('down'));
    await frame(r, 'screen=failed');
    retry();
    await frame(r, 'screen=starting');
    // The first attempt's late progress is ignored.
    attempts[0]!.onProgress({ fraction: 0.9, label: 'stale' });
    await settle();
    expect(r.lastFrame()).not.toContain('stale');
    attempts[1]!.onProgress({ fraction: 0.2, label: 'fresh' });
    await frame(r, 'progress=fresh 20%');
  });
});
