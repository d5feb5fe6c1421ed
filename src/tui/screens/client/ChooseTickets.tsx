import { ApiError } from '../../../client/api-error.js';
import type { BoxofficeClient } from '../../../client/boxoffice-client.js';
import type { BuyerContact, Event } from '../../../client/types.js';
import type { Logger } from '../../../core/logger.js';
import { BuyerDetailsForm } from '../../components/BuyerDetailsForm.js';
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
  /** The waiting room's admission pass, sent with the hold. */
  pass?: string;
}

/**
 * How many tickets, bounded by the live availability; Enter holds them (a spinner meanwhile, saying so
 * when a try is repeated), then the hold's countdown where the buyer confirms. Holding first means
 * Enter never spends money by itself. A refusal goes back to the list with the server's words.
 */
export function ChooseTickets({ nav, client, logger, event: picked, live, now = Date.now, pass }: ChooseTicketsProps) {
  const event = live(picked.id) ?? picked;
  return (
    <TicketSelector
      event={event}
      onConfirm={(tickets) => {
        // When the organiser asks for the buyer's details, they come first: the hold carries them.
        if (event.buyerDetails === 'required' || event.buyerDetails === 'optional') nav.replace({ name: 'details', event, tickets, pass });
        else void holdTickets({ nav, client, logger, event, tickets, now, pass });
      }}
      onCancel={() => {
        nav.setStatus({ kind: 'warning', text: 'No tickets selected' });
        nav.back();
      }}
    />
  );
}

export interface BuyerDetailsProps extends Omit<ChooseTicketsProps, 'live'> {
  tickets: number;
}

/** The buyer's name and email for an event that asks for them; then the tickets are held with them. Esc goes back to how many. */
export function BuyerDetails({ nav, client, logger, event, tickets, now = Date.now, pass }: BuyerDetailsProps) {
  return (
    <BuyerDetailsForm
      required={event.buyerDetails === 'required'}
      buttonLabel={`Hold ${plural(tickets, 'ticket')}`}
      onSubmit={(buyer) => void holdTickets({ nav, client, logger, event, tickets, now, buyer, pass })}
      onCancel={() => nav.replace({ name: 'select', event, pass })}
    />
  );
}

interface HoldRequest {
  nav: BuyerNav;
  client: BoxofficeClient;
  logger: Logger;
  event: Event;
  tickets: number;
  now: () => number;
  buyer?: BuyerContact;
  pass?: string;
}

/**
 * Holds the tickets (a spinner meanwhile, saying so when a try is repeated), then shows the hold's
 * countdown. A refusal goes back to the list with the server's words.
 */
async function holdTickets({ nav, client, logger, event, tickets, now, buyer, pass }: HoldRequest): Promise<void> {
  const what = `${plural(tickets, 'ticket')} for ${event.name}`;
  nav.replace({ name: 'booking', label: `Holding ${plural(tickets, 'ticket')}…` });
  // The buyer's details stay out of the log: only the organiser sees them.
  logger.info({ eventId: event.id }, `holding ${what}`);
  const sentAt = now();
  try {
    // One Idempotency-Key for this hold, repeated on every retry: a lost answer never holds twice.
    const held = await client.holdTickets(event.id, tickets, {
      buyer,
      admissionPass: pass,
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
    // A pass refused (used, expired): back to the line, which says where the buyer stands now.
    if (err instanceof ApiError && (err.code === 'admission_expired' || err.code === 'queue_required')) nav.replace({ name: 'queue', event });
    else nav.back();
  }
}
