import { createHash } from 'node:crypto';
import type { Command, Outcome } from './commands.js';
import type { Logger } from './logger.js';
import type { ServiceObserver } from './observers.js';

type Placement = Extract<Command, { type: 'book' | 'hold' }>;

/**
 * How a hold is named in the log: a hash of its id, never the id. A hold id confirms and releases
 * the hold, so a log reader must not learn it; an operator holding an id can still find its lines
 * (`holdRef(id)`).
 */
export function holdRef(holdId: string): string {
  return createHash('sha256').update(holdId).digest('base64url').slice(0, 16);
}

/**
 * The service's log, as an observer of committed batches. Bookings and holds get one record per
 * batch naming each with its event and outcome: a record per booking cost a quarter of the HTTP
 * thread under load (pino's hand-off to its writer thread), and a batch is how the work really
 * happened, one transaction. Every other write gets a record of its own.
 */
export function logObserver(logger: Logger): ServiceObserver {
  return {
    committed(commands, outcomes, millis) {
      const placements: Array<[Placement, Outcome]> = [];
      commands.forEach((command, i) => {
        const outcome = outcomes[i]!;
        if (command.type === 'book' || command.type === 'hold') placements.push([command, outcome]);
        else logOther(logger, command, outcome);
      });
      if (placements.length === 1) logPlacement(logger, ...placements[0]!);
      else if (placements.length > 1) logPlacements(logger, placements, millis);
    },
    failed(commands, err) {
      const cause = err instanceof Error && err.cause ? err.cause : err;
      for (const command of commands) {
        if (command.type === 'book' || command.type === 'hold') {
          logger.error({ eventId: command.eventId, tickets: command.tickets, kind: command.type, outcome: 'failed', err: cause }, 'booking failed');
        } else {
          logger.error({ command: command.type, outcome: 'failed', err: cause }, `${command.type} failed`);
        }
      }
    },
  };
}

function logPlacement(logger: Logger, command: Placement, o: Outcome): void {
  const { eventId, tickets } = command;
  const availableTickets = 'counts' in o && o.counts && !Array.isArray(o.counts) ? o.counts.availableTickets : undefined;
  if (o.ok && o.kind === 'hold') {
    logger.info({ eventId, holdRef: holdRef(o.hold.id), tickets, outcome: 'held', expiresAt: o.hold.expiresAt, availableTickets, replayed: o.replayed }, 'tickets held');
  } else if (o.ok && o.kind === 'booking') {
    logger.info({ eventId, bookingId: o.booking.id, tickets, outcome: 'booked', availableTickets, replayed: o.replayed }, 'booking confirmed');
  } else if (!o.ok) {
    // A refusal changed nothing, and a client can have as many as it likes: at info level, a flood
    // of them would grow the log at the client's will. The metrics count them.
    logger.debug({ eventId, tickets, outcome: o.code, availableTickets, replayed: o.replayed }, 'booking refused');
  }
}

function logPlacements(logger: Logger, placements: Array<[Placement, Outcome]>, millis: number): void {
  const booked: Array<{ eventId: string; bookingId?: string; holdRef?: string; tickets: number; availableTickets?: number; replayed?: boolean }> = [];
  const refused: Array<{ eventId: string; tickets: number; outcome: string; availableTickets?: number }> = [];
  for (const [{ eventId, tickets }, o] of placements) {
    const availableTickets = 'counts' in o && o.counts && !Array.isArray(o.counts) ? o.counts.availableTickets : undefined;
    if (o.ok && o.kind === 'hold') booked.push({ eventId, holdRef: holdRef(o.hold.id), tickets, availableTickets, replayed: o.replayed });
    else if (o.ok && o.kind === 'booking') booked.push({ eventId, bookingId: o.booking.id, tickets, availableTickets, replayed: o.replayed });
    else if (!o.ok) refused.push({ eventId, tickets, outcome: o.code, availableTickets });
  }
  const millisRounded = Math.round(millis * 1000) / 1000;
  const message = `${booked.length} bookings confirmed, ${refused.length} refused in one commit`;
  // Refusals are listed at debug only (see logPlacement); at info, their number by reason, so a
  // record's size follows what was booked, not what a client chose to send.
  if (booked.length === 0) logger.debug({ refused, millis: millisRounded }, message);
  else logger.info({ booked, refusedByReason: byReason(refused), millis: millisRounded }, message);
}

function byReason(refused: Array<{ outcome: string }>): Record<string, number> | undefined {
  if (refused.length === 0) return undefined;
  const counts: Record<string, number> = {};
  for (const r of refused) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}

function logOther(logger: Logger, command: Command, o: Outcome): void {
  switch (command.type) {
    case 'createEvent':
      if (o.ok) logger.info({ eventId: command.event.id, eventName: command.event.name, totalTickets: command.event.totalTickets }, 'event created');
      return;
    case 'confirm':
      if (o.ok && o.kind === 'booking' && !o.replayed) {
        logger.info({ holdRef: holdRef(command.holdId), bookingId: o.booking.id, eventId: o.booking.eventId, tickets: o.booking.tickets.length }, 'hold confirmed');
      }
      return;
    case 'release':
      if (o.ok && o.kind === 'hold' && o.counts) logger.info({ holdRef: holdRef(command.holdId), eventId: o.hold.eventId, tickets: o.hold.tickets }, 'hold released');
      return;
    case 'cancel':
      if (o.ok && o.kind === 'cancelled') {
        logger.info({ bookingId: command.bookingId, eventId: o.booking.eventId, by: command.proof.admin ? 'admin' : 'buyer', tickets: command.ticketIds ?? 'all' }, 'booking cancelled');
      }
      return;
    case 'expire':
      if (o.ok && o.kind === 'expired' && o.expired > 0) {
        logger.info({ expired: o.expired, events: o.counts }, `${o.expired} ${o.expired === 1 ? 'hold' : 'holds'} expired; their tickets are back on sale`);
      }
      return;
    // Door tokens are never logged (they are not in any command); admissions are recorded in the
    // scans table, not logged one by one: a night's crowd would flood the log.
    case 'createDoor':
      if (o.ok && o.kind === 'door') logger.info({ eventId: o.door.eventId, doorId: o.door.id, doorName: o.door.name }, 'door created');
      return;
    case 'revokeDoor':
      if (o.ok && o.kind === 'door') logger.info({ eventId: o.door.eventId, doorId: o.door.id }, 'door revoked');
      return;
    // The line's turning points at info; its steady admissions (up to 4 records a second) at debug.
    case 'pauseQueue':
      if (o.ok && o.kind === 'queueLine' && o.changed) {
        logger.info({ eventId: command.eventId, serving: o.line.serving, waiting: o.line.positioned - o.line.serving }, command.paused ? 'waiting room paused: nobody more is admitted until it is resumed' : 'waiting room resumed');
      }
      return;
    case 'advanceQueue':
      if (!o.ok || o.kind !== 'queueLine') return;
      if (o.drawnNow !== undefined) {
        logger.info({ eventId: command.eventId, drawn: o.drawnNow }, `the sale opened: the order of the ${o.drawnNow} ${o.drawnNow === 1 ? 'buyer' : 'buyers'} in the waiting room was drawn`);
      }
      if (o.expiredNow > 0) logger.info({ eventId: command.eventId, expired: o.expiredNow }, `${o.expiredNow} admission ${o.expiredNow === 1 ? 'pass' : 'passes'} ran out unused; their places in the window are free`);
      if (o.admittedNow > 0) logger.debug({ eventId: command.eventId, admitted: o.admittedNow, serving: o.line.serving, inProgress: o.line.admitted }, 'waiting room admitted buyers');
      return;
    case 'checkinSettings':
      if (o.ok) logger.info({ eventId: command.eventId, offlineCheckIn: command.offlineCheckIn }, 'check-in settings changed');
      return;
    case 'checkin':
      if (o.ok && o.kind === 'checkin' && o.scan.outcome === 'conflict' && !o.replayed) {
        logger.warn({ eventId: command.eventId, ticketId: command.ticketId, doorId: command.doorId, firstDoorId: o.scan.firstCheckIn?.door.id }, 'check-in conflict: two doors admitted one ticket while offline');
      }
      return;
    default:
      return;
  }
}
