import { Box, Text } from 'ink';
import { useCallback, useEffect, useState } from 'react';
import type { AdminBooking, AdminBookingsPage, Event } from '../../../client/types.js';
import type { LifecycleOps } from '../../admin-backend.js';
import { ConfirmPrompt } from '../../components/ConfirmPrompt.js';
import { Spinner } from '../../components/Spinner.js';
import { TextField } from '../../components/TextField.js';
import { formatCount, formatEventDate, padEnd, plural, truncate } from '../../format.js';
import { useKeys } from '../../keys.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface BookingsScreenProps {
  nav: OrganiserNav;
  ops: LifecycleOps;
  event: Event;
  height: number;
  width: number;
}

/** Rows around the list: title, search line, blank, header, footer, and room for the prompt. */
const CHROME_ROWS = 5;
const STATUS_TEXT: Record<AdminBooking['status'], string> = { active: 'active', partly_cancelled: 'part cancelled', cancelled: 'cancelled' };

function buyerText(b: AdminBooking): string {
  const name = b.buyer?.name ?? '';
  const email = b.buyer?.email ? `<${b.buyer.email}>` : '';
  return [name, email].filter(Boolean).join(' ') || '(no name given)';
}

/**
 * The organiser's list of who bought: newest first, searched as you type (name, email, or the start of
 * a booking id, by the server), each booking with its buyer, tickets, status and time in the event's
 * zone. Enter on a booking asks "Cancel booking …?" (focus on "No"); only "Yes" cancels it.
 */
export function BookingsScreen({ nav, ops, event, height, width }: BookingsScreenProps) {
  const [search, setSearch] = useState('');
  const [page, setPage] = useState<AdminBookingsPage | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [index, setIndex] = useState(0);
  const [asking, setAsking] = useState<AdminBooking | undefined>(undefined);
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [reload, setReload] = useState(0);
  const rows = Math.max(1, height - CHROME_ROWS - (asking ? 5 : 0));

  useEffect(() => {
    let current = true;
    ops.bookings(event.id, { search: search.trim() || undefined, limit: 100 }).then(
      (p) => {
        if (!current) return;
        setPage(p);
        setError(undefined);
        setIndex((i) => Math.min(i, Math.max(0, p.bookings.length - 1)));
      },
      (err: Error) => current && setError(err.message),
    );
    // A newer search (or reload) makes this answer stale: it is dropped.
    return () => {
      current = false;
    };
  }, [ops, event.id, search, reload]);

  const bookings = page?.bookings ?? [];
  const selected = bookings[index];
  const cancel = useCallback(
    async (booking: AdminBooking) => {
      setAsking(undefined);
      setBusy(`Cancelling booking ${booking.id}…`);
      try {
        const done = await ops.cancelBooking(booking.id);
        const back = booking.validTickets;
        nav.setStatus({ kind: 'success', text: `Cancelled booking ${done.id.slice(0, 8)} (${buyerText(booking)}) · ${plural(back, 'ticket')} back on sale` });
      } catch (err) {
        nav.setStatus({ kind: 'error', text: (err as Error).message });
      }
      setBusy(undefined);
      setReload((n) => n + 1);
    },
    [nav, ops],
  );

  useKeys(
    (_input, key) => {
      if (key.escape) nav.back();
      else if (key.upArrow) setIndex((i) => Math.max(0, i - 1));
      else if (key.downArrow) setIndex((i) => Math.min(bookings.length - 1, i + 1));
      else if (key.pageUp) setIndex((i) => Math.max(0, i - rows));
      else if (key.pageDown) setIndex((i) => Math.min(bookings.length - 1, i + rows));
      else if (key.return && selected) {
        if (selected.status === 'cancelled') nav.setStatus({ kind: 'warning', text: `Booking ${selected.id} is already cancelled` });
        else setAsking(selected);
      }
    },
    { isActive: !asking && busy === undefined },
  );

  // The highlighted booking is always on screen, at the bottom once the list scrolls.
  const start = Math.max(0, index - rows + 1);
  const shown = bookings.slice(start, start + rows);
  const idWidth = 8;
  const ticketsWidth = 12;
  const statusWidth = 15;
  const whenWidth = 27;
  const buyerWidth = Math.max(10, width - 2 - idWidth - ticketsWidth - statusWidth - whenWidth - 4);
  return (
    <Box flexDirection="column">
      <Text bold>{truncate(`Bookings of ${event.name}  ${page ? `${formatCount(page.total)} ${search.trim() ? 'found' : 'in all'}` : ''}`, width)}</Text>
      <Box>
        <Text color="cyan">{'Search: '}</Text>
        <TextField value={search} onChange={setSearch} placeholder="name, email or booking id" focus={!asking && busy === undefined} width={Math.max(10, width - 10)} />
      </Box>
      <Text color="gray">{truncate(`  ${padEnd('Booking', idWidth)} ${padEnd('Buyer', buyerWidth)} ${padEnd('Tickets', ticketsWidth)} ${padEnd('Status', statusWidth)} Booked`, width)}</Text>
      {error !== undefined && <Text color="red">{`✘ ${error}`}</Text>}
      {page === undefined && error === undefined && <Spinner label="Loading bookings…" />}
      {page !== undefined && bookings.length === 0 && <Text color="gray">{search.trim() ? `No booking matches "${search.trim()}".` : 'No bookings yet.'}</Text>}
      {shown.map((b, i) => {
        const at = start + i === index;
        const tickets = b.cancelledTickets > 0 ? `${b.validTickets} of ${b.tickets.length}` : `${b.validTickets}`;
        const line = `${at ? '›' : ' '} ${padEnd(b.id.slice(0, idWidth), idWidth)} ${padEnd(buyerText(b), buyerWidth)} ${padEnd(tickets, ticketsWidth)} ${padEnd(STATUS_TEXT[b.status], statusWidth)} ${formatEventDate(b.createdAt, event.timeZone)}`;
        return (
          <Text key={b.id} color={at ? 'cyan' : b.status === 'cancelled' ? 'gray' : undefined} bold={at}>
            {truncate(line, width)}
          </Text>
        );
      })}
      {busy !== undefined && <Spinner label={busy} />}
      {asking && (
        <ConfirmPrompt
          question={`Cancel booking ${asking.id}?`}
          detail={`${buyerText(asking)} · ${plural(asking.validTickets, 'ticket')} go back on sale. This cannot be undone.`}
          keepLabel="No, keep it"
          confirmLabel="Yes, cancel the booking"
          onKeep={() => setAsking(undefined)}
          onConfirm={() => void cancel(asking)}
        />
      )}
    </Box>
  );
}
