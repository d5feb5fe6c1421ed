// The organiser's event lifecycle on the admin page (issue 17): edit an event, close and reopen its
// sales, cancel it (after a confirmation), its bookings and attendees with search, cancelling one
// booking, and the attendee CSV.
import { fillSaleSettings, saleSettingsPatch } from './admin-queue.js';
import { api, eventDate, formatDate, formatNumber, fromZonedInput, knownTimeZone, plural, say, toZonedInput } from './common.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'boxoffice.adminToken';
const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';
const auth = () => ({ authorization: `Bearer ${token()}` });

let events = [];
let eventId = '';
/** Called after a change the live stream may not carry (an edit): the page reads the list again. */
let refreshList = async () => {};

const ui = {
  select: $('manage-event'),
  state: $('manage-state'),
  edit: $('edit-form'),
  editError: $('edit-error'),
  editStatus: $('edit-status'),
  toggle: $('sales-toggle'),
  cancel: $('cancel-event'),
  confirm: $('cancel-event-confirm'),
  question: $('cancel-event-question'),
  yes: $('cancel-event-yes'),
  no: $('cancel-event-no'),
  lifecycleError: $('lifecycle-error'),
  lifecycleStatus: $('lifecycle-status'),
  csv: $('csv-link'),
  search: $('bookings-search'),
  query: $('bookings-query'),
  bookingsError: $('bookings-error'),
  bookingsSummary: $('bookings-summary'),
  rows: document.querySelector('#bookings tbody'),
};

const current = () => events.find((e) => e.id === eventId);

/** Says a refusal next to the control that caused it; a 401 also points at the token. */
function refuse(element, err) {
  say(element, err.status === 401 ? `${err.message} Enter the admin token above.` : err.message);
}

export function setupManage({ refresh }) {
  refreshList = refresh;
  ui.select.addEventListener('change', () => choose(ui.select.value));
  ui.edit.addEventListener('submit', (e) => {
    e.preventDefault();
    void saveEdit();
  });
  ui.toggle.addEventListener('click', () => void toggleSales());
  ui.cancel.addEventListener('click', () => {
    const event = current();
    if (!event) return;
    say(ui.lifecycleError, '');
    say(ui.question, `Cancel “${event.name}”? Every booking's tickets are cancelled and sales stop for good; buyers' pages will say the event was cancelled. This cannot be undone.`);
    ui.confirm.hidden = false;
    ui.no.focus(); // the safe answer first: one stray Enter must not cancel an event
  });
  ui.no.addEventListener('click', () => {
    ui.confirm.hidden = true;
    ui.cancel.focus();
  });
  ui.yes.addEventListener('click', () => void cancelEvent());
  ui.search.addEventListener('submit', (e) => {
    e.preventDefault();
    void loadBookings();
  });
  ui.csv.addEventListener('click', (e) => {
    e.preventDefault();
    void downloadCsv();
  });
}

/** Keeps the event choice in step with the live list. */
export function showManageChoices(list) {
  events = list;
  const label = (e) => `${e.name} (${eventDate(e, 'medium')})${e.status === 'cancelled' ? ' · cancelled' : e.salesOpen === false ? ' · sales closed' : ''}`;
  const known = [...ui.select.options].map((o) => o.value).join(',');
  if (known === list.map((e) => e.id).join(',')) {
    list.forEach((e, i) => (ui.select.options[i].textContent = label(e)));
  } else {
    ui.select.replaceChildren(...list.map((e) => Object.assign(document.createElement('option'), { value: e.id, textContent: label(e) })));
  }
  if (list.some((e) => e.id === eventId)) {
    ui.select.value = eventId;
    showState();
  } else if (list.length > 0) {
    choose(list[0].id);
  }
}

/** Opens an event in the panel (also from the sales table's Manage buttons). */
export function choose(id) {
  const changed = id !== eventId;
  eventId = id;
  ui.select.value = id;
  if (changed) {
    ui.confirm.hidden = true;
    for (const el of [ui.editError, ui.editStatus, ui.lifecycleError, ui.lifecycleStatus, ui.bookingsError]) say(el, '');
    fillEdit();
    void loadBookings();
  }
  showState();
}

function showState() {
  const event = current();
  if (!event) return;
  const cancelled = event.status === 'cancelled';
  const past = Date.parse(event.date) < Date.now();
  say(ui.state, cancelled ? 'This event is cancelled.' : event.salesOpen === false ? 'Sales are closed.' : past ? 'This event has taken place.' : 'On sale.');
  ui.toggle.textContent = event.salesOpen === false ? 'Reopen sales' : 'Close sales';
  ui.toggle.disabled = cancelled;
  ui.cancel.disabled = cancelled;
  for (const el of ui.edit.elements) el.disabled = cancelled;
}

function fillEdit() {
  const event = current();
  if (!event) return;
  const f = ui.edit.elements;
  const zone = event.timeZone ?? 'UTC';
  f.name.value = event.name;
  f.date.value = toZonedInput(event.date, zone);
  f.timeZone.value = zone;
  f.venue.value = event.venue ?? '';
  f.description.value = event.description ?? '';
  f.totalTickets.value = String(event.totalTickets);
  f.maxTicketsPerBooking.value = String(event.maxTicketsPerBooking);
  f.holdSeconds.value = String(event.holdSeconds);
  f.buyerDetails.value = event.buyerDetails ?? 'none';
  fillSaleSettings(f, event);
}

/** Marks the field a refusal names (the server's sentences start with the field), or none. */
function markField(form, message) {
  let marked;
  for (const el of form.elements) {
    el.removeAttribute?.('aria-invalid');
    if (!marked && el.name && new RegExp(`\\b${el.name}\\b`).test(message ?? '')) marked = el;
  }
  if (marked) {
    marked.setAttribute('aria-invalid', 'true');
    marked.focus();
  }
}

async function saveEdit() {
  const event = current();
  if (!event) return;
  say(ui.editError, '');
  say(ui.editStatus, '');
  const f = ui.edit.elements;
  const zone = f.timeZone.value.trim();
  if (!knownTimeZone(zone)) {
    say(ui.editError, `“${zone}” is not a time zone this browser knows: use a name like Europe/Berlin.`);
    markField(ui.edit, 'timeZone');
    return;
  }
  const date = fromZonedInput(f.date.value, zone);
  if (!date) {
    say(ui.editError, 'Enter the date and time of the event.');
    markField(ui.edit, 'date');
    return;
  }
  // Only what changed is sent: a PATCH of untouched fields could trip a rule for nothing.
  const next = {
    name: f.name.value.trim(),
    date,
    timeZone: zone,
    venue: f.venue.value.trim(),
    description: f.description.value.trim(),
    totalTickets: Number(f.totalTickets.value),
    maxTicketsPerBooking: Number(f.maxTicketsPerBooking.value),
    holdSeconds: Number(f.holdSeconds.value),
    buyerDetails: f.buyerDetails.value,
  };
  const patch = {};
  for (const [key, value] of Object.entries(next)) {
    const before = key === 'date' ? new Date(event.date).toISOString() : event[key] ?? (key === 'buyerDetails' ? 'none' : '');
    if (value !== before) patch[key] = value;
  }
  Object.assign(patch, saleSettingsPatch(f, event, zone));
  if (Object.keys(patch).length === 0) {
    say(ui.editStatus, 'Nothing changed.');
    return;
  }
  try {
    const { data } = await api('PATCH', `/events/${event.id}`, { body: patch, headers: auth() });
    replace(data);
    fillEdit();
    markField(ui.edit, '');
    say(ui.editStatus, `Saved “${data.name}”, ${eventDate(data)}.`);
  } catch (err) {
    refuse(ui.editError, err);
    markField(ui.edit, err.message);
  }
}

function replace(event) {
  events = events.map((e) => (e.id === event.id ? { ...e, ...event } : e));
  showState();
  void refreshList().catch(() => {});
}

async function toggleSales() {
  const event = current();
  if (!event) return;
  say(ui.lifecycleError, '');
  say(ui.lifecycleStatus, '');
  const open = event.salesOpen === false;
  try {
    const { data } = await api('PATCH', `/events/${event.id}`, { body: { salesOpen: open }, headers: auth() });
    replace(data);
    say(ui.lifecycleStatus, open ? `Sales of “${data.name}” are open again.` : `Sales of “${data.name}” are closed: buyers can no longer hold or buy tickets.`);
  } catch (err) {
    refuse(ui.lifecycleError, err);
  }
}

async function cancelEvent() {
  const event = current();
  if (!event) return;
  say(ui.lifecycleError, '');
  try {
    const { data } = await api('POST', `/events/${event.id}/cancel`, { headers: auth(), retries: 2 });
    ui.confirm.hidden = true;
    replace(data);
    say(ui.lifecycleStatus, `“${data.name}” is cancelled: every booking's tickets are cancelled and its sales are stopped.`);
    void loadBookings();
  } catch (err) {
    refuse(ui.lifecycleError, err);
  }
}

// ---- bookings ----

async function loadBookings() {
  const event = current();
  say(ui.bookingsError, '');
  if (!event) return;
  if (!token()) {
    ui.rows.replaceChildren();
    say(ui.bookingsSummary, 'Enter the admin token above to see who bought.');
    return;
  }
  const search = ui.query.value.trim();
  const query = new URLSearchParams({ limit: '100' });
  if (search) query.set('search', search);
  try {
    const { data } = await api('GET', `/events/${event.id}/bookings?${query}`, { headers: auth(), retries: 2 });
    if (event.id !== eventId) return; // another event was chosen meanwhile
    showBookings(event, data, search);
  } catch (err) {
    refuse(ui.bookingsError, err);
  }
}

/** What the last action did, said before the refreshed list's summary. */
let note = '';

const STATUS_TEXT = { active: 'Active', partly_cancelled: 'Partly cancelled', cancelled: 'Cancelled' };

function showBookings(event, page, search) {
  const shown = page.bookings.length;
  let summary = search
    ? `${plural(page.total, 'booking matches', 'bookings match')} “${search}”.`
    : `${plural(page.total, 'booking', 'bookings')}.`;
  if (shown < page.total) summary += ` Showing the newest ${formatNumber(shown)}.`;
  say(ui.bookingsSummary, note ? `${note} ${summary}` : summary);
  note = '';
  ui.rows.replaceChildren(
    ...page.bookings.map((b) => {
      const tr = document.createElement('tr');
      tr.dataset.bookingId = b.id;
      const cell = (text, className) => {
        const td = document.createElement('td');
        if (className) td.className = className;
        td.textContent = text;
        tr.append(td);
        return td;
      };
      cell(formatDate(b.createdAt, 'medium', event.timeZone));
      const buyer = [b.buyer?.name, b.buyer?.email].filter(Boolean).join(' · ');
      cell(buyer || '—', 'buyer');
      cell(b.validTickets === b.tickets.length ? formatNumber(b.validTickets) : `${formatNumber(b.validTickets)} of ${formatNumber(b.tickets.length)}`, 'num');
      cell(formatNumber(b.checkedIn), 'num');
      cell(STATUS_TEXT[b.status] ?? b.status, 'status');
      const id = cell('', 'booking-id');
      id.append(Object.assign(document.createElement('code'), { textContent: b.id }));
      const actions = cell('', 'booking-actions');
      if (b.validTickets > 0) actions.append(cancelControl(b, buyer));
      return tr;
    }),
  );
}

/** A Cancel button that asks once more, in place, before cancelling the booking. */
function cancelControl(booking, buyer) {
  const box = document.createElement('div');
  box.className = 'row-cancel';
  const start = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Cancel…' });
  start.setAttribute('aria-label', `Cancel booking ${booking.id}${buyer ? ` of ${buyer}` : ''}`);
  const yes = Object.assign(document.createElement('button'), { type: 'button', textContent: `Yes, cancel ${plural(booking.validTickets, 'ticket', 'tickets')}`, className: 'danger', hidden: true });
  const no = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Keep', hidden: true });
  const error = Object.assign(document.createElement('p'), { className: 'field-error' });
  error.setAttribute('role', 'alert');
  const asking = (on) => {
    start.hidden = on;
    yes.hidden = !on;
    no.hidden = !on;
  };
  start.addEventListener('click', () => {
    asking(true);
    no.focus();
  });
  no.addEventListener('click', () => {
    asking(false);
    start.focus();
  });
  yes.addEventListener('click', async () => {
    say(error, '');
    try {
      await api('DELETE', `/bookings/${booking.id}`, { headers: auth() });
      say(ui.lifecycleStatus, '');
      note = `Cancelled booking ${booking.id}: ${plural(booking.validTickets, 'ticket went', 'tickets went')} back on sale.`;
      await loadBookings();
    } catch (err) {
      refuse(error, err);
    }
  });
  box.append(start, yes, no, error);
  return box;
}

async function downloadCsv() {
  const event = current();
  if (!event) return;
  say(ui.lifecycleError, '');
  try {
    // The CSV needs the admin token, which a plain link cannot carry: fetched, then saved.
    const res = await fetch(`/events/${event.id}/attendees.csv`, { headers: auth(), cache: 'no-store' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw Object.assign(new Error(body.message ?? `The server answered ${res.status}.`), { status: res.status });
    }
    const url = URL.createObjectURL(await res.blob());
    const a = Object.assign(document.createElement('a'), { href: url, download: `attendees-${event.id}.csv` });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    refuse(ui.lifecycleError, err);
  }
}

/** After the token changed: the bookings list is read again with it. */
export function tokenChanged() {
  void loadBookings();
}
