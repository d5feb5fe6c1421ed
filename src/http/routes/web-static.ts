/**
 * The box office page as the server sends it: the events on sale already in the HTML, so a buyer
 * sees something useful before the script has loaded (a slow phone), or without it (scripts off).
 * The script replaces this list with live cards as soon as it runs.
 */
import type { FastifyInstance } from 'fastify';

/** The events written into the page; the rest arrive with the script. */
const STATIC_LIMIT = 100;
const PLACEHOLDER = '<!--events-->';

interface ListedEvent {
  id: string;
  name: string;
  date: string;
  timeZone?: string;
  venue?: string;
  totalTickets: number;
  availableTickets: number;
  salesOpen?: boolean;
  status?: string;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The date in the event's own zone, labelled ("Friday 12 March 2027 at 20:30 CET (Europe/Berlin)"). */
export function staticDate(iso: string, timeZone: string | undefined): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' };
  try {
    const text = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: timeZone ?? 'UTC' }).format(date);
    return timeZone && !text.endsWith(timeZone) ? `${text} (${timeZone.replaceAll("_", " ")})` : text;
  } catch {
    return new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' }).format(date);
  }
}

function staticItem(event: ListedEvent): string {
  let state: string;
  if (event.status === 'cancelled') state = 'Cancelled by the organiser.';
  else if (event.salesOpen === false) state = 'Sales are closed for now.';
  else if (event.availableTickets > 0) state = `${event.availableTickets} of ${event.totalTickets} tickets available.`;
  else state = 'Sold out.';
  const venue = event.venue ? `<p class="event-venue">${escapeHtml(event.venue)}</p>` : '';
  return (
    `<li class="event static" data-event-id="${escapeHtml(event.id)}"><h3 class="event-name">${escapeHtml(event.name)}</h3>` +
    `<p class="event-date"><time datetime="${escapeHtml(event.date)}">${escapeHtml(staticDate(event.date, event.timeZone))}</time></p>` +
    `${venue}<p class="availability">${escapeHtml(state)}</p></li>`
  );
}

/** index.html with the current events in place of its placeholder (as it is, if the list cannot be read). */
export async function renderIndex(app: FastifyInstance, html: string): Promise<string> {
  try {
    // Through the API's own route, so the page shows exactly what GET /events answers.
    const res = await app.inject({ method: 'GET', url: `/events?limit=${STATIC_LIMIT}` });
    if (res.statusCode !== 200) return html;
    const events = (res.json() as ListedEvent[]).filter((e) => Date.parse(e.date) >= Date.now() || Number.isNaN(Date.parse(e.date)));
    const items = events.length > 0 ? events.map(staticItem).join('') : '<li class="event static"><p>No events are on sale yet.</p></li>';
    return html.replace(PLACEHOLDER, items);
  } catch {
    return html;
  }
}
