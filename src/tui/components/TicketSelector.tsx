import { Box, Text } from 'ink';
import { useRef, useState } from 'react';
import type { Event } from '../../client/types.js';
import { formatCount, formatEventDate, plural } from '../format.js';
import { useKeys } from '../keys.js';

export interface TicketSelectorProps {
  /** The event as it is now (live): the bounds follow its availability. */
  event: Event;
  /** Enter: book this many. */
  onConfirm: (tickets: number) => void;
  /** Esc. */
  onCancel: () => void;
}

/** The most one booking of `event` can take right now (at least 1: the server has the last word). */
export function selectableMax(event: Event): number {
  return Math.max(1, Math.min(event.availableTickets, event.maxTicketsPerBooking));
}

/**
 * How many tickets: 1 … min(available, maxTicketsPerBooking). ↑/→/+ and ↓/←/- step, PgUp/PgDn step
 * by ten, Home/End jump to the bounds, digits type a number. Enter books, Esc cancels.
 */
export function TicketSelector({ event, onConfirm, onCancel }: TicketSelectorProps) {
  const max = selectableMax(event);
  const [chosen, setChosen] = useState(1);
  // Digits typed in a row build one number ("1", "2" → 12); any other key starts over.
  const typed = useRef('');
  const count = Math.min(Math.max(1, chosen), max);

  useKeys((input, key) => {
    const digit = /^[0-9]$/.test(input);
    if (!digit) typed.current = '';
    if (key.return) onConfirm(count);
    else if (key.escape) onCancel();
    else if (key.upArrow || key.rightArrow || input === '+' || input === 'k' || input === 'l') setChosen(Math.min(max, count + 1));
    else if (key.downArrow || key.leftArrow || input === '-' || input === 'j' || input === 'h') setChosen(Math.max(1, count - 1));
    else if (key.pageUp) setChosen(Math.min(max, count + 10));
    else if (key.pageDown) setChosen(Math.max(1, count - 10));
    else if (key.home) setChosen(1);
    else if (key.end) setChosen(max);
    else if (digit) {
      let text = typed.current + input;
      if (Number(text) > max || Number(text) === 0) text = input;
      typed.current = text;
      const n = Number(text);
      if (n >= 1) setChosen(Math.min(max, n));
    }
  });

  const soldOut = event.availableTickets === 0;
  const held = event.heldTickets ?? 0;
  return (
    <Box flexDirection="column">
      <Text bold>{event.name}</Text>
      <Text color="gray">
        {`${formatEventDate(event.date, event.timeZone)}  ·  `}
        <Text color={soldOut ? 'red' : 'green'}>{`${formatCount(event.availableTickets)} of ${formatCount(event.totalTickets)} left`}</Text>
        {held > 0 && <Text color="yellow">{` · ${formatCount(held)} held`}</Text>}
        {`  ·  up to ${plural(event.maxTicketsPerBooking, 'ticket')} per booking`}
      </Text>
      <Box marginTop={1}>
        <Text>How many tickets? </Text>
        <Text color={count > 1 ? 'cyan' : 'gray'}>{'◀ '}</Text>
        <Text bold inverse>{` ${count} `}</Text>
        <Text color={count < max ? 'cyan' : 'gray'}>{' ▶'}</Text>
        <Text color="gray">{`   (1–${formatCount(max)})`}</Text>
      </Box>
      {soldOut && (
        <Box marginTop={1}>
          <Text color="yellow">Sold out right now: the server will say whether any ticket is left.</Text>
        </Box>
      )}
    </Box>
  );
}
