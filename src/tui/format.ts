/** Small text helpers for fixed-width terminal layouts. */

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone (building one costs far more than using it); undefined for a zone this runtime does not know. */
function zoneFormat(timeZone: string): Intl.DateTimeFormat | undefined {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        weekday: 'short',
        day: '2-digit',
        month: 'short',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      });
    } catch {
      return undefined;
    }
    zoneFormats.set(timeZone, format);
  }
  return format;
}

/**
 * `Sat 31 Dec 2026 20:00 CET`: the time where the event happens (its `timeZone`), with the zone's
 * label, so an organiser or buyer in another zone is not misled. Without a zone (a server older than
 * time zones), the machine's local time without a label. The same shape in every locale.
 */
export function formatEventDate(iso: string, timeZone?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const format = timeZone ? zoneFormat(timeZone) : undefined;
  if (!format) return `${WEEKDAYS[d.getDay()]} ${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}`;
  const part = Object.fromEntries(format.formatToParts(d).map((p) => [p.type, p.value]));
  return `${part.weekday} ${part.day} ${part.month} ${part.year} ${part.hour}:${part.minute} ${part.timeZoneName}`;
}

/** `12:34:56.789` local time, for log lines. */
export function formatClock(millis: number): string {
  const d = new Date(millis);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `10,000,000`: digits grouped the same way everywhere. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Cuts `text` to `width` columns, ending in `…` when it had to cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  if (text.length <= width) return text;
  return width === 1 ? '…' : `${text.slice(0, width - 1)}…`;
}

export function padEnd(text: string, width: number): string {
  return truncate(text, width).padEnd(width);
}

export function padStart(text: string, width: number): string {
  return truncate(text, width).padStart(width);
}

/** Splits `text` into rows of at most `width` columns (hard wrap). */
export function wrap(text: string, width: number): string[] {
  if (width <= 0) return [''];
  const rows: string[] = [];
  for (let i = 0; i < text.length; i += width) rows.push(text.slice(i, i + width));
  return rows.length > 0 ? rows : [''];
}

/** `1 s`, `2.5 s` for a delay in milliseconds. */
export function formatDelay(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
