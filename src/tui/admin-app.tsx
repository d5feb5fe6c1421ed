import { Box, useApp } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { NewEventInput } from '../client/types.js';
import type { AdminBackend } from './admin-backend.js';
import { ConnectingView, FailedView, type Progress } from './components/ConnectView.js';
import { EventCreator } from './components/EventCreator.js';
import { EventList } from './components/EventList.js';
import { FRAME_ROWS, Frame, type Connection } from './components/Frame.js';
import { LogView } from './components/LogView.js';
import { MainMenu } from './components/MainMenu.js';
import { Spinner } from './components/Spinner.js';
import type { Status } from './components/StatusLine.js';
import { formatCount, formatEventDate, plural } from './format.js';
import { useTerminalSize, useThrottledSubscription } from './hooks.js';
import type { LogTail } from './log-tail.js';
import { KeyboardProvider, useKeys } from './keys.js';

export interface AdminAppProps {
  backend: AdminBackend;
  tail: LogTail;
  /** Header title, e.g. "boxoffice · organiser". */
  title?: string;
  /** Once, when the app is done: code 1 (with the reason) when it never started. */
  onExit?: (result: { code: number; message?: string }) => void;
  /** Lets the host ask for a graceful quit (SIGINT/SIGTERM): registers the app's quit. */
  onQuitRequest?: (quit: () => void) => () => void;
}

type Screen =
  | { name: 'starting' }
  | { name: 'failed'; message: string }
  | { name: 'menu' }
  | { name: 'events' }
  | { name: 'add'; busy: boolean; error?: string }
  | { name: 'logs' }
  | { name: 'stopping' };

const HINTS: Record<Screen['name'], string> = {
  starting: 'Ctrl-C quit',
  failed: '↑↓ move · Enter choose · q quit',
  menu: '↑↓/jk move · Enter choose · q quit',
  events: '↑↓ move · type to filter · Esc back',
  add: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on Create submits · Esc cancel',
  logs: '↑↓ scroll · PgUp/PgDn page · Home/End · Esc back',
  stopping: 'please wait…',
};

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
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const model = backend.model;
  useThrottledSubscription(useCallback((listener) => model.subscribe(listener), [model]));
  const [screen, setScreen] = useState<Screen>({ name: 'starting' });
  const [progress, setProgress] = useState<Progress>({ fraction: 0, label: 'Starting…' });
  const [status, setStatus] = useState<Status | undefined>(undefined);
  const [attempt, setAttempt] = useState(0);
  // Back in the menu, the highlight is where it was left.
  const [menuIndex, setMenuIndex] = useState(0);
  const [filter, setFilter] = useState('');
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
  const started = useRef(false);
  const done = useRef(false);

  const quit = useCallback(
    (code = 0, message?: string) => {
      if (done.current) return;
      done.current = true;
      setScreen({ name: 'stopping' });
      const finish = (result: { code: number; message?: string }) => {
        onExit?.(result);
        exit();
      };
      backend.stop().then(
        () => finish({ code, message }),
        (err: unknown) => finish({ code: 1, message: `shutdown failed: ${(err as Error).message}` }),
      );
    },
    [backend, exit, onExit],
  );

  useEffect(() => onQuitRequest?.(() => quit()), [onQuitRequest, quit]);

  useEffect(() => {
    const abort = new AbortController();
    setScreen({ name: 'starting' });
    backend
      .start({
        signal: abort.signal,
        onProgress: (p) => {
          if (!abort.signal.aborted) setProgress(p);
        },
        onNotice: (s) => setStatus(s),
      })
      .then(
        () => {
          if (abort.signal.aborted || done.current) return;
          started.current = true;
          setScreen({ name: 'menu' });
        },
        (err: unknown) => {
          if (abort.signal.aborted || done.current) return;
          setProgress((p) => ({ ...p, fraction: 1 }));
          setScreen({ name: 'failed', message: (err as Error).message });
        },
      );
    return () => abort.abort();
  }, [attempt, backend]);

  useKeys((input, key) => {
    if (key.ctrl && input === 'c') quit();
  });

  const create = async (input: NewEventInput) => {
    setScreen({ name: 'add', busy: true });
    try {
      const event = await backend.createEvent(input);
      setStatus({
        kind: 'success',
        text: `Created ${event.name}: ${plural(event.totalTickets, 'ticket')} on ${formatEventDate(event.date)}`,
      });
      setSelectedId(event.id);
      setFilter('');
      if (!done.current) setScreen({ name: 'events' });
    } catch (err) {
      const message = (err as Error).message;
      setStatus({ kind: 'error', text: message });
      if (!done.current) setScreen({ name: 'add', busy: false, error: message });
    }
  };

  const height = Math.max(8, rows - 1);
  const width = Math.max(40, columns);
  const body = height - FRAME_ROWS;
  const connection: Connection =
    screen.name === 'stopping' ? 'stopping' : !started.current ? 'starting' : backend.kind === 'local' ? 'local' : model.status.state;

  let content;
  switch (screen.name) {
    case 'starting':
      content = <ConnectingView progress={progress} width={width} />;
      break;
    case 'failed':
      content = (
        <Box flexDirection="column">
          <ConnectingView progress={progress} width={width} />
          <FailedView message={screen.message} onRetry={() => setAttempt((a) => a + 1)} onQuit={() => quit(1, screen.message)} />
        </Box>
      );
      break;
    case 'menu':
      content = (
        <MainMenu
          title="Main menu"
          items={[
            { label: 'Events', description: `${plural(model.list().length, 'event')}, live` },
            { label: 'Add Event' },
            { label: 'Logs', description: backend.kind === 'local' ? "the server's log" : "this admin session's log" },
            { label: 'Quit', description: backend.kind === 'local' ? 'stop the server gracefully' : undefined },
          ]}
          onQuit={() => quit()}
          initialIndex={menuIndex}
          onSelect={(i) => {
            setMenuIndex(i);
            if (i === 0) setScreen({ name: 'events' });
            else if (i === 1) setScreen({ name: 'add', busy: false });
            else if (i === 2) setScreen({ name: 'logs' });
            else quit();
          }}
        />
      );
      break;
    case 'events':
      content = (
        <EventList
          events={model.list()}
          height={body}
          width={width}
          showSold
          filter={filter}
          onFilterChange={setFilter}
          selectedId={selectedId}
          onSelectedChange={setSelectedId}
          emptyText="No events yet: add one from the menu."
          onBack={() => setScreen({ name: 'menu' })}
          onPick={(event) => {
            if (!event) return;
            const held = event.heldTickets ?? 0;
            const sold = event.totalTickets - event.availableTickets - held;
            setStatus({
              kind: 'info',
              text: `${event.name}: ${formatCount(sold)} sold, ${held > 0 ? `${formatCount(held)} held, ` : ''}${formatCount(event.availableTickets)} of ${formatCount(event.totalTickets)} left, up to ${event.maxTicketsPerBooking} per booking`,
            });
          }}
        />
      );
      break;
    case 'add':
      content = (
        <EventCreator
          busy={screen.busy}
          error={screen.error}
          onSubmit={(input) => void create(input)}
          onCancel={() => setScreen({ name: 'menu' })}
        />
      );
      break;
    case 'logs':
      content = <LogView tail={tail} height={body} width={width} onBack={() => setScreen({ name: 'menu' })} />;
      break;
    case 'stopping':
      content = (
        <Box marginTop={1}>
          <Spinner label={backend.kind === 'local' ? 'Shutting down: finishing in-flight bookings…' : 'Closing…'} />
        </Box>
      );
      break;
  }

  return (
    <Frame title={title} address={backend.address} connection={connection} width={width} height={height} status={status} hints={HINTS[screen.name]}>
      {content}
    </Frame>
  );
}
