import type { BoxofficeClient } from '../../../client/boxoffice-client.js';
import type { Event } from '../../../client/types.js';
import type { Logger } from '../../../core/logger.js';
import { holdDeadline } from '../../components/HoldConfirm.js';
import { TicketSelector } from '../../components/TicketSelector.js';
import { formatDelay, plural } from '../../format.js';
import type { BuyerNav } from './buyer-screens.js';
import { describeFailure } from './failure.js';
import { retryLabel } from './retry-label.js';

export interface ChooseTicketsProps {
  nav: BuyerNav;
  client: BoxofficeClient;
  logger: Logger;
  /** The event as the list showed it; the live copy from `live` is preferred while it exists. */
  event: Event;
  live: (id: string) => Event | undefined;
  /** The clock the hold's countdown reads. */
  now?: () => number;
}

/**
 * How many tickets, bounded by the live availability; Enter holds them (a spinner meanwhile, saying so
 * when a try is repeated), then the hold's countdown where the buyer confirms. Holding first means
 * Enter never spends money by itself. A refusal goes back to the list with the server's words.
 */
export function ChooseTickets({ nav, client, logger, event: picked, live, now = Date.now }: ChooseTicketsProps) {
  const event = live(picked.id) ?? picked;

  const hold = async (tickets: number) => {
    const what = `${plural(tickets, 'ticket')} for ${event.name}`;
    nav.replace({ name: 'booking', label: `Holding ${plural(tickets, 'ticket')}…` });
    logger.info({ eventId: event.id }, `holding ${what}`);
    const sentAt = now();
    try {
      // One Idempotency-Key for this hold, repeated on every retry: a lost answer never holds twice.
      const held = await client.holdTickets(event.id, tickets, {
        onRetry: (n) => {
          logger.warn({ attempt: n.attempt, delayMs: n.delayMs, cause: n.cause }, `${n.reason}; retry ${n.attempt} of ${n.maxRetries} in ${formatDelay(n.delayMs)}`);
          nav.replace({ name: 'booking', label: retryLabel(n) });
        },
      });
      logger.info({ eventId: event.id, holdId: held.id }, `Held ${what} until ${held.expiresAt}: hold ${held.id}`);
      nav.setStatus({ kind: 'info', text: `Holding ${what} · Enter buys, Esc gives back` });
      nav.replace({ name: 'hold', hold: held, event, deadline: holdDeadline(held, sentAt) });
    } catch (err) {
      const { message, fields } = describeFailure(err);
      logger.error({ eventId: event.id, tickets, ...fields }, `holding failed: ${message}`);
      nav.setStatus({ kind: 'error', text: message });
      nav.back();
    }
  };

  return (
    <TicketSelector
      event={event}
      onConfirm={(n) => void hold(n)}
      onCancel={() => {
        nav.setStatus({ kind: 'warning', text: 'No tickets selected' });
        nav.back();
      }}
    />
  );
}
