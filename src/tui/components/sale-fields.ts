import type { EventPatch } from '../../client/types.js';
import { SALE_FIELDS } from '../../core/validation.js';
import { fromZonedInput } from '../zoned-date.js';
import type { FieldSpec, FieldValues } from './FieldForm.js';

/** When the sale opens, whether buyers go through the waiting room, how many admitted buyers choose at once. */
export type SaleField = (typeof SALE_FIELDS)[number];
export type SaleSettingValues = Required<Pick<EventPatch, SaleField>>;

/** The form's rows for the sale settings; `clocks` says where the typed time is read, e.g. "in the event’s zone". */
export function saleFieldSpecs(clocks: string): ReadonlyArray<FieldSpec<SaleField>> {
  return [
    { name: 'onSaleAt', label: 'Sale opens at', placeholder: `YYYY-MM-DD HH:MM ${clocks}; empty: now` },
    { name: 'waitingRoom', label: 'Waiting room', placeholder: 'yes or no' },
    { name: 'queueWindow', label: 'Buyers at once', placeholder: 'a number; empty: worked out from the stock' },
  ];
}

/** An event without sale settings as the form shows it: on sale now, no waiting room, the window worked out. */
export const NO_SALE_SETTINGS: FieldValues<SaleField> = { onSaleAt: '', waitingRoom: 'no', queueWindow: '' };

type Read<T> = { ok: true; value: T } | { ok: false; message: string };
const YES = ['yes', 'y', 'on'];
const NO = ['no', 'n', 'off'];

const READERS: { [F in SaleField]: (text: string, timeZone: string) => Read<SaleSettingValues[F]> } = {
  onSaleAt: (text, timeZone) => (text.trim() === '' ? { ok: true, value: null } : fromZonedInput(text, timeZone)),
  waitingRoom: (text) => {
    const answer = text.trim().toLowerCase();
    if (YES.includes(answer) || NO.includes(answer)) return { ok: true, value: YES.includes(answer) };
    return { ok: false, message: 'Answer yes or no.' };
  },
  queueWindow: (text) => {
    const t = text.trim();
    if (t === '') return { ok: true, value: null };
    if (/^\d{1,9}$/.test(t) && Number(t) >= 1) return { ok: true, value: Number(t) };
    return { ok: false, message: 'A whole number, 1 or more, or empty for automatic.' };
  },
};

export interface SaleChanges {
  /** The fields that changed and read well, as the API takes them. */
  settings: Partial<SaleSettingValues>;
  /** What is wrong with the others, in the form's order. */
  problems: Array<{ field: SaleField; message: string }>;
}

/**
 * The sale fields that differ from `from`, read as the API takes them: a time on the clocks of
 * `timeZone` (or with an offset), yes or no, a count or empty for the server's own.
 */
export function readSaleChanges(values: FieldValues<SaleField>, from: FieldValues<SaleField>, timeZone: string): SaleChanges {
  const changes: SaleChanges = { settings: {}, problems: [] };
  for (const field of SALE_FIELDS) {
    if (values[field] === from[field]) continue;
    const read = READERS[field](values[field], timeZone);
    if (read.ok) Object.assign(changes.settings, { [field]: read.value });
    else changes.problems.push({ field, message: read.message });
  }
  return changes;
}
