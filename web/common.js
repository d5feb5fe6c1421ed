// Shared by the box office and the admin page: talking to the API and following the live list.

/** An answer the API refused, or a network failure (`status` 0), with a sentence for a person. */
export class ApiError extends Error {
  constructor(status, code, message, headers) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

const RETRYABLE = new Set([429, 503]);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One API call. JSON in, JSON out; any refusal becomes an ApiError carrying the server's own
 * `message`. With `retries`, network failures, 429 and 503 are tried again (honouring Retry-After):
 * only pass it for requests that are safe to repeat (reads, hold confirm/release, or a POST that
 * carries an Idempotency-Key).
 */
export async function api(method, path, { body, headers = {}, retries = 0 } = {}) {
  const init = { method, headers: { accept: 'application/json', ...headers }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  for (let attempt = 0; ; attempt++) {
    let error;
    try {
      const res = await fetch(path, init);
      const data = await readJson(res);
      if (res.ok) return { status: res.status, headers: res.headers, data };
      error = data && typeof data.message === 'string'
        ? new ApiError(res.status, data.error, data.message, res.headers)
        : new ApiError(res.status, 'unexpected', `The server answered ${res.status} ${res.statusText}.`.replace(' .', '.'), res.headers);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      error = new ApiError(0, 'unreachable', 'Cannot reach the box office. Check your connection and try again.');
    }
    if (attempt >= retries || !(error.status === 0 || RETRYABLE.has(error.status))) throw error;
    const after = Number(error.headers?.get('retry-after'));
    await sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 10) * 1000 : 500 * 2 ** attempt);
  }
}

async function readJson(res) {
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The server's list order (core's compareEvents): date, then name, then id. */
export function compareEvents(a, b) {
  return a.date < b.date ? -1 : a.date > b.date ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Follows `GET /events/stream` and keeps `events` (id → Event) current. `onUpdate(events, changedIds)`
 * runs after every message (`changedIds` is undefined after a snapshot: everything may have changed);
 * `onStatus('live' | 'connecting' | 'offline')` tells how fresh the numbers are; `onMessage(msg)` hears
 * every other kind of message (`queue`).
 * EventSource reconnects by itself after a dropped stream, but gives up for good when the server
 * answers with an error (a 503 while it restarts, say), so that case is retried here, with backoff.
 */
/** How often the list is fetched while the live stream is refused. */
const POLL_MS = 3000;

export function followEvents({ onUpdate, onStatus, onMessage }) {
  const events = new Map();
  let source;
  let delay = 1000;
  // While the stream is refused (a busy server, or many buyers behind one address using up its
  // stream places: 429 too_many_streams), the list is polled instead, cheaply: an unchanged list
  // is a 304 without a body.
  let etag;
  let polling;
  const replaceAll = (list) => {
    events.clear();
    for (const event of list) events.set(event.id, event);
    onUpdate(events, undefined);
  };
  const poll = async () => {
    try {
      const res = await fetch('/events', { headers: etag ? { 'if-none-match': etag } : {} });
      if (res.status === 200) {
        etag = res.headers.get('etag') ?? undefined;
        replaceAll(await res.json());
      }
      if (res.ok || res.status === 304) onStatus('polling');
    } catch {
      // Offline: the indicator already says so; the next tick tries again.
    }
  };
  const startPolling = () => {
    if (polling) return;
    void poll();
    polling = setInterval(poll, POLL_MS);
  };
  const stopPolling = () => {
    clearInterval(polling);
    polling = undefined;
  };
  const connect = () => {
    if (!polling) onStatus('connecting');
    source = new EventSource('/events/stream');
    source.onopen = () => {
      delay = 1000;
      stopPolling();
      onStatus('live');
    };
    source.onmessage = (message) => {
      let msg;
      try {
        msg = JSON.parse(message.data);
      } catch {
        return;
      }
      if (msg.type === 'snapshot') {
        events.clear();
        for (const event of msg.events) events.set(event.id, event);
        onUpdate(events, undefined);
      } else if (msg.type === 'changes') {
        const changed = new Set();
        // `updated` carries whole events after an edit, a closing of sales or a cancellation.
        for (const event of [...(msg.created ?? []), ...(msg.updated ?? [])]) {
          events.set(event.id, event);
          changed.add(event.id);
        }
        for (const a of msg.availability ?? []) {
          const event = events.get(a.id);
          if (!event) continue;
          // Entries carry absolute numbers, so applying one twice is harmless.
          const next = { ...event, availableTickets: a.availableTickets };
          if (typeof a.heldTickets === 'number') next.heldTickets = a.heldTickets;
          if (typeof a.checkedInTickets === 'number') next.checkedInTickets = a.checkedInTickets;
          events.set(a.id, next);
          changed.add(a.id);
        }
        onUpdate(events, changed);
      } else {
        // Other kinds (the waiting room's `queue`) go to whoever asked for them.
        onMessage?.(msg);
      }
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        if (!polling) onStatus('offline');
        startPolling();
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 15_000);
      } else {
        onStatus('connecting');
      }
    };
  };
  connect();
  return {
    events,
    /** Replaces the list with a fresh `GET /events` (after something the stream may not show yet). */
    async refresh() {
      const { data } = await api('GET', '/events', { retries: 2 });
      replaceAll(data);
    },
  };
}

/** The events in the server's order. */
export function sortedEvents(events) {
  return [...events.values()].sort(compareEvents);
}

/** Tickets neither available nor held: sold (cancelled tickets return to stock, so they are not counted). */
export function soldTickets(event) {
  return event.totalTickets - event.availableTickets - (event.heldTickets ?? 0);
}

const dateFormats = {
  full: { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' },
  medium: { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short' },
};
const formatters = new Map();
/**
 * A date in the reader's language, in the event's own time zone with its label (a 20:00 Berlin
 * concert reads 20:00 to a buyer whose phone is in New York, and says which zone that is). Without a
 * zone (an older server) it is the reader's zone, still labelled.
 */
export function formatDate(iso, style = 'full', timeZone) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const key = `${style}|${timeZone ?? ''}`;
  let format = formatters.get(key);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat(undefined, { ...dateFormats[style], ...(timeZone ? { timeZone } : {}) });
    } catch {
      format = new Intl.DateTimeFormat(undefined, dateFormats[style]); // a zone this browser does not know
    }
    formatters.set(key, format);
  }
  const text = format.format(date);
  // The short label alone can be "GMT+1"; the zone's name says which place's clock it is.
  return timeZone && !text.endsWith(timeZone) ? `${text} (${timeZone.replaceAll("_", " ")})` : text;
}

/** An event's date as shown everywhere: in its zone, labelled. */
export const eventDate = (event, style = 'full') => formatDate(event.date, style, event.timeZone);

const numberFormat = new Intl.NumberFormat();
export const formatNumber = (n) => numberFormat.format(n);

export const plural = (n, one, many) => `${formatNumber(n)} ${n === 1 ? one : many}`;

/** Words for the connection indicator. */
export const CONNECTION_TEXT = {
  live: 'Live: availability updates as it changes.',
  connecting: 'Connecting to live availability…',
  offline: 'Live updates are interrupted; retrying. The numbers shown may be out of date.',
  polling: 'Live updates are busy; the numbers are refreshed every few seconds.',
};

/**
 * Puts a sentence into a live region. The regions stay in the page even when empty (CSS draws
 * nothing for them then): a region that appears together with its text is often not announced.
 */
export function say(element, text) {
  element.textContent = text;
}

// ---- the buyer's bookings, remembered on this device ----

/**
 * Bookings bought on this device, so the buyer finds them again after a reload or a closed tab:
 * localStorage (it outlives the tab), never a cookie (it would travel to the server on every request).
 * Each entry: { id, secret, eventId, eventName, date, timeZone, tickets: [{ id, code? }], savedAt }.
 */
const BOOKINGS_KEY = 'boxoffice.bookings';

export function rememberedBookings() {
  try {
    const list = JSON.parse(localStorage.getItem(BOOKINGS_KEY) ?? '[]');
    return Array.isArray(list) ? list.filter((b) => b && typeof b.id === 'string' && typeof b.secret === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberBooking(entry) {
  const list = rememberedBookings().filter((b) => b.id !== entry.id);
  list.unshift({ ...entry, savedAt: new Date().toISOString() });
  try {
    localStorage.setItem(BOOKINGS_KEY, JSON.stringify(list.slice(0, 100)));
  } catch {
    // Storage full or refused (private mode): the booking page address still works.
  }
}

export function forgetBooking(id) {
  try {
    localStorage.setItem(BOOKINGS_KEY, JSON.stringify(rememberedBookings().filter((b) => b.id !== id)));
  } catch {
    // nothing to do
  }
}

/**
 * The booking page's address. The id and the secret travel in the fragment (after #): browsers never
 * send it to the server, so it is in no request line, no server log and no Referer.
 */
export function bookingUrl(id, secret) {
  return new URL(`/booking#${new URLSearchParams({ id, secret })}`, location.origin).href;
}

// ---- wall-clock times in an event's zone (the admin forms) ----

/** The parts of `date` on the clocks of `timeZone`, as numbers. */
function zonedParts(date, timeZone) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(date);
  const get = (type) => Number(parts.find((p) => p.type === type)?.value);
  return { y: get('year'), m: get('month'), d: get('day'), h: get('hour'), min: get('minute'), s: get('second') };
}

/** An instant as a datetime-local value ("2027-03-12T20:00") on the clocks of `timeZone`. */
export function toZonedInput(iso, timeZone) {
  const p = zonedParts(new Date(iso), timeZone);
  const two = (n) => String(n).padStart(2, '0');
  return `${p.y}-${two(p.m)}-${two(p.d)}T${two(p.h)}:${two(p.min)}`;
}

/**
 * A datetime-local value read on the clocks of `timeZone`, as an ISO instant: the organiser types the
 * time printed on the poster, whatever zone their own computer is in. Undefined for an empty value.
 */
export function fromZonedInput(value, timeZone) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value);
  if (!m) return undefined;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  // The zone's offset at that moment, found from a first guess and corrected once (DST edges).
  let instant = wall;
  for (let i = 0; i < 2; i++) {
    const p = zonedParts(new Date(instant), timeZone);
    const offset = Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s) - instant;
    instant = wall - offset;
  }
  return new Date(instant).toISOString();
}

/** Whether this browser knows `timeZone` (the server checks too). */
export function knownTimeZone(timeZone) {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return Boolean(timeZone);
  } catch {
    return false;
  }
}

export const browserTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
