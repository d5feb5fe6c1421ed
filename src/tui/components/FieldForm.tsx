import { useState } from 'react';
import { useKeys } from '../keys.js';
import { FormField, FormFooter } from './FormParts.js';

/** One text field of a form: its key in the values, the label left of it, the hint shown while empty. */
export interface FieldSpec<F extends string> {
  name: F;
  label: string;
  placeholder: string;
}

export type FieldValues<F extends string> = Record<F, string>;

export interface FieldFormOptions<F extends string> {
  fields: ReadonlyArray<FieldSpec<F>>;
  /** The values the form opens with (read once, on the first render). */
  initial: FieldValues<F>;
  /** Enter on the button once every field passes `check` (after `confirm`'s question, when set). */
  onSubmit: (values: FieldValues<F>) => void;
  /** Esc. */
  onCancel: () => void;
  /** What is wrong with a field, or undefined. Shown under the field once it has been checked. */
  check?: (field: F, values: FieldValues<F>) => string | undefined;
  /**
   * When a field is checked: on leaving it (and Enter then stays on a wrong one), or only at the first
   * submit (the default: nobody is told off for a field they have not finished).
   */
  checkOnLeave?: boolean;
  /** Enter on the button only asks (the form shows its own prompt while `confirming`); `send` submits. */
  confirm?: boolean;
  /** The request is in flight: keys are ignored and the button is a spinner. */
  busy?: boolean;
  /** What the server said when it refused what was sent. */
  error?: string;
}

export interface FieldFormState<F extends string> {
  fields: ReadonlyArray<FieldSpec<F>>;
  values: FieldValues<F>;
  /** The focused row: a field's index, or `fields.length` for the button. */
  focus: number;
  busy: boolean;
  /** Keys reach the form (and the focused field). */
  active: boolean;
  /** The question of a `confirm` form is up. */
  confirming: boolean;
  change(field: F, value: string): void;
  /** The message under a field, if any. */
  messageOf(field: F): string | undefined;
  /** The server's refusal while it still applies: hidden once a field is edited, and while a field is in error. */
  refusal: string | undefined;
  /** A problem found while submitting (e.g. a date the clocks skip): shown under `field`, which gets the focus. */
  fail(field: F, message: string): void;
  /** The answer to a `confirm` form's question. */
  send(): void;
  keep(): void;
}

/**
 * The state and keys of a column of text fields with a submit button below: Tab/↓/Enter next,
 * Shift-Tab/↑ back, Enter on the button submits, Esc cancels. Every field form of the terminal UIs is
 * this; what differs is the fields, the checks and what submitting does.
 */
export function useFieldForm<F extends string>(options: FieldFormOptions<F>): FieldFormState<F> {
  const { fields, check, checkOnLeave = false, busy = false } = options;
  const submitRow = fields.length;
  const [values, setValues] = useState(options.initial);
  // Always the first field, even pre-filled: opening a form and pressing Enter must not submit it.
  const [focus, setFocus] = useState(0);
  const [checked, setChecked] = useState<ReadonlySet<F>>(new Set());
  const [problem, setProblem] = useState<{ field: F; message: string } | undefined>(undefined);
  // The server's refusal is about what was sent: once a field is edited it is stale, and hidden.
  const [edited, setEdited] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const active = !busy && !confirming;

  const checkAlso = (...names: F[]) => setChecked((c) => new Set([...c, ...names]));
  const errorOf = (i: number) => (check && i < submitRow ? check(fields[i]!.name, values) : undefined);
  const move = (to: number) => {
    if (checkOnLeave && focus < submitRow) checkAlso(fields[focus]!.name);
    setFocus(Math.min(submitRow, Math.max(0, to)));
  };
  const send = () => {
    setConfirming(false);
    setEdited(false);
    options.onSubmit(values);
  };
  const submit = () => {
    checkAlso(...fields.map((f) => f.name));
    const firstBad = fields.findIndex((_, i) => errorOf(i) !== undefined);
    if (firstBad !== -1) setFocus(firstBad);
    else if (options.confirm) setConfirming(true);
    else send();
  };

  useKeys(
    (_input, key) => {
      if (key.escape) options.onCancel();
      else if ((key.tab && key.shift) || key.upArrow) move(focus - 1);
      else if (key.tab || key.downArrow) move(focus + 1);
      else if (key.return) {
        if (focus === submitRow) submit();
        else if (checkOnLeave && errorOf(focus) !== undefined) checkAlso(fields[focus]!.name);
        else move(focus + 1);
      }
    },
    { isActive: active },
  );

  return {
    fields,
    values,
    focus,
    busy,
    active,
    confirming,
    change(field, value) {
      setEdited(true);
      if (problem?.field === field) setProblem(undefined);
      setValues((v) => ({ ...v, [field]: value }));
    },
    messageOf(field) {
      if (problem?.field === field) return problem.message;
      return checked.has(field) ? check?.(field, values) : undefined;
    },
    refusal: edited || problem || confirming ? undefined : options.error,
    fail(field, message) {
      setProblem({ field, message });
      setFocus(fields.findIndex((f) => f.name === field));
    },
    send,
    keep: () => setConfirming(false),
  };
}

export interface FieldFormViewProps<F extends string> {
  form: FieldFormState<F>;
  labelWidth: number;
  fieldWidth: number;
  buttonLabel: string;
  /** Beside the spinner while busy. */
  busyLabel?: string;
}

/** A form's fields, one row each with its message under it, then the server's refusal and the button. */
export function FieldFormView<F extends string>({ form, labelWidth, fieldWidth, buttonLabel, busyLabel = '' }: FieldFormViewProps<F>) {
  return (
    <>
      {form.fields.map((field, i) => (
        <FormField
          key={field.name}
          label={field.label}
          value={form.values[field.name]}
          placeholder={field.placeholder}
          onChange={(value) => form.change(field.name, value)}
          focused={form.focus === i}
          active={form.active}
          message={form.messageOf(field.name)}
          labelWidth={labelWidth}
          fieldWidth={fieldWidth}
        />
      ))}
      <FormFooter error={form.refusal} busy={form.busy} busyLabel={busyLabel} buttonLabel={buttonLabel} focused={form.focus === form.fields.length && !form.confirming} />
    </>
  );
}
