import { useCallback, useState } from 'react';
import type { BoxofficeClient } from '../client/boxoffice-client.js';
import type { Logger } from '../core/logger.js';
import { useBuyerConnection } from './buyer-connection.js';
import { BookingReceipt } from './components/BookingReceipt.js';
import type { CancelRequest } from './components/CancelBookingForm.js';
import { Frame } from './components/Frame.js';
import { LogView } from './components/LogView.js';
import { useFrameSize, useListPosition } from './hooks.js';
import { KeyboardProvider } from './keys.js';
import type { LogTail } from './log-tail.js';
import { useScreenMachine, type ExitResult } from './screen-machine.js';
import { BrowseEvents } from './screens/client/BrowseEvents.js';
import { BUYER_HINTS, type BuyerScreen } from './screens/client/buyer-screens.js';
import { BuyerMenu } from './screens/client/BuyerMenu.js';
import { CancelBooking } from './screens/client/CancelBooking.js';
import { BuyerDetails, ChooseTickets } from './screens/client/ChooseTickets.js';
import { ConfirmHold } from './screens/client/ConfirmHold.js';
import { FailedScreen, StartingScreen } from './screens/StartupScreens.js';
import { WaitScreen } from './screens/WaitScreen.js';
import { WaitingRoom } from './screens/client/WaitingRoom.js';
import { memoryEntryStore, type EntryStore } from './waiting-room/entry-file.js';
import { useStartup } from './startup.js';

export interface ClientAppProps {
  client: BoxofficeClient;
  logger: Logger;
  tail: LogTail;
  /** How long to keep trying to reach the server before offering Retry / Quit (default 10 s). */
  connectTimeoutMs?: number;
  /** Once, when the user quits: code 1 (with the reason) when they gave up connecting. */
  onExit?: (result: ExitResult) => void;
  /** The clock the hold's countdown reads (tests pass their own). */
  now?: () => number;
  /** Where places in waiting rooms are kept between runs (default: memory only). */
  entries?: EntryStore;
}

/**
 * The buyer's terminal UI: connect (with a progress bar), then Events (live list → pick → how many →
 * hold, with its countdown → confirm → the receipt with the booking's secret), Cancel a booking, Logs and Quit, with the last
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

function ClientScreens({ client, logger, tail, connectTimeoutMs = 10_000, onExit, now, entries }: ClientAppProps) {
  const [store] = useState(() => entries ?? memoryEntryStore());
  const { width, height, body } = useFrameSize();
  const nav = useScreenMachine<BuyerScreen>({
    initial: { name: 'starting' },
    onExit,
    shutdown: () => {
      connection.close();
      logger.info('client closed');
    },
  });
  const connection = useBuyerConnection(client, logger, connectTimeoutMs, nav);
  const { progress, retry } = useStartup(nav, connection.connect, `Connecting to ${client.baseUrl}…`);
  // Back in the menu, the highlight is where it was left; back in the list, so are the filter and highlight.
  const [menuIndex, setMenuIndex] = useState(0);
  const position = useListPosition();
  const [lastBooking, setLastBooking] = useState<CancelRequest | undefined>(undefined);
  const forget = useCallback((bookingId: string) => setLastBooking((b) => (b?.bookingId === bookingId ? undefined : b)), []);
  const { model } = connection;
  const { screen } = nav;

  let content;
  switch (screen.name) {
    case 'starting':
      content = <StartingScreen progress={progress} width={width} />;
      break;
    case 'failed':
      content = (
        <FailedScreen
          progress={{ ...progress, label: `Could not connect to ${client.baseUrl}.` }}
          width={width}
          message={screen.message}
          onRetry={retry}
          onQuit={() => nav.quit(1, screen.message)}
        />
      );
      break;
    case 'menu':
      content = <BuyerMenu nav={nav} index={menuIndex} onIndexChange={setMenuIndex} loaded={model.loaded} />;
      break;
    case 'events':
      content = <BrowseEvents nav={nav} events={model.list()} position={position} height={body} width={width} />;
      break;
    case 'select':
      content = <ChooseTickets nav={nav} client={client} logger={logger} event={screen.event} live={(id) => model.get(id)} now={now} pass={screen.pass} />;
      break;
    case 'details':
      content = <BuyerDetails nav={nav} client={client} logger={logger} event={model.get(screen.event.id) ?? screen.event} tickets={screen.tickets} now={now} pass={screen.pass} />;
      break;
    case 'queue':
      content = (
        <WaitingRoom
          key={screen.event.id}
          nav={nav}
          event={model.get(screen.event.id) ?? screen.event}
          line={connection.lines.get(screen.event.id)}
          streamLive={model.status.state === 'open'}
          backend={client}
          store={store}
          server={client.baseUrl}
          logger={logger}
          width={width}
          now={now}
          onAdmitted={(entry) => {
            nav.setStatus({ kind: 'success', text: `It's your turn for ${screen.event.name}: hold your tickets before your pass runs out` });
            if (entry.pass) nav.replace({ name: 'select', event: screen.event, pass: entry.pass });
          }}
        />
      );
      break;
    case 'hold':
      content = (
        <ConfirmHold
          key={screen.hold.id}
          nav={nav}
          client={client}
          logger={logger}
          hold={screen.hold}
          event={model.get(screen.event.id) ?? screen.event}
          deadline={screen.deadline}
          busy={screen.busy}
          onBooked={setLastBooking}
          now={now}
        />
      );
      break;
    case 'booking':
      content = <WaitScreen label={screen.label} />;
      break;
    case 'receipt':
      content = <BookingReceipt booking={screen.booking} eventName={screen.eventName} height={body} width={width} onDone={nav.back} />;
      break;
    case 'cancel':
      content = (
        <CancelBooking nav={nav} client={client} logger={logger} busy={screen.busy} error={screen.error} lastBooking={lastBooking} onCancelled={forget} />
      );
      break;
    case 'logs':
      content = <LogView tail={tail} height={body} width={width} onBack={nav.back} />;
      break;
  }

  const connecting = screen.name === 'starting' || screen.name === 'failed';
  return (
    <Frame
      title="boxoffice · buyer"
      address={client.baseUrl}
      connection={connecting ? 'connecting' : model.status.state}
      width={width}
      height={height}
      status={nav.status}
      hints={BUYER_HINTS[screen.name]}
    >
      {content}
    </Frame>
  );
}
