import type { BoxofficeClient } from '../../../client/boxoffice-client.js';
import type { Event, RetryNotice } from '../../../client/types.js';
import type { Logger } from '../../../core/logger.js';
import type { CancelRequest } from '../../components/CancelBookingForm.js';
import { TicketSelector } from '../../components/TicketSelector.js';
import { formatDelay, plural } from '../../format.js';
import type { BuyerNav } from './buyer-screens.js';
import { describeFailure } from './failure.js';

/** What the booking spinner says while a failed try is repeated. */
function retryLabel(n: RetryNotice): string {
  const when = `retrying in ${formatDelay(n.delayMs)}… (${n.attempt} of ${n.maxRetries})`;
  switch (n.cause) {
    case 'busy':
      return `Server busy, ${when}`;
    case 'unavailable':
      return `Server unavailable, ${when}`;
    default:
      // Safe: the retry carries the same Idempotency-Key, so the server cannot book twice.
      return `No answer from the server, ${when}`;
  }
}

export interface ChooseTicketsProps {
  nav: BuyerNav;
  client: BoxofficeClient;
  logger: Logger;
  /** The event as the list showed it; the live copy from `live` is preferred while it exists. */
  event: Event;
  live: (id: string) => Event | undefined;
  /** A booking with a secret was made: the cancel form offers it. */
  onBooked: (booking: CancelRequest) => void;
}

/**
 * How many tickets, bounded by the live availability; Enter books (a spinner meanwhile, saying so
 * when a try is repeated), then the receipt. A refusal goes back to the list with the server's words.
 */
export function ChooseTickets({ nav, client, logger, event: picked, live, onBooked }: ChooseTicketsProps) {
  const event = live(picked.id) ?? picked;

  const book = async (tickets: number) => {
    const what = `${plural(tickets, 'ticket')} for ${event.name}`;
    nav.replace({ name: 'booking', label: `Reserving ${plural(tickets, 'ticket')}…` });
    logger.info({ eventId: event.id }, `booking ${what}`);
    try {
      // The client sends one Idempotency-Key for this booking and repeats it on every retry, so a
      // lost answer is retried without booking twice.
      const booking = await client.book(event.id, tickets, {
        onRetry: (n) => {
          logger.warn({ attempt: n.attempt, delayMs: n.delayMs, cause: n.cause }, `${n.reason}; retry ${n.attempt} of ${n.maxRetries} in ${formatDelay(n.delayMs)}`);
          nav.replace({ name: 'booking', label: retryLabel(n) });
        },
      });
      // The secret stays out of the log: the receipt shows it, and whoever reads the log could cancel.
      logger.info({ eventId: event.id }, `Booked ${what}: booking ${booking.id}`);
      // One record per ticket, so each id fits on a line of the Logs screen.
      for (const ticket of booking.tickets) logger.info(`  ticket ${ticket.id}`);
      if (booking.secret) onBooked({ bookingId: booking.id, secret: booking.secret });
      nav.setStatus({ kind: 'success', text: `Booked ${what} · ticket ids in Logs` });
      nav.replace({ name: 'receipt', booking, eventName: event.name });
    } catch (err) {
      const { message, fields } = describeFailure(err);
      logger.error({ eventId: event.id, tickets, ...fields }, `booking failed: ${message}`);
      nav.setStatus({ kind: 'error', text: message });
      nav.back();
    }
  };

  return (
    <TicketSelector
      event={event}
      onConfirm={(n) => void book(n)}
      onCancel={() => {
        nav.setStatus({ kind: 'warning', text: 'No tickets selected' });
        nav.back();
      }}
    />
  );
}
