// The organiser's check-in panel on the admin page (issue 14): doors (create, with the token shown
// once; revoke), the offline setting, the checked-in count, conflicts, recent scans, the attendee CSV.
import { api, formatDate, formatNumber, say } from './common.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'boxoffice.adminToken';
const REFRESH_MS = 5_000;
let eventId = '';
let timer;

const auth = () => {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  return token ? { authorization: `Bearer ${token}` } : undefined;
};

function fail(err) {
  say($('checkin-error'), err.status === 401 ? `${err.message} Enter the admin token above.` : err.message);
}

/** Keeps the event choice in step with the live list; the first event is chosen when none is. */
export function showEventChoices(events) {
  const select = $('checkin-event');
  const known = [...select.options].map((o) => o.value).join(',');
  if (known === events.map((e) => e.id).join(',')) {
    for (const [i, e] of events.entries()) select.options[i].textContent = `${e.name} (${formatDate(e.date, 'medium')})`;
    return;
  }
  select.replaceChildren(
    ...events.map((e) => {
      const option = document.createElement('option');
      option.value = e.id;
      option.textContent = `${e.name} (${formatDate(e.date, 'medium')})`;
      return option;
    }),
  );
  if (events.some((e) => e.id === eventId)) select.value = eventId;
  else if (events.length > 0) choose(events[0].id);
}

function choose(id) {
  eventId = id;
  $('checkin-event').value = id;
  $('door-token-box').hidden = true;
  void refresh();
}

async function refresh() {
  clearTimeout(timer);
  if (!eventId) return;
  const headers = auth();
  if (!headers) {
    say($('checkin-summary'), 'Enter the admin token above to see doors and scans.');
    return;
  }
  try {
    const [event, doors, report] = await Promise.all([
      api('GET', `/events/${eventId}`, { retries: 2 }),
      api('GET', `/events/${eventId}/doors`, { headers, retries: 2 }),
      api('GET', `/events/${eventId}/checkins`, { headers, retries: 2 }),
    ]);
    say($('checkin-error'), '');
    showSummary(event.data, report.data);
    showDoors(doors.data);
    showConflicts(report.data.conflicts);
    showRecent(report.data.recent);
  } catch (err) {
    fail(err);
  }
  // Refreshed while the page is open: scans arrive from the doors all evening.
  timer = setTimeout(refresh, REFRESH_MS);
}

function showSummary(event, report) {
  const sold = event.totalTickets - event.availableTickets - (event.heldTickets ?? 0);
  const conflicts = report.conflicts.length;
  say($('checkin-summary'), `${formatNumber(report.checkedIn)} of ${formatNumber(sold)} sold tickets checked in${conflicts ? ` · ${conflicts} conflict${conflicts === 1 ? '' : 's'}` : ''}.`);
  $('checkin-offline').checked = Boolean(event.offlineCheckIn);
}

function cells(tr, ...values) {
  for (const [i, v] of values.entries()) {
    const td = document.createElement(i === 0 ? 'th' : 'td');
    if (i === 0) td.scope = 'row';
    if (v instanceof Node) td.append(v);
    else td.textContent = v;
    tr.append(td);
  }
}

function showDoors(doors) {
  $('doors').querySelector('tbody').replaceChildren(
    ...doors.map((door) => {
      const tr = document.createElement('tr');
      tr.dataset.doorId = door.id;
      let action = '';
      if (!door.revokedAt) {
        action = document.createElement('button');
        action.type = 'button';
        action.textContent = 'Revoke';
        action.setAttribute('aria-label', `Revoke ${door.name}`);
        action.addEventListener('click', () => void revoke(door));
      }
      cells(tr, door.name, formatDate(door.createdAt, 'medium'), formatNumber(door.admitted ?? 0), door.revokedAt ? `revoked ${formatDate(door.revokedAt, 'medium')}` : 'active', action);
      return tr;
    }),
  );
}

const scanText = (s) => `${s.door.name} at ${formatDate(s.at, 'medium')}${s.offline ? ' (offline)' : ''}`;

function showConflicts(conflicts) {
  const list = $('conflicts');
  if (conflicts.length === 0) {
    const li = document.createElement('li');
    li.textContent = 'None.';
    list.replaceChildren(li);
    return;
  }
  list.replaceChildren(
    ...conflicts.map((c) => {
      const li = document.createElement('li');
      li.className = 'no';
      li.textContent = `Ticket ${c.ticketId}: ${c.scans.map(scanText).join(' and ')}`;
      return li;
    }),
  );
}

function showRecent(recent) {
  $('recent').replaceChildren(
    ...recent.map((s) => {
      const li = document.createElement('li');
      li.className = s.outcome === 'admitted' ? 'ok' : 'no';
      li.textContent = `${s.outcome.replaceAll('_', ' ')} · ticket ${s.ticketId.slice(0, 8)} · ${scanText(s)}`;
      return li;
    }),
  );
}

async function revoke(door) {
  if (!confirm(`Revoke ${door.name}? Its token stops working at once.`)) return;
  try {
    await api('DELETE', `/events/${eventId}/doors/${door.id}`, { headers: auth(), retries: 2 });
  } catch (err) {
    fail(err);
  }
  void refresh();
}

$('checkin-event').addEventListener('change', (e) => choose(e.target.value));
$('checkin-refresh').addEventListener('click', () => void refresh());

$('checkin-offline').addEventListener('change', async (e) => {
  try {
    await api('PUT', `/events/${eventId}/checkin-settings`, { headers: auth(), body: { offlineCheckIn: e.target.checked }, retries: 2 });
  } catch (err) {
    fail(err);
  }
  void refresh();
});

$('door-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const name = $('door-name').value.trim();
  if (!name || !eventId) return;
  try {
    // Not retried: a lost answer would make a second door (the first token unseen); revoke it from the list.
    const { data } = await api('POST', `/events/${eventId}/doors`, { headers: auth(), body: { name } });
    $('door-token-name').textContent = data.name;
    $('door-url').textContent = location.origin;
    $('door-token').value = data.token;
    $('door-token-box').hidden = false;
    $('door-name').value = '';
    $('door-token').select();
  } catch (err) {
    fail(err);
  }
  void refresh();
});

$('door-token-copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('door-token').value);
    $('door-token-copy').textContent = 'Copied';
  } catch {
    $('door-token').select();
    $('door-token-copy').textContent = 'Press Ctrl-C to copy';
  }
});

// The CSV needs the admin token, which travels only as a header: fetched here, saved as a file.
$('attendees').addEventListener('click', async () => {
  if (!eventId) return;
  try {
    const res = await fetch(`/events/${eventId}/attendees.csv`, { headers: auth(), cache: 'no-store' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw Object.assign(new Error(body.message ?? `The server answered ${res.status}.`), { status: res.status });
    }
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `attendees-${eventId}.csv`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    fail(err);
  }
});
