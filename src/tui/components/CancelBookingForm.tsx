import { Box, Text } from 'ink';
import { ConfirmPrompt } from './ConfirmPrompt.js';
import { FieldFormView, useFieldForm, type FieldSpec } from './FieldForm.js';

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

const FIELDS: ReadonlyArray<FieldSpec<keyof CancelRequest>> = [
  { name: 'bookingId', label: 'Booking id', placeholder: 'the id shown after booking' },
  { name: 'secret', label: 'Secret', placeholder: 'the secret shown after booking' },
];

const required = (field: keyof CancelRequest, values: CancelRequest) =>
  values[field].trim() === '' ? `${FIELDS.find((f) => f.name === field)!.label} is required.` : undefined;

/**
 * Cancel a whole booking with its id and secret. The server checks both; the form only insists that
 * neither is empty. Tab/↓/Enter next, Shift-Tab/↑ back, Enter on the button asks "Cancel booking …?"
 * (focus on "No"), and only its "Yes" submits; Esc goes back.
 */
export function CancelBookingForm({ onSubmit, onCancel, busy = false, error, initial }: CancelBookingFormProps) {
  const form = useFieldForm({
    fields: FIELDS,
    initial: { bookingId: initial?.bookingId ?? '', secret: initial?.secret ?? '' },
    check: required,
    // Enter on the button only asks; the prompt's own "Yes" cancels.
    confirm: true,
    busy,
    error,
    onCancel,
    onSubmit: (values) => onSubmit({ bookingId: values.bookingId.trim(), secret: values.secret.trim() }),
  });

  return (
    <Box flexDirection="column">
      <Text bold>Cancel a booking</Text>
      <Box marginBottom={1}>
        <Text color="gray">All its tickets go back on sale. You need the secret shown when you booked.</Text>
      </Box>
      <FieldFormView form={form} labelWidth={14} fieldWidth={58} busyLabel="Cancelling…" buttonLabel="Cancel booking" />
      {form.confirming && !busy && (
        <ConfirmPrompt
          question={`Cancel booking ${form.values.bookingId.trim()}?`}
          detail="All its tickets go back on sale. This cannot be undone."
          keepLabel="No, keep it"
          confirmLabel="Yes, cancel the booking"
          onKeep={form.keep}
          onConfirm={form.send}
        />
      )}
    </Box>
  );
}
