import { Box, Text } from 'ink';
import { useState } from 'react';
import type { Event, EventPatch } from '../../../client/types.js';
import type { LifecycleOps } from '../../admin-backend.js';
import { FormField, FormFooter } from '../../components/FormParts.js';
import { useKeys } from '../../keys.js';
import { fromZonedInput, toZonedInput } from '../../zoned-date.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface EditEventProps {
  nav: OrganiserNav;
  ops: LifecycleOps;
  event: Event;
  busy: boolean;
  error?: string;
}

type Field = 'name' | 'date' | 'timeZone' | 'venue' | 'totalTickets' | 'maxTicketsPerBooking';
const FIELDS: ReadonlyArray<{ name: Field; label: string; placeholder: string }> = [
  { name: 'name', label: 'Name', placeholder: 'the event name' },
  { name: 'date', label: 'Date', placeholder: 'YYYY-MM-DD HH:MM in the event’s zone (or with an offset)' },
  { name: 'timeZone', label: 'Time zone', placeholder: 'IANA name, e.g. Europe/Berlin' },
  { name: 'venue', label: 'Venue', placeholder: 'optional' },
  { name: 'totalTickets', label: 'Total tickets', placeholder: 'not below sold + held' },
  { name: 'maxTicketsPerBooking', label: 'Max per booking', placeholder: '1 or more' },
];
const SUBMIT = FIELDS.length;

function valuesOf(event: Event): Record<Field, string> {
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
export function EditEvent({ nav, ops, event, busy, error }: EditEventProps) {
  const [initial] = useState(() => valuesOf(event));
  const [values, setValues] = useState(initial);
  const [focus, setFocus] = useState(0);
  const [edited, setEdited] = useState(false);
  const [dateProblem, setDateProblem] = useState<string | undefined>(undefined);

  const save = async () => {
    const patch: Record<string, unknown> = {};
    for (const { name } of FIELDS) {
      if (values[name] === initial[name]) continue;
      if (name === 'date') {
        // A wall-clock time is in the zone the form shows (a new one when that was changed too).
        const zone = values.timeZone.trim() || event.timeZone || 'UTC';
        const parsed = fromZonedInput(values.date, zone);
        if (!parsed.ok) {
          setDateProblem(parsed.message);
          setFocus(FIELDS.findIndex((f) => f.name === 'date'));
          return;
        }
        patch.date = parsed.value;
        continue;
      }
      // Numbers go as numbers when they look like one; the server words any refusal.
      patch[name] = (name === 'totalTickets' || name === 'maxTicketsPerBooking') && /^\d+$/.test(values[name].trim()) ? Number(values[name].trim()) : values[name].trim();
    }
    if (Object.keys(patch).length === 0) {
      nav.setStatus({ kind: 'warning', text: 'Nothing changed' });
      nav.back();
      return;
    }
    nav.replace({ name: 'edit', event, busy: true });
    try {
      const now = await ops.updateEvent(event.id, patch as EventPatch);
      nav.setStatus({ kind: 'success', text: `Saved ${now.name}: ${Object.keys(patch).join(', ')} changed` });
      nav.back();
    } catch (err) {
      const message = (err as Error).message;
      setEdited(false);
      nav.setStatus({ kind: 'error', text: message });
      nav.replace({ name: 'edit', event, busy: false, error: message });
    }
  };

  useKeys(
    (_input, key) => {
      if (key.escape) nav.back();
      else if ((key.tab && key.shift) || key.upArrow) setFocus(Math.max(0, focus - 1));
      else if (key.tab || key.downArrow) setFocus(Math.min(SUBMIT, focus + 1));
      else if (key.return) {
        if (focus === SUBMIT) void save();
        else setFocus(focus + 1);
      }
    },
    { isActive: !busy },
  );

  return (
    <Box flexDirection="column">
      <Text bold>{`Edit ${event.name}`}</Text>
      <Box marginBottom={1}>
        <Text color="gray">{`Only what you change is sent. The date is on the clocks of ${event.timeZone || 'UTC'}; a past date is allowed here.`}</Text>
      </Box>
      {FIELDS.map((field, i) => (
        <FormField
          key={field.name}
          label={field.label}
          value={values[field.name]}
          placeholder={field.placeholder}
          onChange={(value) => {
            setEdited(true);
            if (field.name === 'date') setDateProblem(undefined);
            setValues((v) => ({ ...v, [field.name]: value }));
          }}
          focused={focus === i}
          active={!busy}
          message={field.name === 'date' ? dateProblem : undefined}
          labelWidth={18}
          fieldWidth={50}
        />
      ))}
      <FormFooter error={edited ? undefined : error} busy={busy} busyLabel="Saving…" buttonLabel="Save" focused={focus === SUBMIT} />
    </Box>
  );
}
