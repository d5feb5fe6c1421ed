import { Box, Text } from 'ink';
import type { Event, EventPatch } from '../../../client/types.js';
import { FieldFormView, type FieldSpec, type FieldValues } from '../../components/FieldForm.js';
import { fromZonedInput, toZonedInput } from '../../zoned-date.js';
import { useEventForm, type EventFormProps } from './event-form.js';

export type EditEventProps = EventFormProps;

type Field = 'name' | 'date' | 'timeZone' | 'venue' | 'totalTickets' | 'maxTicketsPerBooking';
const FIELDS: ReadonlyArray<FieldSpec<Field>> = [
  { name: 'name', label: 'Name', placeholder: 'the event name' },
  { name: 'date', label: 'Date', placeholder: 'YYYY-MM-DD HH:MM in the event’s zone (or with an offset)' },
  { name: 'timeZone', label: 'Time zone', placeholder: 'IANA name, e.g. Europe/Berlin' },
  { name: 'venue', label: 'Venue', placeholder: 'optional' },
  { name: 'totalTickets', label: 'Total tickets', placeholder: 'not below sold + held' },
  { name: 'maxTicketsPerBooking', label: 'Max per booking', placeholder: '1 or more' },
];

function valuesOf(event: Event): FieldValues<Field> {
  return {
    name: event.name,
    // The time on the clocks where the event happens, as the organiser thinks of it.
    date: event.timeZone ? toZonedInput(event.date, event.timeZone) : event.date,
    timeZone: event.timeZone ?? '',
    venue: event.venue ?? '',
    totalTickets: String(event.totalTickets),
    maxTicketsPerBooking: String(event.maxTicketsPerBooking),
  };
}

/**
 * Correct an event: only the fields changed are sent (`PATCH`), so the server checks just those
 * (a total below what is sold and held is refused with its own sentence, shown under the form).
 */
export function EditEvent(props: EditEventProps) {
  const { event } = props;
  const form = useEventForm({ ...props, screen: 'edit' }, FIELDS, valuesOf, (values, initial) => {
    const patch: Record<string, unknown> = {};
    for (const { name } of FIELDS) {
      if (values[name] === initial[name]) continue;
      if (name === 'date') {
        // A wall-clock time is in the zone the form shows (a new one when that was changed too).
        const parsed = fromZonedInput(values.date, values.timeZone.trim() || event.timeZone || 'UTC');
        if (!parsed.ok) return { field: 'date', message: parsed.message };
        patch.date = parsed.value;
        continue;
      }
      // Numbers go as numbers when they look like one; the server words any refusal.
      patch[name] = (name === 'totalTickets' || name === 'maxTicketsPerBooking') && /^\d+$/.test(values[name].trim()) ? Number(values[name].trim()) : values[name].trim();
    }
    return { patch: patch as EventPatch };
  });

  return (
    <Box flexDirection="column">
      <Text bold>{`Edit ${event.name}`}</Text>
      <Box marginBottom={1}>
        <Text color="gray">{`Only what you change is sent. The date is on the clocks of ${event.timeZone || 'UTC'}; a past date is allowed here.`}</Text>
      </Box>
      <FieldFormView form={form} labelWidth={18} fieldWidth={50} busyLabel="Saving…" buttonLabel="Save" />
    </Box>
  );
}
