import { Box, Text, useApp } from 'ink';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../client/api-error.js';
import type { BoxofficeClient } from '../client/boxoffice-client.js';
import type { EventSubscription } from '../client/event-stream.js';
import type { Booking, Event, RetryNotice, StreamStatus } from '../client/types.js';
import type { Logger } from '../core/logger.js';
import { BookingReceipt } from './components/BookingReceipt.js';
import { CancelBookingForm, type CancelRequest } from './components/CancelBookingForm.js';
import { ConnectingView, FailedView, type Progress } from './components/ConnectView.js';
import { EventList } from './components/EventList.js';
import { FRAME_ROWS, Frame } from './components/Frame.js';
import { LogView } from './components/LogView.js';
import { MainMenu } from './components/MainMenu.js';
import { Spinner } from './components/Spinner.js';
import type { Status } from './components/StatusLine.js';
import { TicketSelector } from './components/TicketSelector.js';
import { EventsModel } from './events-model.js';
import { formatDelay, plural } from './format.js';
import { useTerminalSize, useThrottledSubscription } from './hooks.js';
import type { LogTail } from './log-tail.js';
import { KeyboardProvider, useKeys } from './keys.js';

export interface ClientAppProps {
  client: BoxofficeClient;
  logger: Logger;
  tail: LogTail;
  /** How long to keep trying to reach the server before offering Retry / Quit (default 10 s). */
  connectTimeoutMs?: number;
  /** Once, when the user quits: code 1 (with the reason) when they gave up connecting. */
  onExit?: (result: { code: number; message?: string }) => void;
}

type Screen =
  | { name: 'connecting' }
  | { name: 'unreachable'; message: string }
  | { name: 'menu' }
  | { name: 'events' }
  | { name: 'select'; event: Event }
  | { name: 'booking'; label: string }
  | { name: 'receipt'; booking: Booking; eventName: string }
  | { name: 'cancel'; busy: boolean; error?: string }
  | { name: 'logs' };

const MENU = [
  { label: 'Events', description: 'browse and book' },
  { label: 'Cancel a booking', description: 'with its id and secret' },
  { label: 'Logs', description: "this client's log" },
  { label: 'Quit' },
];

const HINTS: Record<Screen['name'], string> = {
  connecting: 'Ctrl-C quit',
  unreachable: '↑↓ move · Enter choose · q quit',
  menu: '↑↓/jk move · Enter choose · q quit',
  events: '↑↓ move · type to filter · Enter pick · Esc back',
  select: '↑↓ or digits choose · Enter book · Esc cancel',
  booking: 'please wait…',
  receipt: 'Enter or Esc back to the events',
  cancel: 'Tab/↓/Enter next · Shift-Tab/↑ back · Enter on the button cancels · Esc back',
  logs: '↑↓ scroll · PgUp/PgDn page · Home/End · Esc back',
};

/** What the booking spinner says while a failed try is repeated. */
export function retryLabel(n: RetryNotice): string {
  const when = `retrying in ${formatDelay(n.delayMs)}… (${n.attempt} of ${n.maxRetries})`;
  switch (n.cause) {
    case 'busy':
      return `Server busy, ${when}`;
    case 'unavailable':
      return `Server unavailable, ${when}`;
    default:
      // Safe: the retry carries the same Idempotency-Key, so the server cannot book twice.
      return `No answer from the server, ${when}`;
  }
}

/**
 * The buyer's terminal UI: connect (with a progress bar), then Events (live list → pick → how many →
 * book → the receipt with the booking's secret), Cancel a booking, Logs and Quit, with the last
 * outcome in a status line.
 *
 * Keys go through one KeyboardProvider, so keys typed ahead reach the screen they were meant for.
 */
export function ClientApp(props: ClientAppProps) {
  return (
    <KeyboardProvider>
      <ClientScreens {...props} />
    </KeyboardProvider>
  );
}

function ClientScreens({ client, logger, tail, connectTimeoutMs = 10_000, onExit }: ClientAppProps) {
  const { exit } = useApp();
  const { columns, rows } = useTerminalSize();
  const [model] = useState(() => new EventsModel());
  useThrottledSubscription(useCallback((listener) => model.subscribe(listener), [model]));
  const [screen, setScreen] = useState<Screen>({ name: 'connecting' });
  const [progress, setProgress] = useState<Progress>({ fraction: 0, label: `Connecting to ${client.baseUrl}…` });
  const [status, setOutcome] = useState<Status | undefined>(undefined);
  // True while the status line shows the connection notice (which each retry refreshes); an outcome
  // the user caused replaces it and is not overwritten by the next retry.
  const showingNotice = useRef(false);
  const setStatus = useCallback((s: Status) => {
    showingNotice.current = false;
    setOutcome(s);
  }, []);
  const [attempt, setAttempt] = useState(0);
  // Back in the menu, the highlight is where it was left.
  const [menuIndex, setMenuIndex] = useState(0);
  const [filter, setFilter] = useState('');
  const [selectedId, setSelectedId] = useState<string | undefined>(undefined);
  // The last booking made here, to pre-fill the cancel form (its secret is never readable again).
  const [lastBooking, setLastBooking] = useState<CancelRequest | undefined>(undefined);
  const subscription = useRef<EventSubscription | undefined>(undefined);
  const lost = useRef(false);
  const done = useRef(false);

  const quit = useCallback(
    (code = 0, message?: string) => {
      if (done.current) return;
      done.current = true;
      subscription.current?.close();
      logger.info('client closed');
      onExit?.({ code, message });
      exit();
    },
    [exit, logger, onExit],
  );

  const onStreamStatus = useCallback(
    (s: StreamStatus) => {
      model.setStatus(s);
      if (s.state === 'reconnecting') {
        if (!lost.current) logger.warn({ reason: s.reason }, `lost the live connection to ${client.baseUrl}: ${s.reason}`);
        else logger.debug({ reason: s.reason, attempt: s.attempt, delayMs: s.delayMs }, 'live connection: retrying');
        if (!lost.current || showingNotice.current) {
          showingNotice.current = true;
          setOutcome({ kind: 'error', text: `Lost connection to the server: ${s.reason}. Retrying in ${formatDelay(s.delayMs)}…` });
        }
        lost.current = true;
      } else if (s.state === 'open' && lost.current) {
        lost.current = false;
        logger.info(`live connection to ${client.baseUrl} is back`);
        setStatus({ kind: 'success', text: 'Reconnected to the server; the list is live again.' });
      }
    },
    [client.baseUrl, logger, model, setStatus],
  );

  // Connect: /healthz with retries, then the list and the live stream.
  useEffect(() => {
    const abort = new AbortController();
    setScreen({ name: 'connecting' });
    void (async () => {
      logger.info(`connecting to ${client.baseUrl}`);
      try {
        await client.waitForServer({
          timeoutMs: connectTimeoutMs,
          intervalMs: 500,
          signal: abort.signal,
          onAttempt: (n, elapsed, lastError) => {
            if (lastError) logger.debug({ attempt: n - 1 }, lastError.message);
            setProgress({
              fraction: (0.6 * elapsed) / connectTimeoutMs,
              label: n === 1 ? `Connecting to ${client.baseUrl}…` : `Connecting to ${client.baseUrl}… (attempt ${n}; ${lastError?.message ?? ''})`,
            });
          },
        });
        if (abort.signal.aborted) return;
        setProgress({ fraction: 0.6, label: 'Loading events…' });
        subscription.current?.close();
        subscription.current = client.subscribe({ onMessage: (m) => model.apply(m), onStatus: onStreamStatus });
        const events = await client.listEvents({ signal: abort.signal });
        if (!model.loaded) model.apply({ type: 'snapshot', events });
        logger.info(`connected to ${client.baseUrl}: ${plural(events.length, 'event')}`);
        setProgress({ fraction: 1, label: `Connected to ${client.baseUrl}.` });
        setScreen({ name: 'menu' });
      } catch (err) {
        if (abort.signal.aborted) return;
        const message = err instanceof Error ? err.message : String(err);
        logger.error({ url: client.baseUrl }, message);
        subscription.current?.close();
        subscription.current = undefined;
        setProgress((p) => ({ ...p, fraction: 1 }));
        setScreen({ name: 'unreachable', message });
      }
    })();
    return () => abort.abort();
  }, [attempt, client, connectTimeoutMs, logger, model, onStreamStatus]);

  useEffect(() => () => subscription.current?.close(), []);

  useKeys((input, key) => {
    if (key.ctrl && input === 'c') quit();
  });

  const book = async (event: Event, tickets: number) => {
    const what = `${plural(tickets, 'ticket')} for ${event.name}`;
    setScreen({ name: 'booking', label: `Reserving ${plural(tickets, 'ticket')}…` });
    logger.info({ eventId: event.id }, `booking ${what}`);
    try {
      // The client sends one Idempotency-Key for this booking and repeats it on every retry, so a
      // lost answer is retried without booking twice.
      const booking = await client.book(event.id, tickets, {
        onRetry: (n) => {
          logger.warn({ attempt: n.attempt, delayMs: n.delayMs, cause: n.cause }, `${n.reason}; retry ${n.attempt} of ${n.maxRetries} in ${formatDelay(n.delayMs)}`);
          setScreen({ name: 'booking', label: retryLabel(n) });
        },
      });
      // The secret stays out of the log: the receipt shows it, and whoever reads the log could cancel.
      logger.info({ eventId: event.id }, `Booked ${what}: booking ${booking.id}`);
      // One record per ticket, so each id fits on a line of the Logs screen.
      for (const ticket of booking.tickets) logger.info(`  ticket ${ticket.id}`);
      if (booking.secret) setLastBooking({ bookingId: booking.id, secret: booking.secret });
      setStatus({ kind: 'success', text: `Booked ${what} · ticket ids in Logs` });
      if (!done.current) setScreen({ name: 'receipt', booking, eventName: event.name });
      return;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.error(
        { eventId: event.id, tickets, status: err instanceof ApiError ? err.status : undefined, code: err instanceof ApiError ? err.code : undefined },
        `booking failed: ${message}`,
      );
      setStatus({ kind: 'error', text: message });
    }
    if (!done.current) setScreen({ name: 'events' });
  };

  const cancelBooking = async ({ bookingId, secret }: CancelRequest) => {
    setScreen({ name: 'cancel', busy: true });
    logger.info({ bookingId }, `cancelling booking ${bookingId}`);
    try {
      const booking = await client.cancelBooking(bookingId, { secret });
      const cancelled = booking.tickets.filter((t) => t.status === 'cancelled').length;
      logger.info({ bookingId, eventId: booking.eventId }, `cancelled booking ${bookingId}: ${plural(cancelled, 'ticket')}`);
      if (lastBooking?.bookingId === bookingId) setLastBooking(undefined);
      setStatus({ kind: 'success', text: `Cancelled booking ${bookingId} · ${plural(cancelled, 'ticket')} back on sale` });
      if (!done.current) setScreen({ name: 'menu' });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ bookingId, status: err instanceof ApiError ? err.status : undefined, code: err instanceof ApiError ? err.code : undefined }, `cancelling failed: ${message}`);
      setStatus({ kind: 'error', text: message });
      if (!done.current) setScreen({ name: 'cancel', busy: false, error: message });
    }
  };

  const height = Math.max(8, rows - 1);
  const width = Math.max(40, columns);
  const body = height - FRAME_ROWS;
  const connection = screen.name === 'connecting' || screen.name === 'unreachable' ? 'connecting' : model.status.state;

  let content;
  switch (screen.name) {
    case 'connecting':
      content = <ConnectingView progress={progress} width={width} />;
      break;
    case 'unreachable':
      content = (
        <Box flexDirection="column">
          <ConnectingView progress={{ ...progress, label: `Could not connect to ${client.baseUrl}.` }} width={width} />
          <FailedView message={screen.message} onRetry={() => setAttempt((a) => a + 1)} onQuit={() => quit(1, screen.message)} />
        </Box>
      );
      break;
    case 'menu':
      content = (
        <MainMenu
          title="Main menu"
          items={MENU}
          onQuit={() => quit()}
          initialIndex={menuIndex}
          onSelect={(i) => {
            setMenuIndex(i);
            if (i === 0) setScreen({ name: 'events' });
            else if (i === 1) setScreen({ name: 'cancel', busy: false });
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
          filter={filter}
          onFilterChange={setFilter}
          selectedId={selectedId}
          onSelectedChange={setSelectedId}
          onBack={() => {
            setStatus({ kind: 'warning', text: 'No event selected' });
            setScreen({ name: 'menu' });
          }}
          onPick={(event) => {
            if (!event) setStatus({ kind: 'warning', text: 'No event selected' });
            else if (event.availableTickets === 0 && (event.heldTickets ?? 0) > 0) {
              setStatus({ kind: 'warning', text: `${event.name} is sold out for now; ${plural(event.heldTickets, 'held ticket')} may come back` });
            } else if (event.availableTickets === 0) setStatus({ kind: 'warning', text: `${event.name} is sold out` });
            else {
              setSelectedId(event.id);
              setScreen({ name: 'select', event });
            }
          }}
        />
      );
      break;
    case 'select': {
      const live = model.get(screen.event.id) ?? screen.event;
      content = (
        <TicketSelector
          event={live}
          onConfirm={(n) => void book(live, n)}
          onCancel={() => {
            setStatus({ kind: 'warning', text: 'No tickets selected' });
            setScreen({ name: 'events' });
          }}
        />
      );
      break;
    }
    case 'booking':
      content = (
        <Box marginTop={1}>
          <Spinner label={screen.label} />
        </Box>
      );
      break;
    case 'receipt':
      content = <BookingReceipt booking={screen.booking} eventName={screen.eventName} height={body} width={width} onDone={() => setScreen({ name: 'events' })} />;
      break;
    case 'cancel':
      content = (
        <CancelBookingForm
          busy={screen.busy}
          error={screen.error}
          initial={lastBooking}
          onSubmit={(request) => void cancelBooking(request)}
          onCancel={() => setScreen({ name: 'menu' })}
        />
      );
      break;
    case 'logs':
      content = <LogView tail={tail} height={body} width={width} onBack={() => setScreen({ name: 'menu' })} />;
      break;
  }

  return (
    <Frame
      title="boxoffice · buyer"
      address={client.baseUrl}
      connection={connection}
      width={width}
      height={height}
      status={status}
      hints={HINTS[screen.name]}
    >
      {content}
      {screen.name === 'menu' && !model.loaded && <Text color="gray">Loading events…</Text>}
    </Frame>
  );
}
