import { Box, Text } from 'ink';
import type { Event } from '../../../client/types.js';
import type { LifecycleOps } from '../../admin-backend.js';
import { ConfirmPrompt } from '../../components/ConfirmPrompt.js';
import { MainMenu } from '../../components/MainMenu.js';
import { Spinner } from '../../components/Spinner.js';
import { formatCount, formatEventDate, plural, truncate } from '../../format.js';
import { soldOf } from '../../events-model.js';
import { useKeys } from '../../keys.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface EventActionsProps {
  nav: OrganiserNav;
  ops: LifecycleOps;
  /** The event as it is now (live). */
  event: Event;
  busy?: string;
  /** The "Cancel this event?" prompt is open. */
  confirming?: boolean;
  width: number;
}

/**
 * One event for its organiser: its details in its own time zone, then what can be done with it:
 * edit, close or reopen sales, the bookings (search, cancel one), cancel the whole event. Cancelling
 * the event asks first, with the focus on "No".
 */
export function EventActions({ nav, ops, event, busy, confirming = false, width }: EventActionsProps) {
  const cancelled = event.status === 'cancelled';
  const screen = { name: 'event' as const, event };
  const run = async (label: string, action: () => Promise<string>) => {
    nav.replace({ ...screen, busy: label });
    try {
      nav.setStatus({ kind: 'success', text: await action() });
    } catch (err) {
      nav.setStatus({ kind: 'error', text: (err as Error).message });
    }
    nav.replace(screen);
  };
  const toggleSales = () =>
    void run(event.salesOpen ? 'Closing sales…' : 'Reopening sales…', async () => {
      const now = await ops.updateEvent(event.id, { salesOpen: !event.salesOpen });
      return now.salesOpen ? `Sales of ${now.name} are open again` : `Sales of ${now.name} are closed: no bookings or holds until you reopen them`;
    });
  const cancelEvent = () =>
    void run('Cancelling the event…', async () => {
      const sold = soldOf(event);
      const now = await ops.cancelEvent(event.id);
      return `Cancelled ${now.name}: every booking cancelled (${plural(sold, 'ticket')}), holds released, nothing more on sale`;
    });

  const items = cancelled
    ? [{ label: 'Bookings', description: 'who bought; all cancelled' }, { label: 'Back' }]
    : [
        { label: 'Edit details', description: 'name, date, time zone, venue, limits' },
        event.salesOpen ? { label: 'Close sales', description: 'stop bookings and holds for now' } : { label: 'Reopen sales', description: 'take bookings again' },
        { label: 'Bookings', description: 'who bought · search · cancel one' },
        { label: 'Cancel event', description: 'cancels every booking; cannot be undone' },
        { label: 'Sale and waiting room', description: event.waitingRoom ? 'the line: length, admitted, pause/resume' : 'when the sale opens · turn the line on' },
        { label: 'Back' },
      ];
  const choose = (label: string) => {
    if (label === 'Edit details') nav.go({ name: 'edit', event, busy: false });
    else if (label === 'Close sales' || label === 'Reopen sales') toggleSales();
    else if (label === 'Bookings') nav.go({ name: 'bookings', event });
    else if (label === 'Sale and waiting room') nav.go({ name: 'queue', event });
    else if (label === 'Cancel event') nav.replace({ ...screen, confirming: true });
    else nav.back();
  };

  useKeys(
    (_input, key) => {
      if (key.escape) nav.back();
    },
    { isActive: busy === undefined && !confirming },
  );

  const sold = soldOf(event);
  const state = cancelled ? 'CANCELLED' : event.salesOpen ? 'on sale' : 'sales closed';
  return (
    <Box flexDirection="column">
      <Text bold>{truncate(event.name, width)}</Text>
      <Text color="gray">{truncate(`${formatEventDate(event.date, event.timeZone)} (${event.timeZone ?? 'local time'})${event.venue ? `  ·  ${event.venue}` : ''}`, width)}</Text>
      <Text>
        <Text color={cancelled ? 'red' : event.salesOpen ? 'green' : 'yellow'}>{state}</Text>
        <Text color="gray">{`  ·  ${formatCount(sold)} sold, ${formatCount(event.heldTickets ?? 0)} held, ${formatCount(event.availableTickets)} of ${formatCount(event.totalTickets)} left  ·  up to ${event.maxTicketsPerBooking} per booking`}</Text>
      </Text>
      <Box marginTop={1} flexDirection="column">
        {busy !== undefined ? (
          <Spinner label={busy} />
        ) : confirming ? (
          <ConfirmPrompt
            question={`Cancel ${event.name}?`}
            detail={`Every booking is cancelled (${plural(sold, 'ticket')} sold), active holds are released and nothing more is sold. Buyers' booking pages say the event was cancelled. This cannot be undone.`}
            keepLabel="No, keep the event"
            confirmLabel="Yes, cancel the event"
            onKeep={() => nav.replace(screen)}
            onConfirm={cancelEvent}
          />
        ) : (
          <MainMenu key={`${cancelled}-${event.salesOpen}`} items={items} onSelect={(_i, item) => choose(item.label)} onQuit={nav.back} />
        )}
      </Box>
    </Box>
  );
}
