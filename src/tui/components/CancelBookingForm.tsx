import { Box, Text } from 'ink';
import { useState } from 'react';
import { useKeys } from '../keys.js';
import { ConfirmPrompt } from './ConfirmPrompt.js';
import { FormField, FormFooter } from './FormParts.js';

export interface CancelRequest {
  bookingId: string;
  secret: string;
}

export interface CancelBookingFormProps {
  /** Called with both fields filled in (trimmed). */
  onSubmit: (request: CancelRequest) => void;
  onCancel: () => void;
  /** The request is in flight: show a spinner, ignore keys. */
  busy?: boolean;
  /** What the server said when it refused (shown above the button). */
  error?: string;
  /** Pre-filled, e.g. with the last booking made in this session. */
  initial?: Partial<CancelRequest>;
}

const FIELDS = [
  { name: 'bookingId', label: 'Booking id', placeholder: 'the id shown after booking' },
  { name: 'secret', label: 'Secret', placeholder: 'the secret shown after booking' },
] as const;
const SUBMIT = FIELDS.length;
const LABEL_WIDTH = 14;
const FIELD_WIDTH = 58;

/**
 * Cancel a whole booking with its id and secret. The server checks both; the form only insists that
 * neither is empty. Tab/↓/Enter next, Shift-Tab/↑ back, Enter on the button asks "Cancel booking …?"
 * (focus on "No"), and only its "Yes" submits; Esc goes back.
 */
export function CancelBookingForm({ onSubmit, onCancel, busy = false, error, initial }: CancelBookingFormProps) {
  const [values, setValues] = useState<CancelRequest>({ bookingId: initial?.bookingId ?? '', secret: initial?.secret ?? '' });
  // Always on the first field, even pre-filled: opening the form and pressing Enter must not cancel anything.
  const [focus, setFocus] = useState(0);
  const [tried, setTried] = useState(false);
  // Enter on the button only asks; the prompt's own "Yes" cancels.
  const [confirming, setConfirming] = useState(false);
  // The server's refusal is about what was sent: once the buyer edits a field it is stale, and hidden.
  const [edited, setEdited] = useState(false);
  const active = !busy && !confirming;
  const missing = FIELDS.findIndex((f) => values[f.name].trim() === '');

  const submit = () => {
    setTried(true);
    if (missing !== -1) setFocus(missing);
    else setConfirming(true);
  };

  useKeys(
    (_input, key) => {
      if (key.escape) onCancel();
      else if ((key.tab && key.shift) || key.upArrow) setFocus(Math.max(0, focus - 1));
      else if (key.tab || key.downArrow) setFocus(Math.min(SUBMIT, focus + 1));
      else if (key.return) {
        if (focus === SUBMIT) submit();
        else setFocus(focus + 1);
      }
    },
    { isActive: active },
  );

  return (
    <Box flexDirection="column">
      <Text bold>Cancel a booking</Text>
      <Box marginBottom={1}>
        <Text color="gray">All its tickets go back on sale. You need the secret shown when you booked.</Text>
      </Box>
      {FIELDS.map((field, i) => (
        <FormField
          key={field.name}
          label={field.label}
          value={values[field.name]}
          placeholder={field.placeholder}
          onChange={(value) => {
            setEdited(true);
            setValues((v) => ({ ...v, [field.name]: value }));
          }}
          focused={focus === i}
          active={active}
          message={tried && values[field.name].trim() === '' ? `${field.label} is required.` : undefined}
          labelWidth={LABEL_WIDTH}
          fieldWidth={FIELD_WIDTH}
        />
      ))}
      <FormFooter error={confirming || edited ? undefined : error} busy={busy} busyLabel="Cancelling…" buttonLabel="Cancel booking" focused={focus === SUBMIT && !confirming} />
      {confirming && !busy && (
        <ConfirmPrompt
          question={`Cancel booking ${values.bookingId.trim()}?`}
          detail="All its tickets go back on sale. This cannot be undone."
          keepLabel="No, keep it"
          confirmLabel="Yes, cancel the booking"
          onKeep={() => setConfirming(false)}
          onConfirm={() => {
            setConfirming(false);
            setEdited(false);
            onSubmit({ bookingId: values.bookingId.trim(), secret: values.secret.trim() });
          }}
        />
      )}
    </Box>
  );
}
