import { useCallback, useEffect, useState } from 'react';
import type { Event } from '../client/types.js';
import type { AdminBackend } from './admin-backend.js';
import { Frame, type Connection } from './components/Frame.js';
import { EventList } from './components/EventList.js';
import { LogView } from './components/LogView.js';
import { useFrameSize, useListPosition, useThrottledSubscription } from './hooks.js';
import { KeyboardProvider } from './keys.js';
import type { LogTail } from './log-tail.js';
import { useScreenMachine, type ExitResult } from './screen-machine.js';
import { AddEvent } from './screens/admin/AddEvent.js';
import { BookingsScreen } from './screens/admin/BookingsScreen.js';
import { EditEvent } from './screens/admin/EditEvent.js';
import { EventActions } from './screens/admin/EventActions.js';
import { CheckinScreen } from './screens/admin/CheckinScreen.js';
import { EventsOverview } from './screens/admin/EventsOverview.js';
import { ORGANISER_HINTS, type OrganiserScreen } from './screens/admin/organiser-screens.js';
import { OrganiserMenu } from './screens/admin/OrganiserMenu.js';
import { QueueScreen } from './screens/admin/QueueScreen.js';
import { SaleSettings } from './screens/admin/SaleSettings.js';
import { FailedScreen, StartingScreen } from './screens/StartupScreens.js';
import { WaitScreen } from './screens/WaitScreen.js';
import { useStartup, type StartFn } from './startup.js';

export interface AdminAppProps {
  backend: AdminBackend;
  tail: LogTail;
  /** Header title, e.g. "boxoffice · organiser". */
  title?: string;
  /** Once, when the app is done: code 1 (with the reason) when it never started. */
  onExit?: (result: ExitResult) => void;
  /** Lets the host ask for a graceful quit (SIGINT/SIGTERM): registers the app's quit. */
  onQuitRequest?: (quit: () => void) => () => void;
}

/**
 * The organiser's terminal UI: a progress bar while the server starts (or while we connect to a remote
 * one), then Events (live, with tickets sold), Add Event, Logs and Quit.
 *
 * Keys go through one KeyboardProvider, so keys typed ahead reach the screen they were meant for.
 */
export function AdminApp(props: AdminAppProps) {
  return (
    <KeyboardProvider>
      <AdminScreens {...props} />
    </KeyboardProvider>
  );
}

function AdminScreens({ backend, tail, title = 'boxoffice · organiser', onExit, onQuitRequest }: AdminAppProps) {
  const { width, height, body } = useFrameSize();
  const model = backend.model;
  useThrottledSubscription(useCallback((listener) => model.subscribe(listener), [model]));
  const nav = useScreenMachine<OrganiserScreen>({ initial: { name: 'starting' }, onExit, shutdown: () => backend.stop(), stopping: { name: 'stopping' } });
  const { quit, setStatus } = nav;
  const start: StartFn = useCallback((signal, onProgress) => backend.start({ signal, onProgress, onNotice: setStatus }), [backend, setStatus]);
  const { progress, retry } = useStartup(nav, start, 'Starting…');
  useEffect(() => onQuitRequest?.(() => quit()), [onQuitRequest, quit]);
  // Back in the menu, the highlight is where it was left; back in the list, so are the filter and highlight.
  const [menuIndex, setMenuIndex] = useState(0);
  const position = useListPosition();
  const { onSelectedChange, onFilterChange } = position;
  const showCreated = useCallback(
    (event: Event) => {
      onSelectedChange(event.id);
      onFilterChange('');
    },
    [onSelectedChange, onFilterChange],
  );
  const { screen } = nav;
  const local = backend.kind === 'local';

  let content;
  switch (screen.name) {
    case 'starting':
      content = <StartingScreen progress={progress} width={width} />;
      break;
    case 'failed':
      content = <FailedScreen progress={progress} width={width} message={screen.message} onRetry={retry} onQuit={() => quit(1, screen.message)} />;
      break;
    case 'menu':
      content = <OrganiserMenu nav={nav} index={menuIndex} onIndexChange={setMenuIndex} eventCount={model.list().length} local={local} />;
      break;
    case 'events':
      content = <EventsOverview nav={nav} events={model.list()} position={position} height={body} width={width} />;
      break;
    case 'event':
      content = <EventActions nav={nav} ops={backend.lifecycle} event={model.get(screen.event.id) ?? screen.event} busy={screen.busy} confirming={screen.confirming} width={width} />;
      break;
    case 'edit':
      content = <EditEvent nav={nav} ops={backend.lifecycle} event={screen.event} busy={screen.busy} error={screen.error} />;
      break;
    case 'bookings':
      content = <BookingsScreen nav={nav} ops={backend.lifecycle} event={model.get(screen.event.id) ?? screen.event} height={body} width={width} />;
      break;
    case 'queue':
      content = <QueueScreen nav={nav} ops={backend.queue} event={model.get(screen.event.id) ?? screen.event} width={width} />;
      break;
    case 'sale-settings':
      content = <SaleSettings nav={nav} ops={backend.lifecycle} event={model.get(screen.event.id) ?? screen.event} busy={screen.busy} error={screen.error} />;
      break;
    case 'add':
      content = <AddEvent nav={nav} backend={backend} busy={screen.busy} error={screen.error} onCreated={showCreated} />;
      break;
    case 'logs':
      content = <LogView tail={tail} height={body} width={width} onBack={nav.back} />;
      break;
    case 'checkin-events':
      content = (
        <EventList
          {...position}
          events={model.list()}
          height={body}
          width={width}
          showSold
          emptyText="No events yet: add one from the menu."
          onBack={nav.back}
          onPick={(event) => event && nav.go({ name: 'checkin', event })}
        />
      );
      break;
    case 'checkin':
      content = <CheckinScreen nav={nav} ops={backend.checkin} event={model.get(screen.event.id) ?? screen.event} address={backend.address} width={width} height={body} />;
      break;
    case 'stopping':
      content = <WaitScreen label={local ? 'Shutting down: finishing in-flight bookings…' : 'Closing…'} />;
      break;
  }

  const started = screen.name !== 'starting' && screen.name !== 'failed';
  const connection: Connection = screen.name === 'stopping' ? 'stopping' : !started ? 'starting' : local ? 'local' : model.status.state;
  return (
    <Frame title={title} address={backend.address} connection={connection} width={width} height={height} status={nav.status} hints={ORGANISER_HINTS[screen.name]}>
      {content}
    </Frame>
  );
}
