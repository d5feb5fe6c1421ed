import { Box, Text } from 'ink';
import { useEffect, useState } from 'react';
import type { Hold } from '../../client/types.js';
import { plural } from '../format.js';
import { useKeys } from '../keys.js';
import { Spinner } from './Spinner.js';

export interface HoldConfirmProps {
  hold: Hold;
  eventName: string;
  /** When the hold ends, on this machine's clock (see `holdDeadline`). */
  deadline: number;
  /** Enter while the hold lasts: buy the held tickets. */
  onConfirm: () => void;
  /** Esc while the hold lasts: give the tickets back. */
  onRelease: () => void;
  /** Enter once the hold has run out: choose again. */
  onHoldAgain: () => void;
  /** Esc once the hold has run out (nothing left to release). */
  onBack: () => void;
  /** A request is in flight: say what, ignore keys. */
  busy?: string;
  /** Tests pass their own clock; the countdown reads it a few times a second. */
  now?: () => number;
}

/**
 * When a hold ends on this machine's clock: the hold's own length (`expiresAt - createdAt`, both the
 * server's clock) counted from when the request was sent, so a skewed local clock cannot stretch it and
 * the countdown ends no later than the server's hold.
 */
export function holdDeadline(hold: Hold, sentAt: number): number {
  const length = Date.parse(hold.expiresAt) - Date.parse(hold.createdAt);
  return sentAt + (Number.isFinite(length) ? Math.max(0, length) : 0);
}

/** `9:58`, `0:07`; `1:02:03` for holds over an hour. */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * The second step of buying: the tickets are set aside for the buyer, with the time left counting
 * down; Enter buys them, Esc gives them back. Once the time is up the hold is gone, and Enter starts over.
 */
export function HoldConfirm({ hold, eventName, deadline, onConfirm, onRelease, onHoldAgain, onBack, busy, now = Date.now }: HoldConfirmProps) {
  const [time, setTime] = useState(now);
  useEffect(() => {
    const timer = setInterval(() => setTime(now()), 250);
    return () => clearInterval(timer);
  }, [now]);
  const left = deadline - time;
  const expired = left <= 0;
  const what = plural(hold.tickets, 'ticket');

  useKeys(
    (_input, key) => {
      if (key.return) {
        // The clock is read again here: the last tick may be up to a quarter of a second old.
        if (deadline - now() > 0) onConfirm();
        else onHoldAgain();
      } else if (key.escape) {
        if (expired) onBack();
        else onRelease();
      }
    },
    { isActive: busy === undefined },
  );

  return (
    <Box flexDirection="column">
      <Text bold>{eventName}</Text>
      <Box marginTop={1}>
        {expired ? (
          <Text color="yellow">{`⚠ Your hold of ${what} has run out: the tickets went back on sale.`}</Text>
        ) : (
          <Text>
            <Text color="green">{`${what} held for you`}</Text>
            <Text>{'  ·  expires in '}</Text>
            <Text bold color={left < 60_000 ? 'yellow' : 'cyan'}>
              {formatCountdown(left)}
            </Text>
          </Text>
        )}
      </Box>
      <Text color="gray">
        {expired ? 'Press Enter to choose tickets again, Esc to go back to the events.' : 'Nobody else can buy them until then. Nothing is bought until you confirm.'}
      </Text>
      <Box marginTop={1}>
        {busy !== undefined ? (
          <Spinner label={busy} />
        ) : expired ? (
          <Text color="cyan" bold inverse>
            {' Choose again '}
          </Text>
        ) : (
          <Text>
            <Text color="cyan" bold inverse>
              {` Buy ${what} `}
            </Text>
            <Text color="gray">{'   Enter buys · Esc gives them back'}</Text>
          </Text>
        )}
      </Box>
    </Box>
  );
}
