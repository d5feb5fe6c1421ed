import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ServiceObserver } from '../core/ticket-service.js';

/** Prometheus metrics of one server instance, in their own registry so tests can run many apps. */
export class Metrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'boxoffice_http_request_duration_seconds',
    help: 'HTTP requests by route and status, with their latency',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'boxoffice_http_requests_in_flight',
    help: 'Requests admitted and not yet answered',
    registers: [this.registry],
  });
  readonly refused = new Counter({
    name: 'boxoffice_http_refused_total',
    help: 'Requests refused before service, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly snapshotEncodes = new Counter({
    name: 'boxoffice_stream_snapshot_encodes_total',
    help: 'Times the event list was encoded to bytes (once per change, shared by GET /events and every stream subscriber)',
    registers: [this.registry],
  });
  readonly streams = new Gauge({
    name: 'boxoffice_streams_open',
    help: 'Live event stream (GET /events/stream) subscribers',
    registers: [this.registry],
  });
  readonly streamsDropped = new Counter({
    name: 'boxoffice_streams_dropped_total',
    help: 'Stream subscribers dropped by the server, by reason (slow_reader: too much unread; idle: not reading for the idle timeout)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly bookings = new Counter({
    name: 'boxoffice_bookings_total',
    help: 'Booking requests decided, by outcome (booked, refused, failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly writeRefusals = new Counter({
    name: 'boxoffice_write_refusals_total',
    help: 'Writes refused by a rule, by reason (not_enough_tickets, buyer_limit_reached, hold_expired, …); replays not counted',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly ticketsSold = new Counter({
    name: 'boxoffice_tickets_sold_total',
    help: 'Tickets in committed bookings, confirmed holds included',
    registers: [this.registry],
  });
  readonly holds = new Counter({
    name: 'boxoffice_holds_total',
    help: 'Holds by what happened to them (created, confirmed, released, expired)',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly ticketsCancelled = new Counter({
    name: 'boxoffice_tickets_cancelled_total',
    help: 'Tickets cancelled and returned to stock',
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'boxoffice_commit_batch_size',
    help: 'Booking requests decided per storage transaction (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [this.registry],
  });
  readonly commitDuration = new Histogram({
    name: 'boxoffice_commit_duration_seconds',
    help: 'Time of one booking transaction, fsync included',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
    registers: [this.registry],
  });

  readonly checkins = new Counter({
    name: 'boxoffice_checkins_total',
    help: 'Door scans decided, by outcome (admitted, already_checked_in, invalid_code, wrong_event, cancelled, conflict, …); nonce replays not counted',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly offlineScansSynced = new Counter({
    name: 'boxoffice_offline_scans_synced_total',
    help: 'Offline scans uploaded by doors and decided (each once; replayed uploads not counted)',
    registers: [this.registry],
  });
  readonly checkinConflicts = new Counter({
    name: 'boxoffice_checkin_conflicts_total',
    help: 'Offline scans of a ticket another door had already admitted',
    registers: [this.registry],
  });

  readonly queueLength = new Gauge({
    name: 'boxoffice_queue_length',
    help: 'Entries in each waiting room line (every state), as this node last saw it',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  readonly queueJoins = new Counter({ name: 'boxoffice_queue_joins_total', help: 'New waiting-room entries (repeat joins answered with the same entry not counted)', registers: [this.registry] });
  readonly queueAdmissions = new Counter({ name: 'boxoffice_queue_admissions_total', help: 'Waiting-room entries admitted (given a pass) by this node', registers: [this.registry] });
  readonly queueExpiredPasses = new Counter({ name: 'boxoffice_queue_expired_passes_total', help: 'Admission passes that ran out unused (marked by this node)', registers: [this.registry] });
  readonly queueWait = new Histogram({
    name: 'boxoffice_queue_wait_seconds',
    help: "Buyers' wait in line (join or sale opening, whichever is later, to admission), observed when this node first shows the admission",
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600],
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'boxoffice_' });
  }

  /** The hooks the ticket service calls on its booking path. */
  readonly serviceObserver: ServiceObserver = {
    committed: (_commands, outcomes) => {
      for (const o of outcomes) {
        if (!o.ok) {
          if (!o.replayed) this.writeRefusals.inc({ reason: o.code });
        } else if (o.kind === 'queueEntry') {
          if (o.created) this.queueJoins.inc();
          this.queueLength.set({ event: o.line.eventId }, o.line.joined);
        } else if (o.kind === 'queueLine') {
          this.queueAdmissions.inc(o.admittedNow);
          this.queueExpiredPasses.inc(o.expiredNow);
          this.queueLength.set({ event: o.line.eventId }, o.line.joined);
        }
      }
    },
    batchCommitted: (size, millis) => {
      this.batchSize.observe(size);
      this.commitDuration.observe(millis / 1000);
    },
    bookingDecided: (outcome, tickets) => {
      this.bookings.inc({ outcome });
      if (outcome === 'booked') this.ticketsSold.inc(tickets);
    },
    holdsChanged: (event, holds, tickets) => {
      this.holds.inc({ event }, holds);
      if (event === 'confirmed') this.ticketsSold.inc(tickets);
    },
    ticketsCancelled: (tickets) => this.ticketsCancelled.inc(tickets),
    scanDecided: (outcome, offline) => {
      this.checkins.inc({ outcome });
      if (offline) this.offlineScansSynced.inc();
      if (outcome === 'conflict') this.checkinConflicts.inc();
    },
  };
}
