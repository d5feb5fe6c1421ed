import type { Event } from '../../../client/types.js';
import { EventList } from '../../components/EventList.js';
import { formatCount } from '../../format.js';
import type { ListPosition } from '../../hooks.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface EventsOverviewProps {
  nav: OrganiserNav;
  events: readonly Event[];
  position: ListPosition;
  height: number;
  width: number;
}

/** The live list with tickets sold; Enter puts the highlighted event's figures in the status line. */
export function EventsOverview({ nav, events, position, height, width }: EventsOverviewProps) {
  const show = (event: Event | undefined) => {
    if (!event) return;
    const held = event.heldTickets ?? 0;
    const sold = event.totalTickets - event.availableTickets - held;
    nav.setStatus({
      kind: 'info',
      text: `${event.name}: ${formatCount(sold)} sold, ${held > 0 ? `${formatCount(held)} held, ` : ''}${formatCount(event.availableTickets)} of ${formatCount(event.totalTickets)} left, up to ${event.maxTicketsPerBooking} per booking, ${formatCount(event.checkedInTickets ?? 0)} checked in`,
    });
  };
  return (
    <EventList
      {...position}
      events={events}
      height={height}
      width={width}
      showSold
      emptyText="No events yet: add one from the menu."
      onBack={nav.back}
      onPick={show}
    />
  );
}
