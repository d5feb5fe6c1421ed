import { Box, Text } from 'ink';
import { useState } from 'react';
import type { Event, EventPatch } from '../../../client/types.js';
import type { LifecycleOps } from '../../admin-backend.js';
import { FormField, FormFooter } from '../../components/FormParts.js';
import { useKeys } from '../../keys.js';
import { fromZonedInput, toZonedInput } from '../../zoned-date.js';
import type { OrganiserNav } from './organiser-screens.js';

export interface SaleSettingsProps {
  nav: OrganiserNav;
  ops: LifecycleOps;
  event: Event;
  busy: boolean;
  error?: string;
}

type Field = 'onSaleAt' | 'waitingRoom' | 'queueWindow';
const FIELDS: ReadonlyArray<{ name: Field; label: string; placeholder: string }> = [
  { name: 'onSaleAt', label: 'Sale opens at', placeholder: 'YYYY-MM-DD HH:MM in the event’s zone; empty: now' },
  { name: 'waitingRoom', label: 'Waiting room', placeholder: 'yes or no' },
  { name: 'queueWindow', label: 'Buyers at once', placeholder: 'a number; empty: worked out from the stock' },
];
const SUBMIT = FIELDS.length;

function valuesOf(event: Event): Record<Field, string> {
  return {
    onSaleAt: event.onSaleAt ? (event.timeZone ? toZonedInput(event.onSaleAt, event.timeZone) : event.onSaleAt) : '',
    waitingRoom: event.waitingRoom ? 'yes' : 'no',
    queueWindow: event.queueWindow === null ? '' : String(event.queueWindow),
  };
}

/**
 * When the sale opens, whether buyers go through the waiting room, and how many admitted buyers may
 * choose at once. Only what changed is sent (`PATCH`); the server words any refusal.
 */
export function SaleSettings({ nav, ops, event, busy, error }: SaleSettingsProps) {
  const [initial] = useState(() => valuesOf(event));
  const [values, setValues] = useState(initial);
  const [focus, setFocus] = useState(0);
  const [problem, setProblem] = useState<{ field: Field; message: string } | undefined>(undefined);

  const save = async () => {
    const patch: EventPatch = {};
    const zone = event.timeZone || 'UTC';
    if (values.onSaleAt !== initial.onSaleAt) {
      if (values.onSaleAt.trim() === '') patch.onSaleAt = null;
      else {
        const parsed = fromZonedInput(values.onSaleAt, zone);
        if (!parsed.ok) return fail('onSaleAt', parsed.message);
        patch.onSaleAt = parsed.value;
      }
    }
    if (values.waitingRoom !== initial.waitingRoom) {
      const answer = values.waitingRoom.trim().toLowerCase();
      if (!['yes', 'y', 'on', 'no', 'n', 'off'].includes(answer)) return fail('waitingRoom', 'Answer yes or no.');
      patch.waitingRoom = ['yes', 'y', 'on'].includes(answer);
    }
    if (values.queueWindow !== initial.queueWindow) {
      const text = values.queueWindow.trim();
      if (text === '') patch.queueWindow = null;
      else if (/^\d{1,9}$/.test(text) && Number(text) >= 1) patch.queueWindow = Number(text);
      else return fail('queueWindow', 'A whole number, 1 or more, or empty for automatic.');
    }
    if (Object.keys(patch).length === 0) {
      nav.setStatus({ kind: 'warning', text: 'Nothing changed' });
      nav.back();
      return;
    }
    nav.replace({ name: 'sale-settings', event, busy: true });
    try {
      const now = await ops.updateEvent(event.id, patch);
      nav.setStatus({ kind: 'success', text: `Saved ${now.name}: ${Object.keys(patch).join(', ')} changed` });
      nav.back();
    } catch (err) {
      const message = (err as Error).message;
      nav.setStatus({ kind: 'error', text: message });
      nav.replace({ name: 'sale-settings', event, busy: false, error: message });
    }
  };

  function fail(field: Field, message: string) {
    setProblem({ field, message });
    setFocus(FIELDS.findIndex((f) => f.name === field));
  }

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
      <Text bold>{`Sale and waiting room of ${event.name}`}</Text>
      <Box marginBottom={1}>
        <Text color="gray">
          {`Times are on the clocks of ${event.timeZone || 'UTC'}. With a waiting room, buyers join a line before the sale; at the opening everyone in it is put in a random order and let in a few at a time, each with a single-use pass.`}
        </Text>
      </Box>
      {FIELDS.map((field, i) => (
        <FormField
          key={field.name}
          label={field.label}
          value={values[field.name]}
          placeholder={field.placeholder}
          onChange={(value) => {
            setProblem(undefined);
            setValues((v) => ({ ...v, [field.name]: value }));
          }}
          focused={focus === i}
          active={!busy}
          message={problem?.field === field.name ? problem.message : undefined}
          labelWidth={18}
          fieldWidth={50}
        />
      ))}
      <FormFooter error={problem ? undefined : error} busy={busy} busyLabel="Saving…" buttonLabel="Save" focused={focus === SUBMIT} />
    </Box>
  );
}
