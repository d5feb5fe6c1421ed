import { Box, Text } from 'ink';
import type { Event } from '../../../client/types.js';
import { FieldFormView, type FieldValues } from '../../components/FieldForm.js';
import { readSaleChanges, saleFieldSpecs, type SaleField } from '../../components/sale-fields.js';
import { toZonedInput } from '../../zoned-date.js';
import { useEventForm, type EventFormProps } from './event-form.js';

export type SaleSettingsProps = EventFormProps;

const FIELDS = saleFieldSpecs('in the event’s zone');

function valuesOf(event: Event): FieldValues<SaleField> {
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
export function SaleSettings(props: SaleSettingsProps) {
  const { event } = props;
  const form = useEventForm({ ...props, screen: 'sale-settings' }, FIELDS, valuesOf, (values, initial) => {
    const { settings, problems } = readSaleChanges(values, initial, event.timeZone || 'UTC');
    return problems[0] ?? { patch: settings };
  });

  return (
    <Box flexDirection="column">
      <Text bold>{`Sale and waiting room of ${event.name}`}</Text>
      <Box marginBottom={1}>
        <Text color="gray">
          {`Times are on the clocks of ${event.timeZone || 'UTC'}. With a waiting room, buyers join a line before the sale; at the opening everyone in it is put in a random order and let in a few at a time, each with a single-use pass.`}
        </Text>
      </Box>
      <FieldFormView form={form} labelWidth={18} fieldWidth={50} busyLabel="Saving…" buttonLabel="Save" />
    </Box>
  );
}
