import { Box, Text } from 'ink';
import { useState } from 'react';
import type { BuyerContact } from '../../client/types.js';
import { useKeys } from '../keys.js';
import { FormField, FormFooter } from './FormParts.js';
import { EMAIL } from '../../core/validation.js';

export interface BuyerDetailsFormProps {
  /** `required`: both fields must be filled; `optional`: either may stay empty. */
  required: boolean;
  /** What the button does, e.g. "Hold 2 tickets". */
  buttonLabel: string;
  /** With the trimmed fields; undefined when both were left empty (optional only). */
  onSubmit: (buyer: BuyerContact | undefined) => void;
  onCancel: () => void;
}

const FIELDS = [
  { name: 'name', label: 'Name', placeholder: 'your name' },
  { name: 'email', label: 'Email', placeholder: 'you@example.org' },
] as const;
type Field = (typeof FIELDS)[number]['name'];
const SUBMIT = FIELDS.length;
const LABEL_WIDTH = 10;
const FIELD_WIDTH = 50;

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
  const [values, setValues] = useState<Record<Field, string>>({ name: '', email: '' });
  const [focus, setFocus] = useState(0);
  const [tried, setTried] = useState(false);
  const problems = FIELDS.map((f) => problem(f.name, values[f.name], required));

  const submit = () => {
    setTried(true);
    const first = problems.findIndex((p) => p !== undefined);
    if (first !== -1) {
      setFocus(first);
      return;
    }
    const name = values.name.trim();
    const email = values.email.trim();
    const buyer: BuyerContact = {};
    if (name) buyer.name = name;
    if (email) buyer.email = email;
    onSubmit(name || email ? buyer : undefined);
  };

  useKeys((_input, key) => {
    if (key.escape) onCancel();
    else if ((key.tab && key.shift) || key.upArrow) setFocus(Math.max(0, focus - 1));
    else if (key.tab || key.downArrow) setFocus(Math.min(SUBMIT, focus + 1));
    else if (key.return) {
      if (focus === SUBMIT) submit();
      else setFocus(focus + 1);
    }
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
      {FIELDS.map((field, i) => (
        <FormField
          key={field.name}
          label={field.label}
          value={values[field.name]}
          placeholder={field.placeholder}
          onChange={(value) => setValues((v) => ({ ...v, [field.name]: value }))}
          focused={focus === i}
          active
          message={tried ? problems[i] : undefined}
          labelWidth={LABEL_WIDTH}
          fieldWidth={FIELD_WIDTH}
        />
      ))}
      <FormFooter busy={false} busyLabel="" buttonLabel={buttonLabel} focused={focus === SUBMIT} />
    </Box>
  );
}
