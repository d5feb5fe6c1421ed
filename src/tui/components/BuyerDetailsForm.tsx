import { Box, Text } from 'ink';
import type { BuyerContact } from '../../client/types.js';
import { EMAIL } from '../../core/validation.js';
import { FieldFormView, useFieldForm, type FieldSpec } from './FieldForm.js';

export interface BuyerDetailsFormProps {
  /** `required`: both fields must be filled; `optional`: either may stay empty. */
  required: boolean;
  /** What the button does, e.g. "Hold 2 tickets". */
  buttonLabel: string;
  /** With the trimmed fields; undefined when both were left empty (optional only). */
  onSubmit: (buyer: BuyerContact | undefined) => void;
  onCancel: () => void;
}

type Field = 'name' | 'email';
const FIELDS: ReadonlyArray<FieldSpec<Field>> = [
  { name: 'name', label: 'Name', placeholder: 'your name' },
  { name: 'email', label: 'Email', placeholder: 'you@example.org' },
];

/** What is wrong with one field, or undefined. */
function problem(field: Field, value: string, required: boolean): string | undefined {
  const v = value.trim();
  if (v === '') return required ? `${field === 'name' ? 'Name' : 'Email'} is required for this event.` : undefined;
  if (field === 'email' && !EMAIL.test(v)) return 'That does not look like an email address (like ada@example.org).';
  return undefined;
}

/**
 * The buyer's name and email, when the organiser asks for them. Tab/↓/Enter next, Shift-Tab/↑ back,
 * Enter on the button submits only when every field passes; Esc goes back. Problems show under
 * their field once the buyer has tried to submit.
 */
export function BuyerDetailsForm({ required, buttonLabel, onSubmit, onCancel }: BuyerDetailsFormProps) {
  const form = useFieldForm({
    fields: FIELDS,
    initial: { name: '', email: '' },
    check: (field, values) => problem(field, values[field], required),
    onCancel,
    onSubmit: (values) => {
      const name = values.name.trim();
      const email = values.email.trim();
      const buyer: BuyerContact = {};
      if (name) buyer.name = name;
      if (email) buyer.email = email;
      onSubmit(name || email ? buyer : undefined);
    },
  });

  return (
    <Box flexDirection="column">
      <Text bold>Your details</Text>
      <Box marginBottom={1}>
        <Text color="gray">
          {required ? 'The organiser needs your name and email for this event.' : 'The organiser asks for your name and email (optional).'} Only the
          organiser sees them; no email is sent.
        </Text>
      </Box>
      <FieldFormView form={form} labelWidth={10} fieldWidth={50} buttonLabel={buttonLabel} />
    </Box>
  );
}
