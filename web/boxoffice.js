// The box office: live availability, hold → countdown → buy (or release), tickets with QR codes.
import { eventCards } from './box-cards.js';
import { admissionHeaders, passRefused, passUsed, queueMessage, resumeEntries, setupWaitingRoom, streamStatus } from './waiting-room.js';
import { CONNECTION_TEXT, api, bookingUrl, eventDate, followEvents, plural, rememberBooking, rememberedBookings, say } from './common.js';

const $ = (id) => document.getElementById(id);
const ui = {
  connection: $('connection'),
  error: $('error'),
  notice: $('notice'),
  hold: $('hold'),
  holdTitle: $('hold-title'),
  holdSummary: $('hold-summary'),
  countdown: $('hold-countdown'),
  announce: $('hold-announce'),
  confirm: $('confirm'),
  release: $('release'),
  holdError: $('hold-error'),
  tickets: $('tickets'),
  ticketsTitle: $('tickets-title'),
  ticketsSummary: $('tickets-summary'),
  ticketList: $('ticket-list'),
  secret: $('booking-secret'),
  done: $('done'),
  bookingLink: $('booking-link'),
  mine: $('mine'),
  mineList: $('mine-list'),
  eventsTitle: $('events-title'),
  eventsEmpty: $('events-empty'),
  events: $('events'),
  eventTemplate: $('event-template'),
  ticketTemplate: $('ticket-template'),
};

// The open hold is remembered for this tab, so reloading the page does not strand held tickets.
const HOLD_KEY = 'boxoffice.hold';
/** The hold being bought: the API's Hold plus `deadline` on this page's own clock. */
let hold = null;
let timer;
/** A request is on its way: further clicks are ignored until it is answered. */
let busy = false;
/**
 * The last hold request that got no clear answer (network failure, 5xx, 429). The server may have
 * made the hold anyway; asking again with the same Idempotency-Key returns that hold instead of a second one.
 */
let unanswered = null;
const { cards, render, updateCard, updateButtons } = eventCards({ ui, onHold: holdTickets, holding: () => hold !== null });

const feed = followEvents({
  onUpdate: (events, changed) => {
    render(events, changed);
    resumeEntries(new Set(events.keys()));
  },
  onMessage: (msg) => {
    if (msg.type === 'queue') queueMessage(msg);
  },
  onStatus: (state) => {
    streamStatus(state);
    ui.connection.dataset.state = state;
    say(ui.connection, CONNECTION_TEXT[state]);
  },
});

ui.confirm.addEventListener('click', confirmHold);
ui.release.addEventListener('click', releaseHold);
ui.done.addEventListener('click', () => {
  ui.tickets.hidden = true;
  ui.eventsTitle.focus();
});

// ---- holding ----

async function holdTickets(card) {
  if (busy || hold) return;
  const event = card.event;
  const tickets = Number(card.input.value);
  clearMessages();
  if (!Number.isInteger(tickets) || tickets < 1) {
    cardError(card, 'Enter how many tickets you want: a whole number, 1 or more.', card.input);
    return;
  }
  const buyer = {};
  if (!card.buyer.hidden) {
    const name = card.buyerName.value.trim();
    const email = card.buyerEmail.value.trim();
    if (event.buyerDetails === 'required' && (!name || !email)) {
      cardError(card, 'Enter your name and email: the organiser asks for them with every booking.', name ? card.buyerEmail : card.buyerName);
      return;
    }
    if (email && !card.buyerEmail.checkValidity()) {
      cardError(card, 'That email address does not look complete: it should be like name@example.org.', card.buyerEmail);
      return;
    }
    if (name) buyer.name = name;
    if (email) buyer.email = email;
  }
  const sameAsBefore = unanswered && unanswered.eventId === event.id && unanswered.tickets === tickets;
  const key = sameAsBefore ? unanswered.key : newKey();
  unanswered = { eventId: event.id, tickets, key };
  setBusy(true, card.button, 'Holding…');
  try {
    const { data, headers } = await api('POST', `/events/${event.id}/holds`, {
      body: Object.keys(buyer).length > 0 ? { tickets, buyer } : { tickets },
      headers: { 'idempotency-key': key, ...admissionHeaders(event.id) },
      retries: 3,
    });
    unanswered = null;
    passUsed(event.id);
    startHold(data, headers, event);
  } catch (err) {
    if (passRefused(event.id, err)) {
      unanswered = null;
      return;
    }
    // A clear refusal means no hold was made; only an unanswered request keeps its key for the next try.
    if (!(err.status === 0 || err.status === 429 || err.status >= 500)) unanswered = null;
    cardError(card, errorSentence(err), /email/i.test(err.message) ? card.buyerEmail : /name/i.test(err.message) && !card.buyer.hidden ? card.buyerName : card.input);
  } finally {
    setBusy(false);
  }
}

/**
 * Shows the hold and starts its countdown. The countdown runs on this page's clock, from the server's
 * own numbers, so a phone whose clock is off by minutes still shows the right time left. A fresh hold
 * was made "now", at its createdAt; an older one (a replayed answer, a hold found again after a reload)
 * is measured from the server's Date header instead.
 */
function startHold(data, headers, event, { fresh = true } = {}) {
  let serverNow = Date.parse(data.createdAt);
  if (!fresh || headers.get('idempotent-replayed') === 'true') serverNow = Date.parse(headers.get('date') ?? '') || serverNow;
  const remainingMs = Date.parse(data.expiresAt) - serverNow;
  hold = { ...data, deadline: performance.now() + remainingMs, event, announced: new Set() };
  sessionStorage.setItem(HOLD_KEY, JSON.stringify({ id: data.id, event }));
  ui.holdSummary.textContent = `${plural(data.tickets, 'ticket', 'tickets')} for ${event.name}, ${eventDate(event)}.`;
  say(ui.announce, '');
  ui.tickets.hidden = true;
  ui.hold.hidden = false;
  updateButtons();
  void loadQr().catch(() => {}); // ready by the time the buyer pays, even if the network drops meanwhile
  tick();
  timer = setInterval(tick, 250);
  ui.holdTitle.focus();
}

const ANNOUNCE_AT = [60, 30, 10];

function tick() {
  if (!hold) return;
  const left = Math.max(0, Math.ceil((hold.deadline - performance.now()) / 1000));
  const text = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  if (ui.countdown.textContent !== text) ui.countdown.textContent = text;
  if (left === 0) return expireHold();
  // A timer read out every second would drown everything else; say it at a few moments instead.
  if (hold.announced.size === 0) {
    hold.announced.add('start');
    for (const at of ANNOUNCE_AT) if (left <= at) hold.announced.add(at);
    say(ui.announce, `You have ${describeSeconds(left)} to buy these tickets.`);
    return;
  }
  for (const at of ANNOUNCE_AT) {
    if (left <= at && !hold.announced.has(at)) {
      hold.announced.add(at);
      say(ui.announce, `${describeSeconds(left)} left to buy your tickets.`);
    }
  }
}

async function restoreHold() {
  let saved;
  try {
    saved = JSON.parse(sessionStorage.getItem(HOLD_KEY) ?? 'null');
  } catch {
    saved = null;
  }
  if (!saved?.id || !saved.event) return;
  try {
    const { data, headers } = await api('GET', `/holds/${saved.id}`, { retries: 2 });
    if (data.status === 'active' && !hold) return startHold(data, headers, saved.event, { fresh: false });
  } catch {
    // Gone or unreachable: nothing to show.
  }
  if (!hold) sessionStorage.removeItem(HOLD_KEY);
}

function describeSeconds(seconds) {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  const parts = [];
  if (minutes) parts.push(plural(minutes, 'minute', 'minutes'));
  if (rest || !minutes) parts.push(plural(rest, 'second', 'seconds'));
  return parts.join(' ');
}

function endHold() {
  clearInterval(timer);
  sessionStorage.removeItem(HOLD_KEY);
  const ended = hold;
  hold = null;
  const hadFocus = ui.hold.contains(document.activeElement);
  ui.hold.hidden = true;
  updateButtons();
  // Focus inside a panel that just disappeared would be lost; put it back on the event.
  if (hadFocus && ended) {
    const card = cards.get(ended.eventId);
    if (card && !card.button.disabled) card.button.focus();
    else ui.eventsTitle.focus();
  }
  return ended;
}

function expireHold() {
  const ended = endHold();
  say(ui.announce, '');
  holdEndedError(ended, 'Your hold ran out, so the tickets went back on sale. You can hold them again if any are left.');
  // The stream shows the tickets coming back; reading the list as well covers a stream that is down.
  setTimeout(() => void feed.refresh().catch(() => {}), 1500);
}

async function confirmHold() {
  if (busy || !hold) return;
  clearMessages();
  const current = hold;
  setBusy(true, ui.confirm, 'Buying…');
  try {
    // Confirming twice gives the same booking, so retrying a lost answer is safe.
    const { data } = await api('POST', `/holds/${current.id}/confirm`, { retries: 3 });
    endHold();
    showTickets(data, current.event);
  } catch (err) {
    if (['hold_expired', 'hold_released', 'not_found'].includes(err.code)) holdEndedError(endHold(), errorSentence(err));
    else say(ui.holdError, errorSentence(err));
  } finally {
    setBusy(false);
  }
}

async function releaseHold() {
  if (busy || !hold) return;
  clearMessages();
  const current = hold;
  setBusy(true, ui.release, 'Releasing…');
  try {
    await api('DELETE', `/holds/${current.id}`, { retries: 3 });
    endHold();
    say(ui.notice, `You released ${plural(current.tickets, 'ticket', 'tickets')} for ${current.event.name}; they are back on sale.`);
  } catch (err) {
    if (['hold_expired', 'not_found'].includes(err.code)) holdEndedError(endHold(), errorSentence(err));
    else say(ui.holdError, errorSentence(err));
  } finally {
    setBusy(false);
  }
}

// ---- tickets ----

/** The QR code module (and its 50 KB library) loads only when someone is about to buy: the list stays light. */
let qrModule;
function loadQr() {
  qrModule ??= import('./qr.js').catch((err) => {
    qrModule = undefined;
    throw err;
  });
  return qrModule;
}

function showTickets(booking, event) {
  const count = booking.tickets.length;
  ui.ticketsSummary.textContent = `${plural(count, 'ticket', 'tickets')} for ${event.name}, ${eventDate(event)}. Booking number ${booking.id}.`;
  ui.ticketList.replaceChildren(
    ...booking.tickets.map((ticket, i) => {
      const li = ui.ticketTemplate.content.firstElementChild.cloneNode(true);
      li.dataset.ticketId = ticket.id;
      li.querySelector('.ticket-number').textContent = `Ticket ${i + 1} of ${count}:`;
      li.querySelector('.ticket-id').textContent = ticket.id;
      if (ticket.code) {
        li.querySelector('.ticket-code').textContent = ticket.code;
        li.querySelector('.ticket-code-line').hidden = false;
      }
      return li;
    }),
  );
  void loadQr().then(
    ({ qrSvg }) => {
      booking.tickets.forEach((ticket, i) => {
        // The QR code carries the ticket's signed code, which the door checks (even offline). A server
        // older than signed tickets sends none: then it holds the ticket's own address, as before.
        const text = ticket.code ?? new URL(`/tickets/${ticket.id}`, location.origin).href;
        ui.ticketList.children[i]?.querySelector('.qr-frame').append(qrSvg(text, `QR code of ticket ${i + 1}, ${ticket.id}`));
      });
    },
    () => {
      for (const frame of ui.ticketList.querySelectorAll('.qr-frame')) frame.textContent = 'The QR code could not be loaded; the ticket id below is all the door needs.';
    },
  );
  if (booking.secret) {
    // Kept on this device, and reachable again from its own page: a reload no longer loses the tickets.
    rememberBooking({
      id: booking.id,
      secret: booking.secret,
      eventId: event.id,
      eventName: event.name,
      date: event.date,
      timeZone: event.timeZone,
      tickets: booking.tickets.map((t) => ({ id: t.id, code: t.code })),
    });
    ui.bookingLink.href = bookingUrl(booking.id, booking.secret);
    showMine();
  }
  ui.bookingLink.closest('.booking-link').hidden = !booking.secret;
  ui.secret.textContent = booking.secret ?? '';
  ui.secret.closest('.secret').hidden = !booking.secret;
  ui.tickets.hidden = false;
  say(ui.notice, `Booked: ${plural(count, 'ticket', 'tickets')} for ${event.name}.`);
  ui.ticketsTitle.focus();
}

// ---- messages and state ----

/**
 * Said after the server's own sentence, when there is something the buyer can do about it. (The
 * hold_expired and hold_released sentences already say the tickets went back on sale.)
 */
const NEXT_STEP = {
  not_enough_tickets: 'Choose fewer tickets, or wait a little: held tickets come back when their holds run out.',
  too_many_requests: 'The box office is very busy; try again in a moment.',
  storage_unavailable: 'Try again in a moment.',
  shutting_down: 'Try again in a moment.',
};

function errorSentence(err) {
  const next = NEXT_STEP[err.code];
  const sentence = /[.!?]$/.test(err.message) ? err.message : `${err.message}.`;
  return next ? `${sentence} ${next}` : sentence;
}

/** A refusal under the card's form, on the field that caused it. */
function cardError(card, text, field) {
  say(card.error, text);
  for (const input of card.form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  if (field) {
    field.setAttribute('aria-invalid', 'true');
    field.focus();
  }
}

/** A hold that ended without tickets: said at its event's card, where the buyer would try again. */
function holdEndedError(ended, text) {
  const card = ended && cards.get(ended.eventId);
  if (card && !card.form.hidden) {
    say(card.error, text);
    card.error.scrollIntoView({ block: 'nearest' });
  } else {
    say(ui.error, text);
  }
}

function clearMessages() {
  say(ui.error, '');
  say(ui.notice, '');
  say(ui.holdError, '');
  for (const card of cards.values()) {
    say(card.error, '');
    for (const input of card.form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
  }
}

/** The words of buttons showing "Holding…" and the like, to put back when the answer came. */
const labels = new Map();
function setBusy(value, button, text) {
  busy = value;
  if (value && button) {
    // Only the first text node: a card's button also holds its hidden "for <event>" suffix.
    labels.set(button, button.firstChild.textContent);
    button.setAttribute('aria-disabled', 'true');
    button.firstChild.textContent = text;
  } else if (!value) {
    for (const [b, label] of labels) {
      b.removeAttribute('aria-disabled');
      b.firstChild.textContent = label;
    }
    labels.clear();
  }
}

/** crypto.randomUUID exists only on secure origins; a phone on http://<lan address> still needs a key. */
function newKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---- the buyer's bookings on this device ----

function showMine() {
  const list = rememberedBookings();
  ui.mineList.replaceChildren(
    ...list.map((b) => {
      const li = document.createElement('li');
      li.dataset.bookingId = b.id;
      const a = document.createElement('a');
      a.href = bookingUrl(b.id, b.secret);
      a.textContent = `${plural(b.tickets?.length ?? 0, 'ticket', 'tickets')} for ${b.eventName || 'an event'}`;
      li.append(a);
      if (b.date) li.append(`, ${eventDate({ date: b.date, timeZone: b.timeZone })}`);
      return li;
    }),
  );
  ui.mine.hidden = list.length === 0;
}

// Another tab bought or cancelled: keep this list in step.
window.addEventListener('storage', (e) => {
  if (e.key === null || e.key === 'boxoffice.bookings') showMine();
});

setupWaitingRoom({ onChange: (id) => cards.has(id) && updateCard(cards.get(id), cards.get(id).event) });
showMine();
void restoreHold();
