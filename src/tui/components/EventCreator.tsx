import { Box, Text } from 'ink';
import type { NewEventInput } from '../../client/types.js';
import { DEFAULT_HOLD_SECONDS, type NewEvent } from '../../core/types.js';
import { systemTimeZone, validateNewEvent } from '../../core/validation.js';
import { FieldFormView, useFieldForm, type FieldSpec, type FieldValues } from './FieldForm.js';
import { NO_SALE_SETTINGS, readSaleChanges, saleFieldSpecs, type SaleField } from './sale-fields.js';

type EventField = 'name' | 'date' | 'totalTickets' | 'maxTicketsPerBooking' | 'holdSeconds';
export type FieldName = EventField | SaleField;
/** The sale fields may be left out: as in a blank form, on sale now and no waiting room. */
export type FormValues = FieldValues<EventField> & Partial<FieldValues<SaleField>>;

const FIELDS: ReadonlyArray<FieldSpec<FieldName>> = [
  { name: 'name', label: 'Name', placeholder: 'e.g. Opening night' },
  { name: 'date', label: 'Date and time', placeholder: 'YYYY-MM-DD HH:MM (local time) or ISO 8601' },
  { name: 'totalTickets', label: 'Total tickets', placeholder: 'e.g. 100' },
  { name: 'maxTicketsPerBooking', label: 'Max per booking', placeholder: 'optional, default 100' },
  { name: 'holdSeconds', label: 'Hold seconds', placeholder: `optional, default ${DEFAULT_HOLD_SECONDS} (how long a hold lasts)` },
  // Read on the same clocks as the date above, so "the sale opens a month before" is typed as thought.
  ...saleFieldSpecs('(local time)'),
];
const BLANK: FieldValues<FieldName> = { name: '', date: '', totalTickets: '', maxTicketsPerBooking: '', holdSeconds: '', ...NO_SALE_SETTINGS };

const two = (n: number) => String(n).padStart(2, '0');

/**
 * `2026-12-31 20:00` (or with `T`, optionally with seconds) is taken as local time and given the
 * local offset; anything else goes to the core validation as typed, which accepts ISO 8601 with a
 * zone and explains what it wants otherwise.
 */
export function toIsoDate(text: string): string {
  const t = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (!m) return t;
  const [, y, mo, d, h, mi, s = '00'] = m;
  const local = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const offset = Number.isNaN(local.getTime()) ? 0 : -local.getTimezoneOffset();
  const abs = Math.abs(offset);
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${offset >= 0 ? '+' : '-'}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/** Digits become a number; anything else is passed on as text for the core to refuse by name. */
function toNumber(text: string): unknown {
  const t = text.trim();
  return /^\d{1,15}$/.test(t) ? Number(t) : t;
}

/** The sale settings typed (those a blank form does not have), read as Sale settings reads them. */
function saleChanges(values: FormValues) {
  return readSaleChanges({ ...NO_SALE_SETTINGS, ...values }, NO_SALE_SETTINGS, systemTimeZone());
}

/** The form as the API's body: what `validateNewEvent` and `POST /events` receive. */
function toInput(values: FormValues): Record<string, unknown> {
  const input: Record<string, unknown> = { name: values.name, date: toIsoDate(values.date), totalTickets: toNumber(values.totalTickets) };
  if (values.maxTicketsPerBooking.trim() !== '') input.maxTicketsPerBooking = toNumber(values.maxTicketsPerBooking);
  if (values.holdSeconds.trim() !== '') input.holdSeconds = toNumber(values.holdSeconds);
  return { ...input, ...saleChanges(values).settings };
}

// Valid stand-ins for the other fields, so one field can be checked on its own by the core rules.
const STAND_INS: Record<string, unknown> = { name: 'x', date: '2030-01-01T00:00:00Z', totalTickets: 1 };

/** The message for one field (Sale settings' own for the sale fields, else the core validation's), or undefined when it is acceptable. */
export function fieldError(field: FieldName, values: FormValues): string | undefined {
  const sale = saleChanges(values).problems.find((p) => p.field === field);
  if (sale) return sale.message;
  const input = toInput(values);
  const probe: Record<string, unknown> = { ...STAND_INS };
  if (field in input) probe[field] = input[field];
  try {
    validateNewEvent(probe);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export interface EventCreatorProps {
  /** Called with a body that passed the core validation. */
  onSubmit: (input: NewEventInput) => void;
  onCancel: () => void;
  /** The request is in flight: show a spinner, ignore keys. */
  busy?: boolean;
  /** What the server said when it refused (shown above the button). */
  error?: string;
}

/**
 * Add an event: name, date and time, total tickets, max per booking and hold seconds (both optional),
 * and when the sale opens, whether buyers go through the waiting room and how many choose at once.
 * Each field is checked with the same rules as the API when you leave it, and the message shows under
 * the field; nothing is submitted until every field is valid. Tab/↓/Enter next, Shift-Tab/↑ back, Esc cancels.
 */
export function EventCreator({ onSubmit, onCancel, busy = false, error }: EventCreatorProps) {
  const form = useFieldForm({
    fields: FIELDS,
    initial: BLANK,
    check: fieldError,
    checkOnLeave: true,
    busy,
    error,
    onCancel,
    onSubmit: (values) => {
      // The whole body through the core once more: exactly what the API will check, sent as it normalised it.
      const body = toInput(values);
      const event = validateNewEvent(body);
      onSubmit(Object.fromEntries(Object.keys(body).map((key) => [key, event[key as keyof NewEvent]])) as unknown as NewEventInput);
    },
  });

  return (
    <Box flexDirection="column">
      <Box marginBottom={1}>
        <Text bold>Add an event</Text>
      </Box>
      <FieldFormView form={form} labelWidth={18} fieldWidth={50} busyLabel="Creating the event…" buttonLabel="Create event" />
    </Box>
  );
}
