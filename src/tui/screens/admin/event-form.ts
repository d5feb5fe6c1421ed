import { useState } from 'react';
import type { Event, EventPatch } from '../../../client/types.js';
import type { LifecycleOps } from '../../admin-backend.js';
import { useFieldForm, type FieldFormState, type FieldSpec, type FieldValues } from '../../components/FieldForm.js';
import type { OrganiserNav } from './organiser-screens.js';

/** A form that corrects one event (Edit details, Sale settings). */
export interface EventFormProps {
  nav: OrganiserNav;
  ops: LifecycleOps;
  event: Event;
  busy: boolean;
  error?: string;
}

/** The change to send, or what is wrong with one field (shown under it, nothing sent). */
export type PatchReading<F extends string> = { patch: EventPatch } | { field: F; message: string };

/**
 * A form over some of an event's fields, opening with `valuesOf(event)`. On submit `read` turns what
 * was typed (and what the form opened with) into a change; only that is sent (`PATCH`, so the server
 * checks just those fields) and the form goes back saying what was saved, or stays with the server's
 * refusal under it.
 */
export function useEventForm<F extends string>(
  props: EventFormProps & { screen: 'edit' | 'sale-settings' },
  fields: ReadonlyArray<FieldSpec<F>>,
  valuesOf: (event: Event) => FieldValues<F>,
  read: (values: FieldValues<F>, initial: FieldValues<F>) => PatchReading<F>,
): FieldFormState<F> {
  const { nav, busy, error } = props;
  const [initial] = useState(() => valuesOf(props.event));
  const form = useFieldForm({
    fields,
    initial,
    busy,
    error,
    onCancel: () => nav.back(),
    onSubmit: (values) => {
      const reading = read(values, initial);
      if ('field' in reading) form.fail(reading.field, reading.message);
      else void save(props, reading.patch);
    },
  });
  return form;
}

async function save({ nav, ops, event, screen }: EventFormProps & { screen: 'edit' | 'sale-settings' }, patch: EventPatch): Promise<void> {
  if (Object.keys(patch).length === 0) {
    nav.setStatus({ kind: 'warning', text: 'Nothing changed' });
    nav.back();
    return;
  }
  nav.replace({ name: screen, event, busy: true });
  try {
    const now = await ops.updateEvent(event.id, patch);
    nav.setStatus({ kind: 'success', text: `Saved ${now.name}: ${Object.keys(patch).join(', ')} changed` });
    nav.back();
  } catch (err) {
    const message = (err as Error).message;
    nav.setStatus({ kind: 'error', text: message });
    nav.replace({ name: screen, event, busy: false, error: message });
  }
}
