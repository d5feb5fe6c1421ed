// A buyer's booking page: /booking#id=<booking id>&secret=<secret>. The fragment never reaches the
// server (no request line, no log, no Referer); the page reads it and asks the API itself.
import { api, eventDate, forgetBooking, plural, rememberBooking, rememberedBookings, say } from './common.js';

const $ = (id) => document.getElementById(id);
const ui = {
  title: $('booking-title'),
  state: $('booking-state'),
  error: $('booking-error'),
  body: $('booking-body'),
  summary: $('booking-summary'),
  list: $('ticket-list'),
  cancelBox: $('cancel-box'),
  cancelStart: $('cancel-start'),
  cancelConfirm: $('cancel-confirm'),
  cancel: $('cancel'),
  cancelYes: $('cancel-yes'),
  cancelNo: $('cancel-no'),
  cancelError: $('cancel-error'),
  template: $('ticket-template'),
};

const WRONG_SECRET = 'The secret in this address does not match this booking, so it is not shown and nothing can be changed with it. Check that you copied the whole address.';

function readFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  return { id: params.get('id') ?? '', secret: params.get('secret') ?? '' };
}

let { id, secret } = readFragment();
let event;
let booking;
let busy = false;

ui.cancel.addEventListener('click', () => {
  say(ui.cancelError, '');
  ui.cancelStart.hidden = true;
  ui.cancelConfirm.hidden = false;
  // The safe choice takes the focus: one stray Enter must not cancel a booking.
  ui.cancelNo.focus();
});
ui.cancelNo.addEventListener('click', () => {
  ui.cancelConfirm.hidden = true;
  ui.cancelStart.hidden = false;
  ui.cancel.focus();
});
ui.cancelYes.addEventListener('click', () => void cancelBooking());
window.addEventListener('hashchange', () => {
  ({ id, secret } = readFragment());
  void load();
});

async function load() {
  say(ui.error, '');
  ui.body.hidden = true;
  if (!id || !secret) {
    say(ui.state, '');
    say(ui.error, 'This address does not name a booking: it should end with #id=…&secret=…, as the box office gave it to you.');
    return;
  }
  say(ui.state, 'Loading your booking…');
  const local = rememberedBookings().find((b) => b.id === id);
  let data;
  try {
    // With the secret the server answers the buyer's own view, with the codes the door scans (a
    // server that does not know this view answers the public one, without codes).
    ({ data } = await api('GET', `/bookings/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${secret}` }, retries: 2 }));
  } catch (err) {
    say(ui.state, '');
    if (err.status === 401 || err.status === 403) return refuseSecret();
    if (err.status === 404 || err.status === 400) {
      say(ui.error, `There is no booking ${id} on this box office. ${err.message}`);
      return;
    }
    if (local && local.secret === secret) {
      // Offline at the door: the copy kept on this device still has every code.
      say(ui.error, `${err.message} Showing the copy of your tickets kept on this device.`);
      return show(localBooking(local), { eventId: local.eventId, name: local.eventName, date: local.date, timeZone: local.timeZone }, { offline: true });
    }
    say(ui.error, err.message);
    return;
  }
  const serverCodes = data.tickets.length > 0 && data.tickets.every((t) => typeof t.code === 'string');
  if (!serverCodes && local && local.secret !== secret) return refuseSecret();
  if (!serverCodes && local) {
    const codes = new Map(local.tickets.map((t) => [t.id, t.code]));
    data = { ...data, tickets: data.tickets.map((t) => ({ ...t, code: codes.get(t.id) })) };
  }
  try {
    event = (await api('GET', `/events/${data.eventId}`, { retries: 2 })).data;
  } catch {
    event = local ? { id: local.eventId, name: local.eventName, date: local.date, timeZone: local.timeZone } : undefined;
  }
  // Only a secret the server (or this device's own copy) vouched for is remembered.
  if (serverCodes || local) {
    rememberBooking({
      id,
      secret,
      eventId: data.eventId,
      eventName: event?.name ?? local?.eventName ?? '',
      date: event?.date ?? local?.date,
      timeZone: event?.timeZone ?? local?.timeZone,
      tickets: data.tickets.map((t) => ({ id: t.id, code: t.code })),
    });
  }
  show(data, event, { unverified: !serverCodes && !local });
}

function refuseSecret() {
  say(ui.state, '');
  say(ui.error, WRONG_SECRET);
  ui.body.hidden = true;
  ui.title.focus();
}

const localBooking = (local) => ({ id: local.id, eventId: local.eventId, tickets: local.tickets.map((t) => ({ ...t, eventId: local.eventId, bookingId: local.id, status: 'valid' })) });

function show(data, ev, { offline = false, unverified = false } = {}) {
  booking = data;
  const valid = data.tickets.filter((t) => t.status === 'valid').length;
  const count = data.tickets.length;
  const cancelledEvent = data.eventStatus === 'cancelled' || ev?.status === 'cancelled';
  const what = ev ? `${ev.name}, ${eventDate(ev)}` : 'this event';
  ui.summary.textContent = `${plural(count, 'ticket', 'tickets')} for ${what}. Booking number ${data.id}.`;
  let state;
  if (cancelledEvent) state = 'This event was cancelled by the organiser: every ticket of this booking is cancelled.';
  else if (valid === 0) state = 'This booking is cancelled: its tickets are no longer valid.';
  else if (valid < count) state = `${plural(valid, 'ticket is', 'tickets are')} valid; the others were cancelled.`;
  else state = offline ? 'Your tickets (the copy kept on this device).' : `Your ${plural(count, 'ticket is', 'tickets are')} valid. Show the QR codes at the door.`;
  // A server without the buyer's own view, and no copy here: the secret is checked only when cancelling.
  if (unverified && valid > 0) state += ' This device has no copy of the booking, so its QR codes hold the ticket addresses; the secret is checked if you cancel.';
  say(ui.state, state);
  ui.body.dataset.valid = String(valid);
  ui.list.replaceChildren(
    ...data.tickets.map((ticket, i) => {
      const li = ui.template.content.firstElementChild.cloneNode(true);
      li.dataset.ticketId = ticket.id;
      li.dataset.status = ticket.status;
      li.querySelector('.ticket-number').textContent = `Ticket ${i + 1} of ${count}:`;
      li.querySelector('.ticket-id').textContent = ticket.id;
      li.querySelector('.ticket-status').textContent = ticket.status === 'valid' ? '' : '(cancelled)';
      if (ticket.code && ticket.status === 'valid') {
        li.querySelector('.ticket-code').textContent = ticket.code;
        li.querySelector('.ticket-code-line').hidden = false;
      }
      return li;
    }),
  );
  const drawable = data.tickets.map((t, i) => [t, i]).filter(([t]) => t.status === 'valid');
  if (drawable.length > 0) {
    void import('./qr.js').then(
      ({ qrSvg }) => {
        for (const [ticket, i] of drawable) {
          // The signed code when known (the door checks it, even offline); else the ticket's address.
          const text = ticket.code ?? new URL(`/tickets/${ticket.id}`, location.origin).href;
          ui.list.children[i]?.querySelector('.qr-frame').replaceChildren(qrSvg(text, `QR code of ticket ${i + 1}, ${ticket.id}`));
        }
      },
      () => {
        for (const frame of ui.list.querySelectorAll('.qr-frame')) frame.textContent = 'The QR code could not be loaded; the ticket id below is all the door needs.';
      },
    );
  }
  ui.cancelBox.hidden = valid === 0 || cancelledEvent || offline;
  ui.cancelConfirm.hidden = true;
  ui.cancelStart.hidden = false;
  ui.body.hidden = false;
}

async function cancelBooking() {
  if (busy || !booking) return;
  busy = true;
  say(ui.cancelError, '');
  ui.cancelYes.setAttribute('aria-disabled', 'true');
  try {
    const { data } = await api('DELETE', `/bookings/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${secret}` } });
    const codes = new Map(booking.tickets.map((t) => [t.id, t.code]));
    show({ ...booking, ...data, tickets: data.tickets.map((t) => ({ ...t, code: codes.get(t.id) })) }, event);
    // A cancelled booking has nothing left to show at a door: this device stops listing it.
    forgetBooking(id);
    say(ui.state, 'Cancelled: your tickets went back on sale and are no longer valid.');
    ui.title.focus();
  } catch (err) {
    say(ui.cancelError, err.status === 403 ? WRONG_SECRET : err.message);
    ui.cancelYes.focus();
  } finally {
    busy = false;
    ui.cancelYes.removeAttribute('aria-disabled');
  }
}

void load();
