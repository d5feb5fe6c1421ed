/**
 * The one place where an error's code, HTTP status and wording live.
 * Codes are part of the API contract: clients switch on them, so never rename one.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_code: 400,
  buyer_details_required: 400,
  unauthorized: 401,
  door_revoked: 401,
  forbidden: 403,
  wrong_event: 403,
  offline_not_allowed: 403,
  not_on_sale: 403,
  room_not_open: 403,
  queue_required: 403,
  admission_expired: 403,
  invalid_queue_token: 403,
  cross_site_request: 403,
  not_found: 404,
  event_not_found: 404,
  ticket_not_found: 404,
  queue_entry_not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  not_enough_tickets: 409,
  buyer_limit_reached: 409,
  hold_confirmed: 409,
  already_cancelled: 409,
  already_checked_in: 409,
  sales_closed: 409,
  event_cancelled: 409,
  event_past: 409,
  invalid_stock: 409,
  no_waiting_room: 409,
  sold_out: 409,
  hold_expired: 410,
  hold_released: 410,
  ticket_cancelled: 410,
  expectation_failed: 417,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  too_many_requests: 429,
  too_many_streams: 429,
  headers_too_large: 431,
  internal_error: 500,
  storage_unavailable: 503,
  shutting_down: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class BoxofficeError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra fields of the JSON answer beside `error` and `message` (e.g. `firstCheckIn`). */
  details?: Record<string, unknown>;
  /** The answer repeats a remembered one (a door's repeated nonce): `Idempotent-Replayed: true`. */
  replayed?: boolean;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    // An answer, not a bug: no stack trace. Capturing one cost more than deciding the refusal
    // (140,000 "already checked in" answers in the checkin bench); a cause keeps its own stack.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message, options);
    Error.stackTraceLimit = limit;
    this.name = 'BoxofficeError';
    this.code = code;
    this.status = ERROR_STATUS[code];
  }

  toJSON(): { error: ErrorCode; message: string } {
    return { ...this.details, error: this.code, message: this.message };
  }
}

export function isBoxofficeError(err: unknown): err is BoxofficeError {
  return err instanceof BoxofficeError;
}

/** Constructors with the sentences a person reads; tests and UIs rely on this wording. */
export const Errors = {
  invalidRequest: (message: string) => new BoxofficeError('invalid_request', message),
  unauthorized: (message = 'This endpoint needs the admin token: send "Authorization: Bearer <token>".') =>
    new BoxofficeError(
      'unauthorized',
      message,
    ),
  unauthorizedCancel: () =>
    new BoxofficeError(
      'unauthorized',
      'Cancelling needs the booking\'s secret (given when it was booked) or the admin token: send "Authorization: Bearer <secret>".',
    ),
  forbidden: (what: string) =>
    new BoxofficeError('forbidden', `That secret does not match this ${what}; send the ${what}'s secret or the admin token.`),
  crossSiteRequest: (origin: string | undefined) =>
    new BoxofficeError(
      'cross_site_request',
      `A page from another site${origin ? ` (${truncate(origin, 100)})` : ''} may not change anything here: book on this server's own pages, or start it with --cors-origin naming that page's origin.`,
    ),
  notFound: (what: string, id: string) => new BoxofficeError('not_found', `No ${what} with id ${id}.`),
  routeNotFound: (method: string, url: string) =>
    new BoxofficeError('not_found', `There is no route ${method} ${truncate(url, 200)}.`),
  eventNotFound: (id: string) => new BoxofficeError('event_not_found', `No event with id ${id}.`),
  methodNotAllowed: (method: string, url: string, allowed: string) =>
    new BoxofficeError('method_not_allowed', `${method} is not allowed on ${url}; use ${allowed}.`),
  notEnoughTickets: (requested: number, left: number) =>
    new BoxofficeError(
      'not_enough_tickets',
      `Not enough tickets available: requested ${requested}, ${left} left`,
    ),
  buyerHoldLimit: (holding: number, requested: number, max: number) =>
    new BoxofficeError(
      'buyer_limit_reached',
      `One buyer may hold at most ${max} tickets of this event at once; you hold ${holding} and asked for ${requested} more. Confirm or release a hold first.`,
    ),
  buyerGaveBackTooMany: (givenBack: number) =>
    new BoxofficeError(
      'buyer_limit_reached',
      `You have given back ${givenBack} tickets of this event (cancelled, released or let expire); no more holds or bookings of it are taken from this address.`,
    ),
  buyerTicketLimit: (have: number, requested: number, max: number) =>
    new BoxofficeError(
      'buyer_limit_reached',
      `One buyer may have at most ${max} tickets of this event in all; you have ${have} (bought or held) and asked for ${requested} more.`,
    ),
  holdExpired: (id: string, expiresAt: string) =>
    new BoxofficeError('hold_expired', `Hold ${id} expired at ${expiresAt}; its tickets went back on sale. Hold again to buy.`),
  holdReleased: (id: string) => new BoxofficeError('hold_released', `Hold ${id} was released; its tickets went back on sale.`),
  holdConfirmed: (id: string, bookingId: string) =>
    new BoxofficeError('hold_confirmed', `Hold ${id} is already confirmed as booking ${bookingId}; cancel the booking instead.`),
  alreadyCancelled: (what: string) => new BoxofficeError('already_cancelled', `${what} already cancelled.`),
  idempotencyKeyReused: () =>
    new BoxofficeError(
      'idempotency_key_reused',
      'This Idempotency-Key was already used for a different request; use a new key for a new request.',
    ),
  payloadTooLarge: (limit: number) =>
    new BoxofficeError('payload_too_large', `The request body is larger than the limit of ${limit} bytes.`),
  unsupportedMediaType: (type: string | undefined) =>
    new BoxofficeError(
      'unsupported_media_type',
      `Send the body as application/json${type ? `, not ${truncate(type, 100)}` : ''}.`,
    ),
  tooManyRequests: () =>
    new BoxofficeError('too_many_requests', 'The server is busy; retry after the time in Retry-After.'),
  buyerRateLimited: (perSecond: number, retryAfterSeconds: number) =>
    new BoxofficeError(
      'too_many_requests',
      `You are sending more than ${perSecond} booking, hold, confirm, release or cancel requests a second; retry after ${retryAfterSeconds} s (see Retry-After).`,
    ),
  tooManyRequestsFromClient: (limit: number) =>
    new BoxofficeError(
      'too_many_requests',
      `You already have ${limit} requests in progress; wait for them, then retry after the time in Retry-After.`,
    ),
  tooManyConnections: () =>
    new BoxofficeError(
      'too_many_requests',
      'Too many connections are open from your address; this one is closed. Retry after the time in Retry-After, or reuse a connection.',
    ),
  tooManyUploads: (limit: number) =>
    new BoxofficeError(
      'too_many_requests',
      `You already have ${limit} request bodies still arriving; send them, then retry after the time in Retry-After.`,
    ),
  tooManyStreams: (scope: 'client' | 'server', limit: number) =>
    new BoxofficeError(
      'too_many_streams',
      scope === 'client'
        ? `You already have ${limit} live event streams open; close one (or share one between tabs), then retry after the time in Retry-After.`
        : `The server already serves ${limit} live event streams; retry after the time in Retry-After, or poll GET /events meanwhile.`,
    ),
  storageUnavailable: (cause?: unknown) =>
    new BoxofficeError('storage_unavailable', 'Storage is unavailable right now, so your request was not confirmed. Retry shortly.', {
      cause,
    }),
  shuttingDown: () => new BoxofficeError('shutting_down', 'The server is shutting down; retry on another node or shortly.'),
  invalidCode: (why: 'malformed' | 'forged') =>
    new BoxofficeError(
      'invalid_code',
      why === 'malformed'
        ? 'This is not a boxoffice ticket code (truncated, or something else entirely); do not admit.'
        : 'This ticket code is forged or altered: its signature does not match; do not admit.',
    ),
  wrongEvent: (what: 'ticket' | 'door') =>
    new BoxofficeError(
      'wrong_event',
      what === 'ticket' ? 'This is a genuine ticket of another event; do not admit.' : 'This door token belongs to another event.',
    ),
  ticketNotFound: (id: string) => new BoxofficeError('ticket_not_found', `Ticket ${id} does not exist (its code is genuine, but no such ticket was sold); do not admit.`),
  ticketCancelled: (id: string) => new BoxofficeError('ticket_cancelled', `Ticket ${id} was cancelled; do not admit.`),
  alreadyCheckedIn: (id: string, at: string, doorName: string) =>
    new BoxofficeError('already_checked_in', `Ticket ${id.slice(0, 8)}… already entered at ${at.replace(/\.\d+Z$/, 'Z')} through ${doorName}.`),
  doorRevoked: () => new BoxofficeError('door_revoked', 'This door token was revoked by the organiser; ask them for a new one.'),
  doorUnauthorized: () =>
    new BoxofficeError('unauthorized', 'Scanning needs a door token of this event: send "Authorization: Bearer <door token>".'),
  offlineNotAllowed: () =>
    new BoxofficeError('offline_not_allowed', 'The organiser does not allow offline check-in for this event; scans must be made online.'),
  salesClosed: (name: string) =>
    new BoxofficeError('sales_closed', `Sales for ${truncate(name, 80)} are closed by the organiser; nothing was booked or held.`),
  eventCancelled: (name: string) =>
    new BoxofficeError('event_cancelled', `${truncate(name, 80)} was cancelled by the organiser; nothing more is sold or changed.`),
  eventPast: (name: string, date: string) =>
    new BoxofficeError('event_past', `${truncate(name, 80)} took place on ${date.replace(/\.\d+Z$/, 'Z')}; its tickets are no longer sold.`),
  pastDate: (date: string) =>
    new BoxofficeError('invalid_request', `date ${date.replace(/\.\d+Z$/, 'Z')} is in the past; an event must be created with a date still to come.`),
  stockBelowTaken: (requested: number, sold: number, held: number) =>
    new BoxofficeError(
      'invalid_stock',
      `totalTickets cannot be ${requested}: ${sold} tickets are sold and ${held} held, so the event needs at least ${sold + held}. Nothing was changed.`,
    ),
  buyerDetailsRequired: (missing: string) =>
    new BoxofficeError('buyer_details_required', `The organiser asks for the buyer's name and email for this event: send buyer.${missing}.`),
  notOnSale: (name: string, onSaleAt: string, timeZone: string) =>
    new BoxofficeError('not_on_sale', `Tickets for ${truncate(name, 80)} go on sale at ${zoned(onSaleAt, timeZone)}; nothing was booked or held.`),
  roomNotOpen: (name: string, opensAt: string, timeZone: string) =>
    new BoxofficeError('room_not_open', `The waiting room for ${truncate(name, 80)} opens at ${zoned(opensAt, timeZone)}; join then.`),
  noWaitingRoom: (name: string) =>
    new BoxofficeError('no_waiting_room', `${truncate(name, 80)} has no waiting room; book or hold tickets directly.`),
  soldOut: (name: string) => new BoxofficeError('sold_out', `${truncate(name, 80)} is sold out; there is no line to join.`),
  queueRequired: (eventId: string) =>
    new BoxofficeError(
      'queue_required',
      `This event sells through a waiting room: join the line at POST /events/${eventId}/queue and send the admission pass you get in the Admission-Pass header.`,
    ),
  admissionExpired: () =>
    new BoxofficeError('admission_expired', 'This admission pass was already used or has run out; join the line again at POST /events/:id/queue.'),
  invalidQueueToken: () =>
    new BoxofficeError('invalid_queue_token', 'The Queue-Token does not prove this entry of this event; send the token you got when you joined.'),
  queueEntryNotFound: (id: string) => new BoxofficeError('queue_entry_not_found', `Waiting-room entry ${truncate(id, 40)} does not exist.`),
  internal: () => new BoxofficeError('internal_error', 'Something went wrong on our side; nothing was booked.'),
};

/** An instant as the event's own clocks show it (`2027-05-01 20:00 Europe/Berlin`). */
function zoned(iso: string, timeZone: string): string {
  try {
    const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(iso));
    const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
    return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}:${get('second')} ${timeZone}`;
  } catch {
    return iso;
  }
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
