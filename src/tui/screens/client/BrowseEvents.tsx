import type { Event } from '../../../client/types.js';
import { EventList } from '../../components/EventList.js';
import { formatEventDate, plural } from '../../format.js';
import type { ListPosition } from '../../hooks.js';
import type { BuyerNav } from './buyer-screens.js';

export interface BrowseEventsProps {
  nav: BuyerNav;
  events: readonly Event[];
  position: ListPosition;
  height: number;
  width: number;
}

/** The live list; Enter on an event with tickets to buy opens the ticket count, anything else says why not. */
export function BrowseEvents({ nav, events, position, height, width }: BrowseEventsProps) {
  const pick = (event: Event | undefined) => {
    if (!event) nav.setStatus({ kind: 'warning', text: 'No event selected' });
    else if (event.status === 'cancelled') nav.setStatus({ kind: 'warning', text: `${event.name} was cancelled by its organiser: nothing is on sale` });
    else if (event.salesOpen === false) nav.setStatus({ kind: 'warning', text: `Sales of ${event.name} are closed for now` });
    else if (event.waitingRoom) {
      // The room says sold out, held elsewhere and the countdown itself.
      position.onSelectedChange(event.id);
      nav.go({ name: 'queue', event });
    } else if (event.onSaleAt && Date.parse(event.onSaleAt) > Date.now()) {
      nav.setStatus({ kind: 'warning', text: `Sales of ${event.name} open at ${formatEventDate(event.onSaleAt, event.timeZone)}` });
    } else if (event.availableTickets === 0 && (event.heldTickets ?? 0) > 0) {
      nav.setStatus({ kind: 'warning', text: `${event.name} is sold out for now; ${plural(event.heldTickets, 'held ticket')} may come back` });
    } else if (event.availableTickets === 0) nav.setStatus({ kind: 'warning', text: `${event.name} is sold out` });
    else {
      position.onSelectedChange(event.id);
      nav.go({ name: 'select', event });
    }
  };
  return (
    <EventList
      {...position}
      events={events}
      height={height}
      width={width}
      onBack={() => {
        nav.setStatus({ kind: 'warning', text: 'No event selected' });
        nav.back();
      }}
      onPick={pick}
    />
  );
}
