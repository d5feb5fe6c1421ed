// The waiting room of an event (issue 13), inside its card on the box office: the countdown to the sale,
// "Join the line", the buyer's place moving live, the admission pass carried to the hold form, sold out.
//
// Positions come from the stream's `queue` messages (the serving counter), not from one request per
// buyer: ahead = position − serving − 1. The entry itself is read (GET …/queue/:entryId with its token)
// only to learn the drawn position after the sale opens, to pick up the pass when the counter reaches
// this place, and every few seconds while the stream is down.
import { api, formatDate, formatNumber, plural, say } from './common.js';

/** Entries by event id, kept on this device so a reload or a reconnect resumes the same place. */
const ENTRIES_KEY = 'boxoffice.queue';
/** While the stream is down, the entry is read this often instead. */
const POLL_MS = 5000;
/** Once the counter reaches this place, the pass is asked for this often until it comes. */
const PASS_POLL_MS = 1000;

/** Server time minus this page's clock, from the Date header of answers: countdowns follow the server. */
let skewMs = 0;
const serverNow = () => Date.now() + skewMs;

function learnClock(headers) {
  const date = Date.parse(headers?.get?.('date') ?? '');
  // Date has whole seconds: only a skew beyond that rounding is worth correcting.
  if (Number.isFinite(date) && Math.abs(date - Date.now()) > 1500) skewMs = date - Date.now();
}

function loadEntries() {
  try {
    const saved = JSON.parse(localStorage.getItem(ENTRIES_KEY) ?? '{}');
    return saved && typeof saved === 'object' ? saved : {};
  } catch {
    return {};
  }
}

function saveEntries() {
  try {
    localStorage.setItem(ENTRIES_KEY, JSON.stringify(entries));
  } catch {
    // Private mode or full: the cookie still brings the same entry back on a repeat join.
  }
}

let entries = loadEntries();
/** The stream's latest line numbers per event: { serving, length, soldOut, heldElsewhere, paused, admitRatePerMinute, open }. */
const lines = new Map();
/** Cards with a room, by event id: { card, event, els }. */
const rooms = new Map();
/** Last read of each entry (page clock), to space the polls. */
const lastPoll = new Map();
const inFlight = new Set();
let streamLive = false;
let rerender = () => {};
let ticker;

/**
 * `onChange(eventId)` is called when what the card shows may change (admitted: the hold form appears;
 * the pass was used or ran out: it goes away). The box office re-renders that card.
 */
export function setupWaitingRoom({ onChange }) {
  rerender = onChange;
  ticker = setInterval(tick, 1000);
  // Another tab joined or was admitted: the same place is shown here too.
  window.addEventListener('storage', (e) => {
    if (e.key !== ENTRIES_KEY) return;
    entries = loadEntries();
    for (const id of rooms.keys()) rerender(id);
  });
}

/** The stream's state: while it is not live, entries are polled. */
export function streamStatus(state) {
  streamLive = state === 'live';
}

/** A `queue` message of the stream. */
export function queueMessage(msg) {
  for (const q of msg.queues ?? []) {
    const before = lines.get(q.eventId);
    lines.set(q.eventId, q);
    const entry = entries[q.eventId];
    if (entry && before?.soldOut !== q.soldOut && entry.state === 'waiting') rerender(q.eventId);
    else if (rooms.has(q.eventId)) paint(q.eventId);
  }
  pollDue();
}

/** Whether the event's sale is gated (room, or a sale that has not opened): then the card asks here first. */
export function gated(event) {
  return Boolean(event.waitingRoom) || (Boolean(event.onSaleAt) && Date.parse(event.onSaleAt) > serverNow());
}

/**
 * Shows the room in the card for `event` and says whether the hold form may be shown: only to a buyer
 * admitted with a pass still valid (or, without a room, once the sale has opened).
 */
export function updateRoom(card, event) {
  let room = rooms.get(event.id);
  if (!gated(event) && !entries[event.id]) {
    if (room) {
      room.els.box.remove();
      rooms.delete(event.id);
    }
    return true;
  }
  if (!room || room.card !== card) {
    room = { card, event, els: build(card, event) };
    rooms.set(event.id, room);
  }
  room.event = event;
  paint(event.id, false);
  room.allowed = formAllowed(event);
  return room.allowed;
}

/** The event is closed (cancelled, past): no room to show. */
export function dropRoom(eventId) {
  rooms.get(eventId)?.els.box.remove();
  rooms.delete(eventId);
  return false;
}

function formAllowed(event) {
  if (!event.waitingRoom) return !(event.onSaleAt && Date.parse(event.onSaleAt) > serverNow());
  const entry = entries[event.id];
  return entry?.state === 'admitted' && passLeftMs(entry) > 0;
}

/** The headers a hold or booking of this event needs: the admission pass, when the buyer has one. */
export function admissionHeaders(eventId) {
  const pass = entries[eventId]?.pass;
  return pass ? { 'admission-pass': pass } : {};
}

/** A hold was made with the pass: it is used up (single-use); the line is done for this buyer. */
export function passUsed(eventId) {
  const entry = entries[eventId];
  if (!entry?.pass) return;
  entries[eventId] = { ...entry, state: 'done', pass: null, passExpiresAt: null };
  saveEntries();
  rerender(eventId);
}

/**
 * A hold was refused for the pass: expired or used (`admission_expired`), or none/invalid
 * (`queue_required`). The entry is read again to show the truth; true when the refusal was about the pass.
 */
export function passRefused(eventId, err) {
  if (err.code !== 'admission_expired' && err.code !== 'queue_required') return false;
  const room = rooms.get(eventId);
  if (room) say(room.els.error, err.message);
  const entry = entries[eventId];
  if (entry) {
    entries[eventId] = { ...entry, state: err.code === 'admission_expired' ? 'expired' : entry.state, pass: null, passExpiresAt: null };
    saveEntries();
    void refresh(eventId);
  }
  rerender(eventId);
  return true;
}

/** After a reload: every remembered entry is read once, so the page resumes its place with fresh numbers. */
export function resumeEntries(knownIds) {
  for (const eventId of Object.keys(entries)) {
    if (knownIds.has(eventId) && !lastPoll.has(eventId)) void refresh(eventId);
  }
}

// ---- the room's parts in the card ----

function build(card, event) {
  const box = document.createElement('div');
  box.className = 'waiting-room';
  box.dataset.eventId = event.id;
  const el = (tag, className, attrs = {}) => {
    const e = document.createElement(tag);
    e.className = className;
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    box.append(e);
    return e;
  };
  const els = {
    box,
    when: el('p', 'room-when'),
    clock: el('p', 'room-clock countdown-clock', { role: 'timer' }),
    status: el('p', 'room-status', { role: 'status', 'aria-live': 'polite' }),
    place: el('p', 'room-place'),
    bar: el('div', 'bar room-bar', { role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100' }),
    eta: el('p', 'room-eta'),
    held: el('p', 'room-held'),
    note: el('p', 'room-note hint'),
    join: el('button', 'primary room-join', { type: 'button' }),
    error: el('p', 'field-error room-error', { role: 'alert' }),
  };
  els.progress = document.createElement('span');
  els.progress.className = 'bar-progress';
  els.bar.append(els.progress);
  els.join.textContent = 'Join the line';
  const suffix = document.createElement('span');
  suffix.className = 'visually-hidden';
  suffix.textContent = ` for ${event.name}`;
  els.join.append(suffix);
  els.error.id = `room-error-${event.id}`;
  els.join.setAttribute('aria-describedby', els.error.id);
  els.join.addEventListener('click', () => void join(event.id));
  // Before the hold form: the line is what the buyer deals with first.
  card.form.before(box);
  return els;
}

const show = (element, text) => {
  element.hidden = !text;
  if (element.textContent !== (text ?? '')) element.textContent = text ?? '';
};

/**
 * Repaints one room from the entry, the line and the clock: cheap, runs every second. `settle`: when
 * what the card shows no longer matches (the pass ran out under an open form), the card is re-rendered
 * (never from inside that re-render).
 */
function paint(eventId, settle = true) {
  const room = rooms.get(eventId);
  if (!room) return;
  const { event, els } = room;
  const entry = entries[eventId];
  const line = lines.get(eventId);
  const now = serverNow();
  const zone = event.timeZone;
  const onSaleAt = event.onSaleAt ? Date.parse(event.onSaleAt) : undefined;
  const opensAt = event.waitingRoomOpensAt ? Date.parse(event.waitingRoomOpensAt) : undefined;
  const beforeSale = onSaleAt !== undefined && now < onSaleAt && !line?.open;
  const v = view(entry, line);
  let when = '';
  let clock = '';
  let status = '';
  let place = '';
  let eta = '';
  let note = '';
  let held = '';
  let joinable = false;
  let progress;

  if (beforeSale) {
    when = `Sales open at ${formatDate(event.onSaleAt, 'medium', zone)}.`;
    clock = countdown(onSaleAt - now);
  }
  if (!event.waitingRoom) {
    // A sale with an opening time but no line: the countdown is all there is.
    room.card.li.dataset.room = beforeSale ? 'countdown' : 'open';
  } else if (!entry || v.state === 'expired' || v.state === 'done') {
    const roomOpen = opensAt === undefined || now >= opensAt;
    if (v.state === 'expired') status = 'Your turn ran out before you held tickets. You can join the line again, at the back.';
    else if (v.state === 'done') status = 'You had your turn. To buy more, join the line again.';
    if (line?.soldOut && !beforeSale) {
      status = 'Sold out: no tickets are left.';
    } else if (roomOpen) {
      joinable = true;
      if (!status) status = beforeSale ? 'The line is open: join now.' : 'Buyers are let in from a line, in turn.';
      note = beforeSale ? 'Everyone who joins before the sale opens gets a random place when it opens: joining early gives no advantage.' : 'New arrivals join at the back.';
    } else {
      status = `The line opens at ${formatDate(event.waitingRoomOpensAt, 'medium', zone)}.`;
      if (!beforeSale) clock = countdown(opensAt - now);
    }
    room.card.li.dataset.room = joinable ? 'joinable' : line?.soldOut ? 'sold-out' : 'closed';
  } else if (v.state === 'sold_out') {
    status = 'Sold out: every ticket is gone. There is nothing left to wait for.';
    room.card.li.dataset.room = 'sold-out';
  } else if (v.state === 'admitted') {
    const left = passLeftMs(entry);
    if (left > 0) {
      status = "It's your turn: hold your tickets below.";
      clock = countdown(left);
      note = 'Time left to hold them. After that, your turn goes to the next person in line.';
      room.card.li.dataset.room = 'admitted';
    } else {
      status = 'Your turn ran out before you held tickets. You can join the line again, at the back.';
      joinable = true;
      room.card.li.dataset.room = 'expired';
    }
  } else {
    // Waiting.
    room.card.li.dataset.room = 'waiting';
    if (v.position === null || v.position === undefined) {
      status = "You're in the line.";
      note = 'When the sale opens, everyone who joined before it is put in a random order; then you see your place.';
    } else {
      status = `Your place in line: ${formatNumber(v.position)}.`;
      place = v.ahead === 0 ? 'You are next.' : `${plural(v.ahead, 'person', 'people')} ahead of you.`;
      eta = line?.paused ? 'The organiser has paused the line for now; you keep your place.' : etaText(v.etaSeconds);
      progress = v.position > 1 ? (v.position - 1 - v.ahead) / (v.position - 1) : 1;
    }
    if (v.heldElsewhere) held = 'Tickets are held by others; you keep your place. If they are not bought, the line moves on.';
  }

  show(els.when, when);
  show(els.clock, clock);
  show(els.status, status);
  show(els.place, place);
  show(els.eta, eta);
  show(els.held, held);
  show(els.note, note);
  els.bar.hidden = progress === undefined;
  if (progress !== undefined) {
    const pct = Math.round(Math.max(0, Math.min(1, progress)) * 100);
    els.progress.style.width = `${pct}%`;
    els.bar.setAttribute('aria-valuenow', String(pct));
    els.bar.setAttribute('aria-label', `Progress through the line: ${pct}%`);
  }
  els.join.hidden = !joinable;
  // The pass ran out while the form was shown: the card gives the form up.
  if (settle && room.allowed !== formAllowed(event)) rerender(eventId);
}

/** The entry's numbers, brought forward by the line's serving counter. */
function view(entry, line) {
  if (!entry) return { state: undefined };
  let { state, position, ahead, etaSeconds } = entry;
  const heldElsewhere = line ? line.heldElsewhere : entry.heldElsewhere;
  if (state === 'waiting' && line?.soldOut) state = 'sold_out';
  if (state === 'waiting' && position != null && line && typeof line.serving === 'number') {
    ahead = Math.max(0, position - line.serving - 1);
    if (line.admitRatePerMinute > 0) etaSeconds = Math.round((ahead / line.admitRatePerMinute) * 60);
    else if (ahead > 0) etaSeconds = null;
  }
  return { state, position, ahead: ahead ?? 0, etaSeconds, heldElsewhere };
}

function etaText(seconds) {
  if (seconds === null || seconds === undefined) return 'Waiting time: not known yet.';
  if (seconds < 60) return 'About a minute or less.';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `About ${plural(minutes, 'minute', 'minutes')}.`;
  return `About ${plural(Math.round(minutes / 60), 'hour', 'hours')}.`;
}

/** "in 2 days", "1:02:03", "12:34". */
function countdown(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s >= 2 * 86400) return `in ${plural(Math.floor(s / 86400), 'day', 'days')}`;
  const two = (n) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  return h > 0 ? `${h}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

function passLeftMs(entry) {
  if (!entry?.pass || !entry.passExpiresAt) return 0;
  const expires = Date.parse(entry.passExpiresAt);
  return Number.isFinite(expires) ? expires - serverNow() : 0;
}

// ---- talking to the line ----

async function join(eventId) {
  const room = rooms.get(eventId);
  if (!room) return;
  say(room.els.error, '');
  room.els.join.setAttribute('aria-disabled', 'true');
  try {
    // Joining twice gives back the same entry (the server keys it on this browser), so a retry is safe.
    const { data, headers } = await api('POST', `/events/${eventId}/queue`, { body: {}, retries: 3 });
    learnClock(headers);
    store(data);
    lastPoll.set(eventId, Date.now());
    rerender(eventId);
    room.els.status.focus?.();
  } catch (err) {
    say(room.els.error, err.message);
    if (err.code === 'sold_out') lines.set(eventId, { ...(lines.get(eventId) ?? {}), soldOut: true });
    paint(eventId);
  } finally {
    room.els.join.removeAttribute('aria-disabled');
  }
}

function store(entry) {
  const before = entries[entry.eventId];
  entries[entry.eventId] = {
    id: entry.id,
    eventId: entry.eventId,
    token: entry.token,
    state: entry.state,
    position: entry.position,
    ahead: entry.ahead,
    etaSeconds: entry.etaSeconds,
    heldElsewhere: entry.heldElsewhere,
    shuffleAt: entry.shuffleAt,
    pass: entry.pass ?? null,
    passExpiresAt: entry.passExpiresAt ?? null,
  };
  saveEntries();
  return before?.state !== entry.state || before?.pass !== entries[entry.eventId].pass;
}

/** Reads the entry (the authoritative state, and the pass once admitted). */
async function refresh(eventId) {
  const entry = entries[eventId];
  if (!entry || inFlight.has(eventId)) return;
  inFlight.add(eventId);
  lastPoll.set(eventId, Date.now());
  try {
    const { data, headers } = await api('GET', `/events/${eventId}/queue/${entry.id}`, { headers: { 'queue-token': entry.token }, retries: 1 });
    learnClock(headers);
    if (entries[eventId]?.id !== entry.id) return; // joined again meanwhile
    if (store(data)) rerender(eventId);
    else paint(eventId);
  } catch (err) {
    // The line no longer knows this entry (another server, a reset): the buyer can join again.
    if (err.status === 404 || err.status === 403 || err.status === 410) {
      delete entries[eventId];
      saveEntries();
      rerender(eventId);
    }
  } finally {
    inFlight.delete(eventId);
  }
}

/** Which entries need reading now. */
function pollDue() {
  const now = Date.now();
  for (const [eventId, entry] of Object.entries(entries)) {
    if (!rooms.has(eventId) || entry.state !== 'waiting') continue;
    const line = lines.get(eventId);
    const since = now - (lastPoll.get(eventId) ?? 0);
    const drawn = entry.position !== null && entry.position !== undefined;
    // The order was drawn: the entry knows its place. The counter reached it: the pass is waiting.
    const expectsNews = line?.open && (!drawn || line.serving >= entry.position);
    if ((expectsNews && since >= PASS_POLL_MS) || ((!streamLive || !line) && since >= POLL_MS)) void refresh(eventId);
  }
}

function tick() {
  for (const id of rooms.keys()) paint(id);
  pollDue();
}

/** For tests and the page's own teardown. */
export function stopWaitingRoom() {
  clearInterval(ticker);
}
