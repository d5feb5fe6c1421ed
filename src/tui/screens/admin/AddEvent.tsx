import type { Event, NewEventInput } from '../../../client/types.js';
import type { AdminBackend } from '../../admin-backend.js';
import { EventCreator } from '../../components/EventCreator.js';
import { formatEventDate, plural } from '../../format.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface AddEventProps {
  nav: OrganiserNav;
  backend: AdminBackend;
  busy: boolean;
  error?: string;
  /** The event exists: the list opens on it. */
  onCreated: (event: Event) => void;
}

/** The Add Event form; once the event is created the list shows it, a refusal stays under the form. */
export function AddEvent({ nav, backend, busy, error, onCreated }: AddEventProps) {
  const create = async (input: NewEventInput) => {
    nav.replace({ name: 'add', busy: true });
    try {
      const event = await backend.createEvent(input);
      nav.setStatus({ kind: 'success', text: `Created ${event.name}: ${plural(event.totalTickets, 'ticket')} on ${formatEventDate(event.date, event.timeZone)}` });
      onCreated(event);
      nav.replace({ name: 'events' });
    } catch (err) {
      const message = (err as Error).message;
      nav.setStatus({ kind: 'error', text: message });
      nav.replace({ name: 'add', busy: false, error: message });
    }
  };
  return <EventCreator busy={busy} error={error} onSubmit={(input) => void create(input)} onCancel={nav.back} />;
}
