import { Box, Text } from 'ink';
import { useState } from 'react';
import type { Booking } from '../../client/types.js';
import { formatCount, plural, truncate, wrap } from '../format.js';
import { useKeys } from '../keys.js';

export interface BookingReceiptProps {
  booking: Booking;
  eventName: string;
  /** Rows the receipt may use. */
  height: number;
  width: number;
  /** Enter or Esc. */
  onDone: () => void;
}

const LABEL = 'Booking  ';
/** Rows around the ticket ids: title, blank, booking, secret, note, blank, "Tickets". */
const HEAD_ROWS = 7;
const ID_GAP = 3;

/**
 * What a buyer must keep after booking: the booking id, its secret (the server shows it in this one
 * answer only, and cancelling needs it) and the ticket ids, laid out in as many columns as fit.
 * Stays until Enter or Esc, so nothing scrolls away before it is written down.
 */
export function BookingReceipt({ booking, eventName, height, width, onDone }: BookingReceiptProps) {
  const [top, setTop] = useState(0);
  const withCodes = booking.tickets.length > 0 && booking.tickets.every((t) => typeof t.code === 'string');
  // With codes, each ticket is its id and its door code (wrapped), scrolled with ↑↓ when they do not fit.
  const codeLines = withCodes ? ticketCodeLines(booking, width) : [];
  const rows = Math.max(1, height - HEAD_ROWS);
  const scrolls = codeLines.length > rows;
  const page = scrolls ? rows - 1 : rows;
  const maxTop = Math.max(0, codeLines.length - page);
  useKeys((_input, key) => {
    if (key.return || key.escape) onDone();
    else if (key.downArrow) setTop((t) => Math.min(maxTop, t + 1));
    else if (key.upArrow) setTop((t) => Math.max(0, t - 1));
    else if (key.pageDown) setTop((t) => Math.min(maxTop, t + page));
    else if (key.pageUp) setTop((t) => Math.max(0, t - page));
  });

  const ids = booking.tickets.map((t) => t.id);
  const idWidth = Math.max(1, ...ids.map((id) => id.length));
  const columns = Math.max(1, Math.floor((width - 2 + ID_GAP) / (idWidth + ID_GAP)));
  const fits = rows * columns;
  // When they do not all fit, the last row says where the rest are.
  const shown = ids.length <= fits ? ids : ids.slice(0, (rows - 1) * columns);
  const lines: string[] = [];
  for (let i = 0; i < shown.length; i += columns) lines.push(shown.slice(i, i + columns).map((id) => id.padEnd(idWidth)).join(' '.repeat(ID_GAP)).trimEnd());
  const indent = ' '.repeat(LABEL.length);

  return (
    <Box flexDirection="column">
      <Text bold color="green">
        {truncate(`✔ Booked ${plural(ids.length, 'ticket')} for ${eventName}`, width)}
      </Text>
      <Text> </Text>
      <Text>
        <Text color="gray">{LABEL}</Text>
        {booking.id}
      </Text>
      <Text>
        <Text color="gray">{'Secret   '}</Text>
        {booking.secret ? (
          <Text bold color="yellow">
            {booking.secret}
          </Text>
        ) : (
          <Text color="gray">none sent: only the admin token can cancel this booking</Text>
        )}
      </Text>
      {booking.secret ? <Text color="yellow">{truncate(`${indent}Keep the secret: it is needed to cancel, and it is not shown again.`, width)}</Text> : <Text> </Text>}
      <Text> </Text>
      <Text color="gray">{withCodes ? `Tickets (${formatCount(ids.length)}) with the code the door scans` : `Tickets (${formatCount(ids.length)})`}</Text>
      {withCodes
        ? codeLines.slice(top, top + page).map((line, i) => (
            <Text key={i} color={line.code ? 'cyan' : undefined}>
              {line.text}
            </Text>
          ))
        : lines.map((line, i) => <Text key={i}>{`  ${line}`}</Text>)}
      {withCodes && scrolls && (
        <Text color="gray">{truncate(`  ↑↓ PgUp PgDn scroll · lines ${top + 1}–${Math.min(codeLines.length, top + page)} of ${codeLines.length}`, width)}</Text>
      )}
      {!withCodes && shown.length < ids.length && <Text color="gray">{`  … and ${formatCount(ids.length - shown.length)} more: every ticket id is in Logs`}</Text>}
    </Box>
  );
}

/** Each ticket's id, then its door code wrapped under it (a 132-character code takes two rows of 80). */
function ticketCodeLines(booking: Booking, width: number): Array<{ text: string; code: boolean }> {
  const lines: Array<{ text: string; code: boolean }> = [];
  for (const [i, t] of booking.tickets.entries()) {
    lines.push({ text: truncate(`  ${i + 1}. ${t.id}`, width), code: false });
    for (const part of wrap(t.code!, Math.max(10, width - 5))) lines.push({ text: `     ${part}`, code: true });
  }
  return lines;
}
