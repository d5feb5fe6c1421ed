/**
 * Load generation: autocannon's Node API, in this process, with keep-alive connections.
 *
 * Two things autocannon does not do on its own, and a booking benchmark needs:
 *  - A clean end. In `duration` mode autocannon destroys its sockets at the deadline, so the requests
 *    in flight then are lost: the server may commit them but nobody counts the answer, and "2xx
 *    answers == tickets stored" would be off by up to one request per connection. Here each client
 *    is told at the deadline to send nothing more (`responseMax = reqsMade`): it waits for the answer
 *    to the request it has on the wire, then closes. Every request sent is answered and counted.
 *  - Exact latency percentiles. autocannon keeps an integer-millisecond histogram; we record each
 *    response's float duration instead and sort once at the end.
 */
import autocannon, { type AutocannonClient, type AutocannonRequest } from 'autocannon';

export type RequestKind = 'book' | 'list' | 'noop' | 'health';

export interface RequestDef {
  kind: RequestKind;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** For bookings: which event, so 2xx answers can be counted per event. */
  eventId?: string;
}

export interface LoadOptions {
  /** Base URLs, one per server process; connections are dealt round-robin over them. */
  urls: string[];
  connections: number;
  durationSec: number;
  /** The request sequence of client number i (each client loops over its own list). */
  requestsFor: (client: number) => RequestDef[];
  /** Checked every 50 ms; true ends the run early (the clients still drain). */
  stopWhen?: (elapsedMs: number, tally: Tally) => boolean;
}

/** Answers counted per kind and status; booking 2xx answers also per event. */
export interface Tally {
  byKind: Record<string, Record<string, number>>;
  booked2xxByEvent: Map<string, number>;
  booked2xx: number;
  /** ms since start of the first booking answered 409 and of the last booking answered 2xx. */
  first409Ms: number | undefined;
  last2xxBookMs: number | undefined;
  /** One booking answer body (to read the booking back through the API). */
  sampleBookingBody: string | undefined;
}

export interface LoadResult {
  /** Responses per second over the measured window (first request to last answer). */
  rps: number;
  responses: number;
  sent: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  p999: number;
  mean: number;
  max: number;
  statuses: Record<string, number>;
  /** Mean size of an answer on the wire (headers + body), in bytes. */
  bytesPerResponse: number;
  errors: number;
  timeouts: number;
  tally: Tally;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

export function emptyTally(): Tally {
  return { byKind: {}, booked2xxByEvent: new Map(), booked2xx: 0, first409Ms: undefined, last2xxBookMs: undefined, sampleBookingBody: undefined };
}

/** Adds one run's booking counts into a running total (warm-up + measured phase of one scenario). */
export function mergeTally(into: Tally, from: Tally): void {
  for (const [kind, statuses] of Object.entries(from.byKind)) {
    const target = (into.byKind[kind] ??= {});
    for (const [status, n] of Object.entries(statuses)) target[status] = (target[status] ?? 0) + n;
  }
  for (const [eventId, n] of from.booked2xxByEvent) into.booked2xxByEvent.set(eventId, (into.booked2xxByEvent.get(eventId) ?? 0) + n);
  into.booked2xx += from.booked2xx;
  into.sampleBookingBody ??= from.sampleBookingBody;
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const tally = emptyTally();
  const clients: AutocannonClient[] = [];
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let startedAt = 0;
  let lastAnswerAt = 0;
  let sent = 0;
  let bytes = 0;
  let clientIndex = 0;
  // Request objects are shared between clients that send the same request (autocannon caches the
  // built buffer on the object), so a 1,000-event spread costs 1,000 buffers, not 64,000.
  const built = new Map<string, AutocannonRequest>();

  const toAutocannon = (def: RequestDef): AutocannonRequest => {
    const key = `${def.kind} ${def.method} ${def.path} ${def.body ?? ''}`;
    const existing = built.get(key);
    if (existing) return existing;
    const kindCounts = (tally.byKind[def.kind] ??= {});
    const isBooking = def.kind === 'book';
    const request: AutocannonRequest = {
      method: def.method,
      path: def.path,
      ...(def.body !== undefined ? { body: def.body, headers: { ...JSON_HEADERS } } : { headers: {} }),
      onResponse: (status, body) => {
        kindCounts[status] = (kindCounts[status] ?? 0) + 1;
        if (!isBooking) return;
        const now = performance.now() - startedAt;
        if (status >= 200 && status < 300) {
          tally.booked2xx++;
          tally.last2xxBookMs = now;
          if (def.eventId) tally.booked2xxByEvent.set(def.eventId, (tally.booked2xxByEvent.get(def.eventId) ?? 0) + 1);
          tally.sampleBookingBody ??= body;
        } else if (status === 409 && tally.first409Ms === undefined) {
          tally.first409Ms = now;
        }
      },
    };
    built.set(key, request);
    return request;
  };

  return new Promise((resolve, reject) => {
    let drained = false;
    const drain = () => {
      if (drained) return;
      drained = true;
      // Each client closes after the answer to the request it has on the wire.
      for (const client of clients) if (!client.destroyed) client.responseMax = Math.max(1, client.reqsMade);
    };
    const instance = autocannon(
      {
        url: options.urls,
        connections: options.connections,
        // The real end is drain(); this is only a safety net far beyond it.
        duration: options.durationSec + 60,
        // autocannon notices that every client has finished at its next sample tick.
        sampleInt: 50,
        timeout: 10,
        setupClient: (client) => {
          // autocannon turns every response body into a string; only one client's bodies are read
          // (for the sample booking), so the others skip that work, which would compete with the
          // server for the CPU (a 1,000-event list is ~150 KB per answer).
          if (clientIndex > 0) client.pipelinedRequests.addBody = () => {};
          clients.push(client);
          client.setRequests(options.requestsFor(clientIndex++).map(toAutocannon));
          client.on('request', () => sent++);
        },
      },
      (err, result) => {
        clearInterval(ticker);
        clearTimeout(deadline);
        if (err) return reject(err);
        const sorted = latencies.subarray(0, count).sort();
        const pct = (p: number) => (count === 0 ? 0 : sorted[Math.min(count - 1, Math.ceil((p / 100) * count) - 1)]!);
        let sum = 0;
        for (let i = 0; i < count; i++) sum += sorted[i]!;
        const statuses: Record<string, number> = {};
        for (const [status, { count: n }] of Object.entries(result.statusCodeStats)) statuses[status] = n;
        const elapsedMs = Math.max(1, lastAnswerAt - startedAt);
        resolve({
          rps: (count / elapsedMs) * 1000,
          responses: count,
          sent,
          elapsedMs,
          p50: pct(50),
          p99: pct(99),
          p999: pct(99.9),
          mean: count ? sum / count : 0,
          max: count ? sorted[count - 1]! : 0,
          statuses,
          bytesPerResponse: count ? bytes / count : 0,
          errors: result.errors,
          timeouts: result.timeouts,
          tally,
        });
      },
    );
    startedAt = performance.now();
    instance.on('response', (_client: unknown, _status: number, responseBytes: number, responseTime: number) => {
      bytes += responseBytes;
      if (count === latencies.length) {
        const bigger = new Float64Array(latencies.length * 2);
        bigger.set(latencies);
        latencies = bigger;
      }
      latencies[count++] = responseTime;
      lastAnswerAt = performance.now();
    });
    const deadline = setTimeout(drain, options.durationSec * 1000);
    const ticker = setInterval(() => {
      if (!drained && options.stopWhen?.(performance.now() - startedAt, tally)) drain();
    }, 50);
  });
}
