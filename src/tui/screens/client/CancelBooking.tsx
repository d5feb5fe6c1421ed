import type { BoxofficeClient } from '../../../client/boxoffice-client.js';
import type { Logger } from '../../../core/logger.js';
import { CancelBookingForm, type CancelRequest } from '../../components/CancelBookingForm.js';
import { plural } from '../../format.js';
import type { BuyerNav } from './buyer-screens.js';
import { describeFailure } from './failure.js';

export interface CancelBookingProps {
  nav: BuyerNav;
  client: BoxofficeClient;
  logger: Logger;
  busy: boolean;
  error?: string;
  /** The last booking made here, to pre-fill the form (its secret is never readable again). */
  lastBooking: CancelRequest | undefined;
  /** The booking is cancelled: it is no longer worth offering. */
  onCancelled: (bookingId: string) => void;
}

/** Cancel a whole booking with its id and secret; back to the menu once done, the server's refusal under the form otherwise. */
export function CancelBooking({ nav, client, logger, busy, error, lastBooking, onCancelled }: CancelBookingProps) {
  const cancel = async ({ bookingId, secret }: CancelRequest) => {
    nav.replace({ name: 'cancel', busy: true });
    logger.info({ bookingId }, `cancelling booking ${bookingId}`);
    try {
      const booking = await client.cancelBooking(bookingId, { secret });
      const cancelled = booking.tickets.filter((t) => t.status === 'cancelled').length;
      logger.info({ bookingId, eventId: booking.eventId }, `cancelled booking ${bookingId}: ${plural(cancelled, 'ticket')}`);
      onCancelled(bookingId);
      nav.setStatus({ kind: 'success', text: `Cancelled booking ${bookingId} · ${plural(cancelled, 'ticket')} back on sale` });
      nav.back();
    } catch (err) {
      const { message, fields } = describeFailure(err);
      logger.error({ bookingId, ...fields }, `cancelling failed: ${message}`);
      nav.setStatus({ kind: 'error', text: message });
      nav.replace({ name: 'cancel', busy: false, error: message });
    }
  };

  return <CancelBookingForm busy={busy} error={error} initial={lastBooking} onSubmit={(request) => void cancel(request)} onCancel={() => nav.back()} />;
}
