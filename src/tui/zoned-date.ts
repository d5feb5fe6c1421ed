/**
 * An event's date as its organiser thinks of it: the wall-clock time where the event happens
 * (`2027-05-01 20:00` in Europe/Berlin), converted to and from the instant the API stores, with the
 * runtime's Intl time zone data (no hand-kept offset tables).
 */

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `millis` in `timeZone`; throws RangeError for a zone the runtime does not know. */
function wallClock(millis: number, timeZone: string): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, format);
  }
  const part = Object.fromEntries(format.formatToParts(millis).map((p) => [p.type, Number(p.value)]));
  return { year: part.year!, month: part.month!, day: part.day!, hour: part.hour!, minute: part.minute!, second: part.second! };
}

/** How far `timeZone` is ahead of UTC at `millis`, in milliseconds. */
function offsetAt(millis: number, timeZone: string): number {
  const w = wallClock(millis, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(millis / 1000) * 1000;
}

const two = (n: number) => String(n).padStart(2, '0');

/** `2027-05-01 20:00`: the instant `iso` on the clocks of `timeZone` (the text itself when either is unusable). */
export function toZonedInput(iso: string, timeZone: string): string {
  const millis = Date.parse(iso);
  if (Number.isNaN(millis)) return iso;
  try {
    const w = wallClock(millis, timeZone);
    const seconds = w.second === 0 ? '' : `:${two(w.second)}`;
    return `${w.year}-${two(w.month)}-${two(w.day)} ${two(w.hour)}:${two(w.minute)}${seconds}`;
  } catch {
    return iso;
  }
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const WITH_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

export type ZonedParse = { ok: true; value: string } | { ok: false; message: string };

/**
 * The organiser's text as the API's instant. `YYYY-MM-DD HH:MM` (or with `T`, or seconds) is a time on
 * the clocks of `timeZone`; a text ending in `Z` or an offset is sent as typed (the server checks it).
 * A time the clocks skip (the spring change) is refused rather than moved.
 */
export function fromZonedInput(text: string, timeZone: string): ZonedParse {
  const t = text.trim();
  if (WITH_OFFSET.test(t)) return { ok: true, value: t };
  const m = LOCAL.exec(t);
  if (!m) return { ok: false, message: `Write the date as YYYY-MM-DD HH:MM in ${timeZone} (or with an offset, like 2027-05-01T20:00+02:00).` };
  const [year, month, day, hour, minute, second] = m.slice(1).map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  let millis: number;
  try {
    // The offset at the guess, then at the corrected instant: two steps settle across a clock change.
    millis = asUtc - offsetAt(asUtc, timeZone);
    millis = asUtc - offsetAt(millis, timeZone);
  } catch {
    return { ok: false, message: `${timeZone} is not a time zone this terminal knows; give the date with an offset instead.` };
  }
  const back = wallClock(millis, timeZone);
  if (back.year !== year || back.month !== month || back.day !== day || back.hour !== hour || back.minute !== minute || back.second !== second) {
    return { ok: false, message: `${t.replace('T', ' ')} does not exist in ${timeZone} (the clocks change then), or is not a real date.` };
  }
  return { ok: true, value: new Date(millis).toISOString() };
}
