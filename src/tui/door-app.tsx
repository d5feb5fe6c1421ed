import { useCallback, useEffect, useState } from 'react';
import type { DoorSession, Verdict } from '../client/door-session.js';
import { Frame } from './components/Frame.js';
import { useFrameSize, useThrottledSubscription } from './hooks.js';
import { KeyboardProvider } from './keys.js';
import { useScreenMachine, type ExitResult } from './screen-machine.js';
import { ConflictsScreen } from './screens/door/ConflictsScreen.js';
import { DOOR_HINTS, type DoorScreen } from './screens/door/door-screens.js';
import { ScanScreen, type ScannedLine } from './screens/door/ScanScreen.js';
import { CONNECTION_VIEW } from './screens/door/verdict-view.js';
import { FailedScreen, StartingScreen } from './screens/StartupScreens.js';
import { useStartup, type StartFn } from './startup.js';

export interface DoorAppProps {
  session: DoorSession;
  baseUrl: string;
  onExit?: (result: ExitResult) => void;
  /** Keep this many answers on screen (default 50). */
  historySize?: number;
}

/**
 * `boxoffice door`: download the door list (progress bar, Retry / Quit on failure), then the scan
 * screen. Scans are answered in the order typed; the session decides online or offline.
 */
export function DoorApp(props: DoorAppProps) {
  return (
    <KeyboardProvider>
      <DoorScreens {...props} />
    </KeyboardProvider>
  );
}

function DoorScreens({ session, baseUrl, onExit, historySize = 50 }: DoorAppProps) {
  const { width, height, body } = useFrameSize();
  const nav = useScreenMachine<DoorScreen>({ initial: { name: 'starting' }, onExit, shutdown: () => session.stop() });
  useThrottledSubscription(useCallback((listener) => session.subscribe(listener), [session]));
  const start: StartFn = useCallback(
    async (_signal, onProgress) => {
      onProgress({ fraction: 0.2, label: `Downloading the door list from ${baseUrl}…` });
      await session.start();
      onProgress({ fraction: 1, label: 'Door list downloaded.' });
    },
    [session, baseUrl],
  );
  const { progress, retry } = useStartup(nav, start, `Connecting to ${baseUrl}…`);
  const [history, setHistory] = useState<readonly ScannedLine[]>([]);
  const [checking, setChecking] = useState(0);
  const [doorName, setDoorName] = useState<string | undefined>(undefined);
  useEffect(() => () => session.stop(), [session]);

  const onScan = useCallback(
    (code: string) => {
      setChecking((n) => n + 1);
      session
        .scan(code)
        .catch((err: unknown): Verdict => ({ kind: 'error', code: 'error', message: err instanceof Error ? err.message : String(err) }))
        .then((verdict) => {
          setChecking((n) => n - 1);
          if (verdict.kind === 'admitted' && !verdict.offline) setDoorName((d) => d ?? session.doorName);
          setHistory((h) => [{ at: Date.now(), verdict }, ...h].slice(0, historySize));
        });
    },
    [session, historySize],
  );

  const snapshot = session.snapshot();
  const { screen } = nav;
  let content;
  switch (screen.name) {
    case 'starting':
      content = <StartingScreen progress={progress} width={width} />;
      break;
    case 'failed':
      content = (
        <FailedScreen
          progress={{ ...progress, label: `Could not start the door against ${baseUrl}.` }}
          width={width}
          message={screen.message}
          onRetry={retry}
          onQuit={() => nav.quit(1, screen.message)}
        />
      );
      break;
    case 'menu':
      content = (
        <ScanScreen
          snapshot={snapshot}
          doorName={doorName ?? session.doorName}
          history={history}
          checking={checking}
          width={width}
          height={body}
          onScan={onScan}
          onConflicts={() => nav.go({ name: 'conflicts' })}
        />
      );
      break;
    case 'conflicts':
      content = <ConflictsScreen snapshot={snapshot} width={width} height={body} onBack={nav.back} />;
      break;
  }
  const starting = screen.name === 'starting' || screen.name === 'failed';
  return (
    <Frame
      title="boxoffice door"
      address={baseUrl}
      connection="connecting"
      indicator={starting ? undefined : CONNECTION_VIEW[snapshot.connection]}
      width={width}
      height={height}
      status={nav.status}
      hints={DOOR_HINTS[screen.name]}
    >
      {content}
    </Frame>
  );
}
