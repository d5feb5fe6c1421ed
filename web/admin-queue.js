// The organiser's side of the waiting room (issue 13) on the admin page: the sale settings in the
// create and edit forms (when the sale opens, the room on or off, how many buyers are served at once),
// and the line of the event being managed: its length, admitted, in progress, rate, pause and resume.
import { api, formatDate, formatNumber, fromZonedInput, plural, say, toZonedInput } from './common.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'boxoffice.adminToken';
const auth = () => ({ authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ''}` });

// ---- the settings in the forms ----

/**
 * The sale settings a create form asks for, added to `body` (empty fields left out, so the server's
 * defaults apply). Returns an error sentence instead when a field is wrong.
 */
export function addSaleSettings(form, body, timeZone) {
  const onSale = String(form.get('onSaleAt') ?? '').trim();
  if (onSale) {
    const at = fromZonedInput(onSale, timeZone);
    if (!at) return 'Enter when the sale opens as a date and time, or leave it empty to sell now.';
    body.onSaleAt = at;
  }
  if (form.get('waitingRoom') === 'on') body.waitingRoom = true;
  const window = String(form.get('queueWindow') ?? '').trim();
  if (window) body.queueWindow = Number(window);
  return undefined;
}

/** Fills the edit form's sale settings from the event. */
export function fillSaleSettings(elements, event) {
  const zone = event.timeZone ?? 'UTC';
  elements.onSaleAt.value = event.onSaleAt ? toZonedInput(event.onSaleAt, zone) : '';
  elements.waitingRoom.checked = Boolean(event.waitingRoom);
  elements.queueWindow.value = event.queueWindow == null ? '' : String(event.queueWindow);
}

/** What changed in the edit form's sale settings, as PATCH fields (empty sale time: on sale now, `null`). */
export function saleSettingsPatch(elements, event, zone) {
  const patch = {};
  const raw = elements.onSaleAt.value.trim();
  const onSaleAt = raw ? fromZonedInput(raw, zone) : null;
  const before = event.onSaleAt ? new Date(event.onSaleAt).toISOString() : null;
  if (onSaleAt !== before) patch.onSaleAt = onSaleAt;
  if (elements.waitingRoom.checked !== Boolean(event.waitingRoom)) patch.waitingRoom = elements.waitingRoom.checked;
  const window = elements.queueWindow.value.trim() === '' ? null : Number(elements.queueWindow.value);
  if (window !== (event.queueWindow ?? null)) patch.queueWindow = window;
  return patch;
}

// ---- the line of the managed event ----

const ui = {
  select: $('manage-event'),
  panel: $('queue-panel'),
  state: $('queue-state'),
  numbers: $('queue-numbers'),
  pause: $('queue-pause'),
  resume: $('queue-resume'),
  error: $('queue-error'),
};

let events = new Map();
let shownId = '';
let summary;
let lastLoad = 0;
let loading = false;

/** The live list (from the admin page's stream), to know which events have a room. */
export function queueEvents(map) {
  events = map;
  render();
}

/** A `queue` message of the stream: the managed event's line changed, so its numbers are read again. */
export function queueMessage(msg) {
  if ((msg.queues ?? []).some((q) => q.eventId === ui.select.value)) void load();
}

export function setupQueuePanel() {
  ui.pause.addEventListener('click', () => void act('pause'));
  ui.resume.addEventListener('click', () => void act('resume'));
  ui.select.addEventListener('change', render);
  // The stream says when the line moves; this also catches a choice made from the sales table
  // (which sets the select without a change event) and a line that is quiet.
  setInterval(() => {
    if (ui.select.value !== shownId || Date.now() - lastLoad > 5000) render();
  }, 1000);
}

function render() {
  const event = events.get(ui.select.value);
  if (ui.select.value !== shownId) {
    shownId = ui.select.value;
    summary = undefined;
    say(ui.error, '');
  }
  if (!event?.waitingRoom) {
    ui.panel.dataset.room = 'off';
    say(ui.state, event ? 'No waiting room for this event: buyers hold and buy directly. Turn it on under Details.' : '');
    ui.numbers.replaceChildren();
    ui.pause.hidden = ui.resume.hidden = true;
    return;
  }
  ui.panel.dataset.room = 'on';
  if (!summary || Date.now() - lastLoad > 5000) void load();
  paint(event);
}

async function load() {
  const event = events.get(ui.select.value);
  if (!event?.waitingRoom || loading) return;
  if (!sessionStorage.getItem(TOKEN_KEY)) {
    say(ui.state, 'Enter the admin token above to see the line.');
    return;
  }
  loading = true;
  lastLoad = Date.now();
  try {
    const { data } = await api('GET', `/events/${event.id}/queue`, { headers: auth(), retries: 1 });
    if (data.eventId === ui.select.value) {
      summary = data;
      paint(event);
    }
  } catch (err) {
    say(ui.error, err.status === 401 ? `${err.message} Enter the admin token above.` : err.message);
  } finally {
    loading = false;
  }
}

function paint(event) {
  if (!summary) {
    say(ui.state, 'Reading the line…');
    return;
  }
  const s = summary;
  const zone = event.timeZone;
  let state;
  if (!s.open) {
    const opens = s.opensAt && Date.parse(s.opensAt) > Date.now() ? ` The line opens at ${formatDate(s.opensAt, 'medium', zone)};` : ' The line is open;';
    state = `Before the sale.${opens} the sale opens at ${s.onSaleAt ? formatDate(s.onSaleAt, 'medium', zone) : 'once set'}.`;
    if (s.paused) state += ' The line is paused: nobody will be let in until you resume it.';
  } else state = s.paused ? 'The line is paused: nobody more is let in until you resume it.' : 'The line is moving.';
  if (ui.state.textContent !== state) say(ui.state, state);
  const rows = [
    ['In line', plural(s.length, 'buyer', 'buyers'), 'length'],
    ['Waiting', formatNumber(s.waiting), 'waiting'],
    ['Admitted', formatNumber(s.admitted), 'admitted'],
    ['In progress (pass not used yet)', `${formatNumber(s.inProgress)} of ${formatNumber(s.window)} at once`, 'in-progress'],
    ['Bought or held', formatNumber(s.done), 'done'],
    ['Passes expired', formatNumber(s.expired), 'expired'],
    ['Serving up to place', formatNumber(s.serving), 'serving'],
    ['Admit rate', `${formatNumber(Math.round(s.admitRatePerMinute))} a minute`, 'rate'],
  ];
  ui.numbers.replaceChildren(
    ...rows.map(([label, value, key]) => {
      const div = document.createElement('div');
      div.dataset.key = key;
      div.append(Object.assign(document.createElement('dt'), { textContent: label }), Object.assign(document.createElement('dd'), { textContent: value }));
      return div;
    }),
  );
  ui.pause.hidden = s.paused;
  ui.resume.hidden = !s.paused;
}

async function act(what) {
  const event = events.get(ui.select.value);
  if (!event) return;
  say(ui.error, '');
  const button = what === 'pause' ? ui.pause : ui.resume;
  button.setAttribute('aria-disabled', 'true');
  try {
    // Pausing or resuming twice is harmless, so a lost answer is retried.
    const { data } = await api('POST', `/events/${event.id}/queue/${what}`, { headers: auth(), retries: 2 });
    summary = data;
    lastLoad = Date.now();
    paint(event);
    (data.paused ? ui.resume : ui.pause).focus();
  } catch (err) {
    say(ui.error, err.status === 401 ? `${err.message} Enter the admin token above.` : err.message);
  } finally {
    button.removeAttribute('aria-disabled');
  }
}
