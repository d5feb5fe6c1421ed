import type { BoxofficeClient } from '../../../client/boxoffice-client.js';
import type { Event, Hold } from '../../../client/types.js';
import type { Logger } from '../../../core/logger.js';
import type { CancelRequest } from '../../components/CancelBookingForm.js';
import { HoldConfirm } from '../../components/HoldConfirm.js';
import { plural } from '../../format.js';
import type { BuyerNav } from './buyer-screens.js';
import { describeFailure } from './failure.js';

export interface ConfirmHoldProps {
  nav: BuyerNav;
  client: BoxofficeClient;
  logger: Logger;
  hold: Hold;
  event: Event;
  deadline: number;
  busy?: string;
  /** A booking with a secret was made: the cancel form offers it. */
  onBooked: (booking: CancelRequest) => void;
  now?: () => number;
}

/** The held tickets with their countdown: Enter buys them (the receipt follows), Esc gives them back. */
export function ConfirmHold({ nav, client, logger, hold, event, deadline, busy, onBooked, now }: ConfirmHoldProps) {
  const what = `${plural(hold.tickets, 'ticket')} for ${event.name}`;
  const screen = { name: 'hold' as const, hold, event, deadline };

  const confirm = async () => {
    nav.replace({ ...screen, busy: `Buying ${plural(hold.tickets, 'ticket')}…` });
    try {
      // Confirming is safe to repeat: a second confirm answers the same booking.
      const booking = await client.confirmHold(hold.id);
      // The secret stays out of the log: the receipt shows it, and whoever reads the log could cancel.
      logger.info({ eventId: event.id, holdId: hold.id }, `Booked ${what}: booking ${booking.id}`);
      // One record per ticket, so each id fits on a line of the Logs screen.
      for (const ticket of booking.tickets) logger.info(`  ticket ${ticket.id}`);
      if (booking.secret) onBooked({ bookingId: booking.id, secret: booking.secret });
      nav.setStatus({ kind: 'success', text: `Booked ${what} · ticket ids in Logs` });
      nav.replace({ name: 'receipt', booking, eventName: event.name });
    } catch (err) {
      const { message, fields } = describeFailure(err);
      logger.error({ eventId: event.id, holdId: hold.id, ...fields }, `confirming failed: ${message}`);
      nav.setStatus({ kind: 'error', text: message });
      nav.back();
    }
  };

  const release = async () => {
    nav.replace({ ...screen, busy: 'Giving the tickets back…' });
    try {
      await client.releaseHold(hold.id);
      logger.info({ eventId: event.id, holdId: hold.id }, `released hold ${hold.id}: ${what}`);
      nav.setStatus({ kind: 'warning', text: `Gave back ${what}: nothing bought` });
    } catch (err) {
      // The hold runs out by itself anyway; say so rather than keep the buyer here.
      const { message, fields } = describeFailure(err);
      logger.error({ eventId: event.id, holdId: hold.id, ...fields }, `releasing failed: ${message}`);
      nav.setStatus({ kind: 'error', text: `${message} The hold ends by itself when its time is up.` });
    }
    nav.back();
  };

  return (
    <HoldConfirm
      hold={hold}
      eventName={event.name}
      deadline={deadline}
      busy={busy}
      now={now}
      onConfirm={() => void confirm()}
      onRelease={() => void release()}
      onHoldAgain={() => {
        nav.setStatus({ kind: 'warning', text: `Your hold of ${plural(hold.tickets, 'ticket')} ran out; choose again` });
        nav.replace({ name: 'select', event });
      }}
      onBack={() => {
        nav.setStatus({ kind: 'warning', text: `Your hold of ${plural(hold.tickets, 'ticket')} ran out: nothing bought` });
        nav.back();
      }}
    />
  );
}
