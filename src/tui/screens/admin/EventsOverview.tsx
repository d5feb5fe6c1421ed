import type { Event } from '../../../client/types.js';
import { EventList } from '../../components/EventList.js';
import type { ListPosition } from '../../hooks.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface EventsOverviewProps {
  nav: OrganiserNav;
  events: readonly Event[];
  position: ListPosition;
  height: number;
  width: number;
}

/** The live list with tickets sold; Enter opens the event: its details and what can be done with it. */
export function EventsOverview({ nav, events, position, height, width }: EventsOverviewProps) {
  return (
    <EventList
      {...position}
      events={events}
      height={height}
      width={width}
      showSold
      emptyText="No events yet: add one from the menu."
      onBack={nav.back}
      onPick={(event) => {
        if (!event) return;
        position.onSelectedChange(event.id);
        nav.go({ name: 'event', event });
      }}
    />
  );
}
