// The box office's event cards: one per event, in date order, kept in step with the live list.
import { eventDate, formatNumber, plural, sortedEvents } from './common.js';
import { dropRoom, updateRoom } from './waiting-room.js';

/**
 * The cards of the page's event list. `onHold(card)`: a card's form was sent; `holding()`: a hold is
 * open, so no card offers another. Returns the cards by event id, `render` for each live update, and
 * `updateButtons` for when a hold starts or ends.
 */
export function eventCards({ ui, onHold, holding }) {
  const cards = new Map();
  let cardCount = 0;
  /** The first live list arrived (until then the server's own list stands, and "no events" is not said). */
  let loaded = false;

  function render(events, changed) {
    loaded = true;
    // The list the server put in the page (for the time before this script ran) gives way to live cards.
    for (const stale of ui.events.querySelectorAll('li.static')) stale.remove();
    const list = sortedEvents(events);
    list.forEach((event, index) => {
      let card = cards.get(event.id);
      if (!card) {
        card = createCard(event);
        cards.set(event.id, card);
      }
      // Insert new cards in place instead of re-appending all: moving a node would drop its focus.
      if (ui.events.children[index] !== card.li) ui.events.insertBefore(card.li, ui.events.children[index] ?? null);
      if (!changed || changed.has(event.id)) updateCard(card, event);
    });
    for (const [id, card] of cards) {
      if (!events.has(id)) {
        card.li.remove();
        cards.delete(id);
      }
    }
    ui.eventsEmpty.hidden = !loaded || list.length > 0;
  }

  function createCard(event) {
    const li = ui.eventTemplate.content.firstElementChild.cloneNode(true);
    li.dataset.eventId = event.id;
    const card = {
      li,
      event,
      name: li.querySelector('.event-name'),
      time: li.querySelector('time'),
      availability: li.querySelector('.availability'),
      sold: li.querySelector('.bar-sold'),
      held: li.querySelector('.bar-held'),
      form: li.querySelector('form'),
      input: li.querySelector('input[name=tickets]'),
      button: li.querySelector('button'),
      venue: li.querySelector('.event-venue'),
      state: li.querySelector('.event-state'),
      limit: li.querySelector('.limit'),
      error: li.querySelector('.field-error'),
      buyer: li.querySelector('.buyer-fields'),
      buyerName: li.querySelector('input[name=name]'),
      buyerEmail: li.querySelector('input[name=email]'),
    };
    // The refusal is said right under the control that caused it (on a phone the top of the page is
    // out of sight), and the fields point at it so a screen reader reads it with them.
    const key = String(++cardCount);
    card.error.id = `card-error-${key}`;
    card.limit.id = `card-limit-${key}`;
    card.input.setAttribute('aria-describedby', `${card.limit.id} ${card.error.id}`);
    for (const input of [card.buyerName, card.buyerEmail]) input.setAttribute('aria-describedby', card.error.id);
    // Every card has the same label and button text; the hidden suffix tells them apart for screen readers.
    for (const el of [li.querySelector('label > span'), li.querySelector('.buyer-name-label'), li.querySelector('.buyer-email-label'), card.button]) {
      const suffix = document.createElement('span');
      suffix.className = 'visually-hidden event-suffix';
      el.append(suffix);
    }
    card.form.addEventListener('submit', (e) => {
      e.preventDefault();
      void onHold(card);
    });
    return card;
  }

  function updateCard(card, event) {
    card.event = event;
    card.name.textContent = event.name;
    for (const suffix of card.li.querySelectorAll('.event-suffix')) suffix.textContent = ` for ${event.name}`;
    card.time.dateTime = event.date;
    card.time.textContent = eventDate(event);
    card.venue.textContent = event.venue ?? '';
    card.venue.hidden = !event.venue;
    const held = event.heldTickets ?? 0;
    const available = event.availableTickets;
    // A cancelled event's stock is zeroed and its bookings cancelled: neither sold out nor sold.
    const cancelled = event.status === 'cancelled';
    let text;
    if (cancelled) {
      text = 'No tickets on sale.';
    } else if (available > 0) {
      text = `${formatNumber(available)} of ${plural(event.totalTickets, 'ticket', 'tickets')} available`;
      if (held > 0) text += `, ${formatNumber(held)} on hold`;
      text += '.';
    } else if (held > 0) {
      text = `Sold out for now: ${plural(held, 'ticket is', 'tickets are')} on hold and may come back.`;
    } else {
      text = 'Sold out.';
    }
    // Rewriting the same words would make screen readers announce them again.
    if (card.availability.textContent !== text) card.availability.textContent = text;
    card.li.classList.toggle('sold-out', available === 0);
    card.li.dataset.available = String(available);
    card.li.dataset.held = String(held);
    const total = Math.max(event.totalTickets, 1);
    // CSSOM, not a style attribute: the page's CSP allows no inline styles.
    card.sold.style.width = `${cancelled ? 0 : ((event.totalTickets - available - held) / total) * 100}%`;
    card.held.style.width = `${(held / total) * 100}%`;
    card.input.max = String(Math.max(1, Math.min(event.maxTicketsPerBooking, available)));
    // The limit is said before the buyer reaches it.
    const limit = Math.min(event.maxTicketsPerBooking, event.maxTicketsPerBuyer ?? Infinity);
    card.limit.textContent = available < limit
      ? `Up to ${plural(limit, 'ticket', 'tickets')} per booking; ${formatNumber(available)} left.`
      : `Up to ${plural(limit, 'ticket', 'tickets')} per booking.`;
    const asks = event.buyerDetails === 'optional' || event.buyerDetails === 'required';
    card.buyer.hidden = !asks;
    for (const input of [card.buyerName, card.buyerEmail]) input.required = event.buyerDetails === 'required';
    for (const span of [card.li.querySelector('.buyer-name-label'), card.li.querySelector('.buyer-email-label')]) {
      span.firstChild.textContent = `${span.classList.contains('buyer-name-label') ? 'Your name' : 'Your email'}${event.buyerDetails === 'required' ? '' : ' (optional)'}`;
    }
    // Nothing to buy, nothing to fill in: a sold-out, closed, cancelled or past event shows no form.
    const closed = closedReason(event);
    card.state.textContent = closed ?? '';
    card.state.hidden = !closed;
    card.li.dataset.state = closed ? 'closed' : available === 0 ? 'sold-out' : 'on-sale';
    // A waiting room (or a sale not open yet) shows the form only to a buyer whose turn it is.
    const roomAllows = closed ? dropRoom(event.id) : updateRoom(card, event);
    const noForm = Boolean(closed) || available === 0 || !roomAllows;
    if (noForm && card.form.contains(document.activeElement)) card.name.setAttribute('tabindex', '-1'), card.name.focus();
    card.form.hidden = noForm;
    updateCardButton(card);
  }

  function closedReason(event) {
    if (event.status === 'cancelled') return 'Cancelled by the organiser.';
    if (Date.parse(event.date) < Date.now()) return 'This event has taken place.';
    if (event.salesOpen === false) return 'Sales are closed for now.';
    return undefined;
  }

  function updateCardButton(card) {
    card.button.disabled = card.event.availableTickets === 0 || holding();
  }

  function updateButtons() {
    for (const card of cards.values()) updateCardButton(card);
  }

  return { cards, render, updateCard, updateButtons };
}
