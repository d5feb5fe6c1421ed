import { Box, Text } from 'ink';
import { useEffect, useRef } from 'react';
import type { Event, QueueEntry, QueueUpdate } from '../../../client/types.js';
import type { Logger } from '../../../core/logger.js';
import { formatCountdown } from '../../components/HoldConfirm.js';
import { ProgressBar } from '../../components/ProgressBar.js';
import { Spinner } from '../../components/Spinner.js';
import { formatCount, formatEventDate, plural, truncate } from '../../format.js';
import { useKeys } from '../../keys.js';
import type { EntryStore } from '../../waiting-room/entry-file.js';
import { etaWords } from '../../waiting-room/line.js';
import { useQueueEntry, type QueueBackend } from '../../waiting-room/use-queue-entry.js';
import type { BuyerNav } from './buyer-screens.js';

export interface WaitingRoomProps {
  nav: BuyerNav;
  /** The event as it is now (live). */
  event: Event;
  line: QueueUpdate | undefined;
  streamLive: boolean;
  backend: QueueBackend;
  store: EntryStore;
  server: string;
  logger: Logger;
  width: number;
  /** The buyer's turn came: the hold form, carrying the pass. */
  onAdmitted: (entry: QueueEntry) => void;
  now?: () => number;
}

/**
 * An event's waiting room: the countdown to the sale, Enter joins the line, then the place, the people
 * ahead, the expected wait and a progress bar, moving live with the stream's serving counter. When the
 * turn comes the hold form follows with the pass; sold out is said at once. Esc leaves the screen; the
 * place is kept (and kept across a restart of this program).
 */
export function WaitingRoom({ nav, event, line, streamLive, backend, store, server, logger, width, onAdmitted, now = Date.now }: WaitingRoomProps) {
  const { entry, view, time, joining, error, fresh, join } = useQueueEntry({ backend, store, server, eventId: event.id, line, streamLive, logger, now });
  const onSaleAt = event.onSaleAt ? Date.parse(event.onSaleAt) : undefined;
  const opensAt = event.waitingRoomOpensAt ? Date.parse(event.waitingRoomOpensAt) : undefined;
  const beforeSale = onSaleAt !== undefined && time < onSaleAt && !line?.open;
  const roomOpen = opensAt === undefined || time >= opensAt;
  const passLeft = entry?.pass && entry.passExpiresAt ? Date.parse(entry.passExpiresAt) - time : 0;
  // A remembered pass may have been used since (by this program before a restart): only a fresh answer counts.
  const admitted = fresh && view?.state === 'admitted' && passLeft > 0;
  const soldOutNow = Boolean(line?.soldOut) && !beforeSale;
  const canJoin = roomOpen && !soldOutNow && (!view || view.state === 'expired' || view.state === 'done' || (view.state === 'admitted' && !admitted));

  // The turn came: on to the hold form, once.
  const moved = useRef(false);
  useEffect(() => {
    if (admitted && entry && !moved.current) {
      moved.current = true;
      onAdmitted(entry);
    }
  }, [admitted, entry, onAdmitted]);

  useKeys(
    (_input, key) => {
      if (key.return && canJoin) join();
      else if (key.return && admitted && entry) onAdmitted(entry);
      else if (key.escape) {
        if (view?.state === 'waiting') nav.setStatus({ kind: 'info', text: `You keep your place in the line for ${event.name}; open the event again to see it` });
        nav.back();
      }
    },
    { isActive: !joining },
  );

  let body;
  if (joining) {
    body = <Spinner label="Joining the line…" />;
  } else if (!view || view.state === 'expired' || view.state === 'done') {
    const said = view?.state === 'expired' ? 'Your turn ran out before you held tickets. ' : view?.state === 'done' ? 'You had your turn. ' : '';
    body = soldOutNow ? (
      <Text color="red">Sold out: no tickets are left.</Text>
    ) : roomOpen ? (
      <Box flexDirection="column">
        <Text>{`${said}Press Enter to join the line${said ? ' again, at the back' : ''}.`}</Text>
        <Text color="gray">
          {beforeSale ? 'Everyone who joins before the sale opens gets a random place when it opens: joining early gives no advantage.' : 'New arrivals join at the back.'}
        </Text>
      </Box>
    ) : (
      <Text>{`The line opens at ${formatEventDate(event.waitingRoomOpensAt ?? '', event.timeZone)}${beforeSale ? '' : ` (in ${formatCountdown((opensAt ?? 0) - time)})`}.`}</Text>
    );
  } else if (view.state === 'sold_out') {
    body = <Text color="red">Sold out: every ticket is gone. There is nothing left to wait for.</Text>;
  } else if (view.state === 'admitted') {
    body = admitted ? (
      <Text color="green">{`It's your turn: hold your tickets within ${formatCountdown(passLeft)}. Enter opens the form.`}</Text>
    ) : (
      <Text color="yellow">Your turn ran out before you held tickets. Press Enter to join the line again, at the back.</Text>
    );
  } else if (view.position === null) {
    body = (
      <Box flexDirection="column">
        <Text color="green">You're in the line.</Text>
        <Text color="gray">When the sale opens, everyone who joined before it is put in a random order; then you see your place.</Text>
      </Box>
    );
  } else {
    const ahead = view.ahead ?? 0;
    body = (
      <Box flexDirection="column">
        <Text>
          <Text bold>{`Your place: ${formatCount(view.position)}`}</Text>
          <Text>{`  ·  ${ahead === 0 ? 'you are next' : `${plural(ahead, 'person', 'people')} ahead`}  ·  ${view.paused ? 'the line is paused' : etaWords(view.etaSeconds)}`}</Text>
        </Text>
        <ProgressBar fraction={view.progress ?? 0} width={Math.max(10, Math.min(40, width - 8))} />
        {view.paused && <Text color="yellow">The organiser has paused the line for now; you keep your place.</Text>}
      </Box>
    );
  }

  return (
    <Box flexDirection="column">
      <Text bold>{truncate(`${event.name} · waiting room`, width)}</Text>
      <Text color="gray">{truncate(formatEventDate(event.date, event.timeZone), width)}</Text>
      {beforeSale && event.onSaleAt && (
        <Text>
          {`Sales open at ${formatEventDate(event.onSaleAt, event.timeZone)}`}
          <Text bold>{`  in ${formatCountdown((onSaleAt ?? 0) - time)}`}</Text>
        </Text>
      )}
      <Box marginTop={1} flexDirection="column">
        {body}
        {view?.state === 'waiting' && view.heldElsewhere && <Text color="yellow">Tickets are held by others; you keep your place.</Text>}
        {error !== undefined && <Text color="red">{error}</Text>}
        {!streamLive && entry && <Text color="gray">Live updates are interrupted: your place is checked every few seconds.</Text>}
      </Box>
    </Box>
  );
}
