// The organiser's page: the admin token, creating events, and live sales per event.
import { showEventChoices } from './admin-checkin.js';
import { addSaleSettings, queueEvents, queueMessage, setupQueuePanel } from './admin-queue.js';
import { choose, setupManage, showManageChoices, tokenChanged } from './admin-events.js';
import { CONNECTION_TEXT, api, browserTimeZone, eventDate, followEvents, formatNumber, fromZonedInput, knownTimeZone, say, soldTickets, sortedEvents } from './common.js';

const $ = (id) => document.getElementById(id);
const ui = {
  connection: $('connection'),
  tokenForm: $('token-form'),
  token: $('token'),
  forget: $('forget'),
  tokenStatus: $('token-status'),
  createForm: $('create-form'),
  createError: $('create-error'),
  createStatus: $('create-status'),
  name: $('name'),
  rows: document.querySelector('#sales tbody'),
  empty: $('sales-empty'),
};

// sessionStorage, not localStorage: the token leaves with the tab instead of staying on the machine.
const TOKEN_KEY = 'boxoffice.adminToken';
const storedToken = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

/**
 * Asks the server whether `token` is the admin token, changing nothing: an admin-only read of an event
 * that does not exist answers 404 to the admin and 401 to anyone else (the token is checked first).
 */
const NO_EVENT = '00000000-0000-4000-8000-000000000000';
async function checkToken(token) {
  try {
    // A real event when there is one: the admin's answer is then a plain 200 (no 404 in the console).
    const known = feed.events.keys().next().value ?? NO_EVENT;
    await api('GET', `/events/${known}/bookings?limit=1`, { headers: { authorization: `Bearer ${token}` }, retries: 2 });
    return { ok: true };
  } catch (err) {
    if (err.status === 404) return { ok: true };
    if (err.status === 401 || err.status === 403) return { ok: false, message: err.message };
    return { ok: undefined, message: err.message };
  }
}

function tokenState(text, ok) {
  if (ok === undefined) delete ui.tokenStatus.dataset.ok;
  else ui.tokenStatus.dataset.ok = String(ok);
  say(ui.tokenStatus, text);
}

showTokenState();
ui.tokenForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = ui.token.value.trim();
  ui.token.removeAttribute('aria-invalid');
  // Anything else cannot travel in an HTTP header; fetch would fail with a confusing error.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    tokenState('That does not look like a token: it should be letters and digits without spaces.', false);
    ui.token.setAttribute('aria-invalid', 'true');
    ui.token.focus();
    return;
  }
  tokenState('Checking the token with the server…');
  const answer = await checkToken(token);
  if (answer.ok === false) {
    // Refused at once, where it was typed, instead of at the first event created.
    tokenState(`The server does not accept this token: ${answer.message} Nothing was saved.`, false);
    ui.token.setAttribute('aria-invalid', 'true');
    ui.token.focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  ui.token.value = '';
  tokenState(answer.ok ? 'Token accepted by the server and kept for this tab.' : `Token kept for this tab, but it could not be checked: ${answer.message}`, answer.ok);
  tokenChanged();
});
ui.forget.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  tokenState('Token forgotten.');
  tokenChanged();
});

function showTokenState() {
  tokenState(storedToken() ? 'A token is set for this tab.' : 'No token yet: enter it to create and manage events.');
}

// The zone list for the time zone fields; the organiser's own zone is the default for a new event.
const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
document.getElementById('time-zones').replaceChildren(...zones.map((z) => Object.assign(document.createElement('option'), { value: z })));
const tzInput = document.getElementById('time-zone');
tzInput.value = browserTimeZone();
ui.createForm.addEventListener('reset', () => setTimeout(() => (tzInput.value = browserTimeZone())));

ui.createForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  say(ui.createError, '');
  say(ui.createStatus, '');
  if (!ui.createForm.reportValidity()) return;
  const token = storedToken();
  if (!token) {
    say(ui.createError, 'Enter the admin token first.');
    ui.token.focus();
    return;
  }
  const form = new FormData(ui.createForm);
  const timeZone = String(form.get('timeZone') ?? '').trim();
  if (!knownTimeZone(timeZone)) {
    say(ui.createError, `“${timeZone}” is not a time zone: use a name like Europe/Berlin.`);
    tzInput.focus();
    return;
  }
  // The date is read on the event's clocks: the time printed on the poster.
  const date = fromZonedInput(String(form.get('date')), timeZone);
  if (!date) {
    say(ui.createError, 'Enter the date and time of the event.');
    return;
  }
  const body = { name: String(form.get('name')).trim(), date, timeZone, totalTickets: Number(form.get('totalTickets')) };
  for (const field of ['venue', 'description']) {
    const value = String(form.get(field) ?? '').trim();
    if (value) body[field] = value;
  }
  if (form.get('buyerDetails') !== 'none') body.buyerDetails = form.get('buyerDetails');
  // Empty optional fields are left out, so the server's defaults apply.
  for (const field of ['maxTicketsPerBooking', 'holdSeconds']) {
    const value = String(form.get(field) ?? '').trim();
    if (value) body[field] = Number(value);
  }
  if (form.get('offlineCheckIn') === 'on') body.offlineCheckIn = true;
  const saleProblem = addSaleSettings(form, body, timeZone);
  if (saleProblem) {
    say(ui.createError, saleProblem);
    return;
  }
  const button = ui.createForm.querySelector('button[type=submit]');
  button.setAttribute('aria-disabled', 'true');
  try {
    // Not retried: creating an event twice would make two events.
    const { data } = await api('POST', '/events', { body, headers: { authorization: `Bearer ${token}` } });
    say(ui.createStatus, `Created “${data.name}”: ${formatNumber(data.totalTickets)} tickets, ${eventDate(data)}.`);
    ui.createForm.reset();
    ui.name.focus();
  } catch (err) {
    say(ui.createError, err.status === 401 ? `${err.message} Check the admin token above.` : err.message);
  } finally {
    button.removeAttribute('aria-disabled');
  }
});

// ---- live sales ----

const rows = new Map();

const feed = followEvents({
  onUpdate: (events, changed) => {
    const list = sortedEvents(events);
    list.forEach((event, index) => {
      let row = rows.get(event.id);
      if (!row) {
        row = createRow(event);
        rows.set(event.id, row);
      }
      if (ui.rows.children[index] !== row.tr) ui.rows.insertBefore(row.tr, ui.rows.children[index] ?? null);
      if (!changed || changed.has(event.id)) updateRow(row, event);
    });
    for (const [id, row] of rows) {
      if (!events.has(id)) {
        row.tr.remove();
        rows.delete(id);
      }
    }
    ui.empty.hidden = list.length > 0;
    showEventChoices(list);
    showManageChoices(list);
    queueEvents(events);
  },
  onMessage: (msg) => {
    if (msg.type === 'queue') queueMessage(msg);
  },
  onStatus: (state) => {
    ui.connection.dataset.state = state;
    say(ui.connection, CONNECTION_TEXT[state]);
  },
});

function createRow(event) {
  const tr = document.createElement('tr');
  tr.dataset.eventId = event.id;
  const cell = (tag, className) => {
    const el = document.createElement(tag);
    if (className) el.className = className;
    tr.append(el);
    return el;
  };
  const row = {
    tr,
    name: cell('th'),
    date: cell('td', 'date'),
    total: cell('td', 'num total'),
    available: cell('td', 'num available'),
    held: cell('td', 'num held'),
    sold: cell('td', 'num sold'),
    checkedIn: cell('td', 'num checked-in'),
    barCell: cell('td', 'chart'),
  };
  row.name.scope = 'row';
  row.state = document.createElement('span');
  row.state.className = 'hint row-state';
  row.manage = document.createElement('button');
  row.manage.type = 'button';
  row.manage.className = 'manage';
  row.manage.textContent = 'Manage';
  row.manage.addEventListener('click', () => {
    choose(event.id);
    document.getElementById('manage-title').focus();
  });
  row.nameText = document.createElement('span');
  row.bar = document.createElement('div');
  row.bar.className = 'bar';
  row.bar.setAttribute('role', 'img');
  row.barSold = document.createElement('span');
  row.barSold.className = 'bar-sold';
  row.barHeld = document.createElement('span');
  row.barHeld.className = 'bar-held';
  row.bar.append(row.barSold, row.barHeld);
  row.barCell.append(row.bar);
  return row;
}

function updateRow(row, event) {
  const held = event.heldTickets ?? 0;
  const sold = soldTickets(event);
  const total = Math.max(event.totalTickets, 1);
  row.nameText.textContent = event.name;
  if (!row.name.firstChild) row.name.append(row.nameText, ' ', row.state, ' ', row.manage);
  row.date.textContent = eventDate(event, 'medium');
  row.state.textContent = event.status === 'cancelled' ? 'cancelled' : event.salesOpen === false ? 'sales closed' : '';
  row.manage.setAttribute('aria-label', `Manage ${event.name}`);
  row.total.textContent = formatNumber(event.totalTickets);
  row.available.textContent = formatNumber(event.availableTickets);
  row.held.textContent = formatNumber(held);
  row.sold.textContent = formatNumber(sold);
  row.checkedIn.textContent = formatNumber(event.checkedInTickets ?? 0);
  const soldPct = (sold / total) * 100;
  const heldPct = (held / total) * 100;
  // CSSOM, not a style attribute: the page's CSP allows no inline styles.
  row.barSold.style.width = `${soldPct}%`;
  row.barHeld.style.width = `${heldPct}%`;
  row.bar.setAttribute('aria-label', `${Math.round(soldPct)}% sold, ${Math.round(heldPct)}% held`);
}

setupManage({ refresh: () => feed.refresh() });
setupQueuePanel();
