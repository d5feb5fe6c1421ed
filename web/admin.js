// The organiser's page: the admin token, creating events, and live sales per event.
import { showEventChoices } from './admin-checkin.js';
import { CONNECTION_TEXT, api, followEvents, formatDate, formatNumber, say, soldTickets, sortedEvents } from './common.js';

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

showTokenState();
ui.tokenForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const token = ui.token.value.trim();
  // Anything else cannot travel in an HTTP header; fetch would fail with a confusing error.
  if (!/^[\x21-\x7e]+$/.test(token)) {
    say(ui.tokenStatus, 'That does not look like a token: it should be letters and digits without spaces.');
    ui.token.focus();
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  ui.token.value = '';
  say(ui.tokenStatus, 'Token saved for this tab. The server checks it when you create an event.');
});
ui.forget.addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  say(ui.tokenStatus, 'Token forgotten.');
});

function showTokenState() {
  say(ui.tokenStatus, storedToken() ? 'A token is set for this tab.' : 'No token yet: enter it to create events.');
}

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
  const when = new Date(String(form.get('date')));
  if (Number.isNaN(when.getTime())) {
    say(ui.createError, 'Enter the date and time of the event.');
    return;
  }
  const body = { name: String(form.get('name')).trim(), date: when.toISOString(), totalTickets: Number(form.get('totalTickets')) };
  // Empty optional fields are left out, so the server's defaults apply.
  for (const field of ['maxTicketsPerBooking', 'holdSeconds']) {
    const value = String(form.get(field) ?? '').trim();
    if (value) body[field] = Number(value);
  }
  if (form.get('offlineCheckIn') === 'on') body.offlineCheckIn = true;
  const button = ui.createForm.querySelector('button[type=submit]');
  button.setAttribute('aria-disabled', 'true');
  try {
    // Not retried: creating an event twice would make two events.
    const { data } = await api('POST', '/events', { body, headers: { authorization: `Bearer ${token}` } });
    say(ui.createStatus, `Created “${data.name}”: ${formatNumber(data.totalTickets)} tickets, ${formatDate(data.date)}.`);
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

followEvents({
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
  row.name.textContent = event.name;
  row.date.textContent = formatDate(event.date, 'medium');
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
