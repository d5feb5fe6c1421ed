/** JSON schemas of the API: fastify validates shapes and serialises responses with them. */

export const eventSchema = {
  $id: 'Event',
  type: 'object',
  required: ['id', 'name', 'date', 'totalTickets', 'availableTickets', 'heldTickets', 'maxTicketsPerBooking', 'holdSeconds', 'maxHeldPerBuyer', 'maxTicketsPerBuyer'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    date: { type: 'string', format: 'date-time' },
    totalTickets: { type: 'integer' },
    availableTickets: { type: 'integer', description: 'Tickets that can be booked or held now.' },
    heldTickets: { type: 'integer', description: 'Tickets set aside by active holds. available + held + sold = total.' },
    maxTicketsPerBooking: { type: 'integer' },
    holdSeconds: { type: 'integer', description: 'How long a hold on this event lasts.' },
    maxHeldPerBuyer: { type: 'integer', description: 'Tickets one buyer (client address) may hold at once.' },
    maxTicketsPerBuyer: { type: 'integer', description: 'Tickets one buyer may have in all, bought and held together.' },
    offlineCheckIn: { type: 'boolean', description: 'Whether door devices may admit offline and upload their scans later.' },
    checkedInTickets: { type: 'integer', description: 'Tickets admitted at the door so far.' },
    description: { type: 'string', description: 'What the event is (0 to 2000 characters).' },
    venue: { type: 'string', description: 'Where it takes place (0 to 200 characters).' },
    timeZone: { type: 'string', description: 'IANA time zone (Europe/Berlin): show `date` in it, with its label.' },
    salesOpen: { type: 'boolean', description: 'Whether buyers may book and hold now.' },
    status: { type: 'string', enum: ['scheduled', 'cancelled'] },
    buyerDetails: { type: 'string', enum: ['none', 'optional', 'required'], description: "Whether booking and hold forms ask for the buyer's name and email." },
    onSaleAt: { type: 'string', format: 'date-time', nullable: true, description: 'When holds and bookings open (null: on sale now); before it they are refused 403 not_on_sale.' },
    waitingRoom: { type: 'boolean', description: 'Whether buyers go through the virtual waiting room (POST /events/:id/queue, then an Admission-Pass).' },
    waitingRoomOpensAt: { type: 'string', format: 'date-time', nullable: true, description: 'When the waiting room takes joins: onSaleAt minus the server lead time.' },
    queueWindow: { type: 'integer', nullable: true, description: 'Admitted buyers not yet finished at once (null: derived from the stock).' },
  },
} as const;

export const ticketSchema = {
  $id: 'Ticket',
  type: 'object',
  required: ['id', 'eventId', 'bookingId', 'status'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    bookingId: { type: 'string', format: 'uuid' },
    status: { type: 'string', enum: ['valid', 'cancelled'] },
    code: { type: 'string', description: 'In booking answers: the signed code (BO1.…) the ticket QR carries and a door scans.' },
  },
} as const;

export const bookingSchema = {
  $id: 'Booking',
  type: 'object',
  required: ['id', 'eventId', 'tickets', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    tickets: { type: 'array', items: { $ref: 'Ticket#' } },
    createdAt: { type: 'string', format: 'date-time' },
    secret: {
      type: 'string',
      description: 'Only in the answer that created the booking: send it as "Authorization: Bearer <secret>" to cancel.',
    },
    eventStatus: { type: 'string', enum: ['scheduled', 'cancelled'], description: 'GET /bookings/:id only: cancelled when the organiser cancelled the event.' },
  },
} as const;

export const holdSchema = {
  $id: 'Hold',
  type: 'object',
  required: ['id', 'eventId', 'tickets', 'status', 'createdAt', 'expiresAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    tickets: { type: 'integer' },
    status: { type: 'string', enum: ['active', 'confirmed', 'released', 'expired'] },
    createdAt: { type: 'string', format: 'date-time' },
    expiresAt: { type: 'string', format: 'date-time', description: 'Fixed when the hold is made; never extended.' },
    bookingId: { type: 'string', format: 'uuid', description: 'The booking the hold became, once confirmed.' },
  },
} as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message'],
  properties: {
    error: { type: 'string' },
    message: { type: 'string' },
    firstCheckIn: { $ref: 'FirstCheckIn#', description: 'already_checked_in: when and through which door the ticket entered.' },
  },
} as const;

const doorRef = { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' } } } as const;

export const firstCheckInSchema = {
  $id: 'FirstCheckIn',
  type: 'object',
  required: ['door', 'at'],
  properties: { door: doorRef, at: { type: 'string', format: 'date-time' } },
} as const;

export const doorSchema = {
  $id: 'Door',
  type: 'object',
  required: ['id', 'eventId', 'name', 'createdAt'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    revokedAt: { type: 'string', format: 'date-time', description: 'Set once revoked: the token is refused from then on.' },
    admitted: { type: 'integer', description: 'In the list: tickets this door admitted.' },
    token: { type: 'string', description: 'Only in the answer that created the door: bod_<door id>_<secret>. Send it as "Authorization: Bearer <token>".' },
  },
} as const;

export const scanResultSchema = {
  $id: 'ScanResult',
  type: 'object',
  required: ['outcome', 'ticket', 'door', 'at'],
  properties: {
    outcome: { type: 'string', enum: ['admitted', 'conflict'] },
    ticket: {
      type: 'object',
      required: ['id', 'eventId', 'bookingId'],
      properties: { id: { type: 'string', format: 'uuid' }, eventId: { type: 'string', format: 'uuid' }, bookingId: { type: 'string', format: 'uuid' } },
    },
    door: doorRef,
    at: { type: 'string', format: 'date-time' },
    firstCheckIn: { $ref: 'FirstCheckIn#' },
  },
} as const;

const scanRecord = {
  type: 'object',
  required: ['ticketId', 'door', 'at', 'outcome', 'offline'],
  properties: {
    ticketId: { type: 'string', format: 'uuid' },
    door: doorRef,
    at: { type: 'string', format: 'date-time' },
    outcome: { type: 'string', enum: ['admitted', 'already_checked_in', 'conflict', 'cancelled'] },
    offline: { type: 'boolean' },
  },
} as const;

const conflictGroup = {
  type: 'object',
  required: ['ticketId', 'scans'],
  properties: {
    ticketId: { type: 'string', format: 'uuid' },
    scans: {
      type: 'array',
      items: { type: 'object', required: ['door', 'at', 'offline', 'outcome'], properties: { door: doorRef, at: { type: 'string', format: 'date-time' }, offline: { type: 'boolean' }, outcome: { type: 'string' } } },
    },
  },
} as const;

export const doorListSchema = {
  type: 'object',
  required: ['door', 'eventId', 'eventName', 'publicKey', 'publicKeys', 'offlineAllowed', 'generatedAt', 'cancelled', 'checkedIn', 'conflicts'],
  properties: {
    door: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' } }, description: 'The door this list was made for.' },
    eventId: { type: 'string', format: 'uuid' },
    eventName: { type: 'string' },
    publicKey: { type: 'string', description: "The event's Ed25519 public key (32 bytes, base64url): a door verifies ticket codes with it." },
    publicKeys: { type: 'array', items: { type: 'string' }, description: 'Every public key whose codes are still genuine (current first; more than one after a server key rotation).' },
    offlineAllowed: { type: 'boolean' },
    generatedAt: { type: 'string', format: 'date-time' },
    cancelled: { type: 'array', items: { type: 'string' } },
    checkedIn: { type: 'array', items: { type: 'string' } },
    conflicts: { type: 'array', items: conflictGroup, description: 'Tickets this door scanned that another door admitted too (offline).' },
  },
} as const;

/** `GET /door`: which door a token is, and for which event. */
export const doorSelfSchema = {
  type: 'object',
  required: ['door', 'eventId', 'eventName'],
  properties: {
    door: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string', format: 'uuid' }, name: { type: 'string' } } },
    eventId: { type: 'string', format: 'uuid' },
    eventName: { type: 'string' },
  },
} as const;

export const checkinReportSchema = {
  type: 'object',
  required: ['checkedIn', 'recent', 'conflicts'],
  properties: { checkedIn: { type: 'integer' }, recent: { type: 'array', items: scanRecord }, conflicts: { type: 'array', items: conflictGroup } },
} as const;

export const syncResponseSchema = {
  type: 'object',
  required: ['results'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['nonce', 'outcome'],
        properties: {
          nonce: { type: 'string' },
          outcome: { type: 'string', enum: ['admitted', 'conflict', 'refused'] },
          ticketId: { type: 'string' },
          error: { type: 'string' },
          message: { type: 'string' },
          firstCheckIn: { $ref: 'FirstCheckIn#' },
          replayed: { type: 'boolean' },
        },
      },
    },
  },
} as const;

export const doorBody = { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' } } } as const;
export const scanBody = { type: 'object', required: ['code', 'nonce'], additionalProperties: false, properties: { code: { type: 'string' }, nonce: { type: 'string' } } } as const;
export const syncBody = {
  type: 'object',
  required: ['scans'],
  additionalProperties: false,
  properties: {
    scans: {
      type: 'array',
      items: { type: 'object', required: ['code', 'nonce', 'scannedAt'], additionalProperties: false, properties: { code: { type: 'string' }, nonce: { type: 'string' }, scannedAt: { type: 'string' } } },
    },
  },
} as const;
export const settingsBody = { type: 'object', required: ['offlineCheckIn'], additionalProperties: false, properties: { offlineCheckIn: { type: 'boolean' } } } as const;
export const doorParams = { type: 'object', required: ['id', 'doorId'], properties: { id: { type: 'string' }, doorId: { type: 'string' } } } as const;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' } },
} as const;

export const newEventBody = {
  type: 'object',
  required: ['name', 'date', 'totalTickets'],
  additionalProperties: false,
  properties: {
    name: { type: 'string' },
    date: { type: 'string' },
    totalTickets: { type: 'integer' },
    maxTicketsPerBooking: { type: 'integer' },
    holdSeconds: { type: 'integer' },
    maxHeldPerBuyer: { type: 'integer' },
    maxTicketsPerBuyer: { type: 'integer' },
    offlineCheckIn: { type: 'boolean' },
    description: { type: 'string' },
    venue: { type: 'string' },
    timeZone: { type: 'string' },
    salesOpen: { type: 'boolean' },
    buyerDetails: { type: 'string' },
    onSaleAt: { type: 'string', nullable: true },
    waitingRoom: { type: 'boolean' },
    queueWindow: { type: 'integer', nullable: true },
  },
} as const;

/** `PATCH /events/:id`: shapes here; values (and unknown fields, worded) are checked by core. */
export const eventPatchBody = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    date: { type: 'string' },
    description: { type: 'string' },
    venue: { type: 'string' },
    timeZone: { type: 'string' },
    totalTickets: { type: 'integer' },
    maxTicketsPerBooking: { type: 'integer' },
    holdSeconds: { type: 'integer' },
    maxHeldPerBuyer: { type: 'integer' },
    maxTicketsPerBuyer: { type: 'integer' },
    buyerDetails: { type: 'string', enum: ['none', 'optional', 'required'] },
    salesOpen: { type: 'boolean' },
    onSaleAt: { type: 'string', nullable: true },
    waitingRoom: { type: 'boolean' },
    queueWindow: { type: 'integer', nullable: true },
  },
} as const;

/** The buyer's own details in a booking or hold body: kept for the organiser, never shown publicly. */
const buyerContact = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string' }, email: { type: 'string' } },
  description: "Optional (required when the event's buyerDetails is required): name 1–200 characters, email an address.",
} as const;

export const bookingBody = {
  type: 'object',
  required: ['tickets'],
  additionalProperties: false,
  properties: { tickets: { type: 'integer' }, buyer: buyerContact },
} as const;

const adminBookingSchema = {
  type: 'object',
  required: ['id', 'eventId', 'createdAt', 'tickets', 'validTickets', 'cancelledTickets', 'checkedIn', 'status'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    createdAt: { type: 'string', format: 'date-time' },
    tickets: { type: 'array', items: { $ref: 'Ticket#' } },
    validTickets: { type: 'integer' },
    cancelledTickets: { type: 'integer' },
    checkedIn: { type: 'integer', description: 'Tickets of this booking admitted at the door.' },
    status: { type: 'string', enum: ['active', 'partly_cancelled', 'cancelled'] },
    buyer: { type: 'object', properties: { name: { type: 'string' }, email: { type: 'string' } } },
  },
} as const;

/** `GET /events/:id/bookings` (admin). */
export const bookingsPageSchema = {
  type: 'object',
  required: ['total', 'offset', 'limit', 'bookings'],
  properties: {
    total: { type: 'integer', description: 'Bookings matching the search, in all.' },
    offset: { type: 'integer' },
    limit: { type: 'integer' },
    bookings: { type: 'array', items: adminBookingSchema },
  },
} as const;

export const bookingsQuery = {
  type: 'object',
  properties: {
    search: { type: 'string', description: "Part of the buyer's name or email (any case), or the start of a booking id." },
    offset: { type: 'string', description: 'Bookings to skip (default 0).' },
    limit: { type: 'string', description: 'Bookings per page, 1 to 1000 (default 100).' },
  },
} as const;

/** Optional body of `DELETE /bookings/:id`: which tickets to cancel (all when absent). */
export const cancelBody = {
  type: 'object',
  additionalProperties: false,
  properties: { tickets: { type: 'array', items: { type: 'string' } } },
} as const;

/** Documents the header; its value is checked by core (parseIdempotencyKey) like every other input. */
export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      description: 'Makes a retry safe: a repeat with the same key and request answers the first result again.',
    },
    'admission-pass': { type: 'string', description: "Events with a waiting room: the pass from the buyer's admitted queue entry (single use)." },
  },
} as const;

export const reserveQuery = {
  type: 'object',
  required: ['eventId', 'tickets'],
  properties: { eventId: { type: 'string' }, tickets: { type: 'string' } },
} as const;

export const sharedSchemas = [ticketSchema, eventSchema, bookingSchema, holdSchema, firstCheckInSchema, errorSchema, doorSchema, scanResultSchema];

/** Error answers a route documents; all share the Error shape. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: 'Error#'; description: string }> {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: 'Error#', description: ERROR_DESCRIPTIONS[status] ?? 'Refused' }]));
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid_request (the input is not acceptable), buyer_details_required, or invalid_code (not a genuine ticket code); nothing changed',
  401: 'unauthorized (credentials missing or wrong) or door_revoked',
  403: 'forbidden (the secret does not match), cross_site_request (sent by a page on another site), wrong_event, offline_not_allowed, not_on_sale, queue_required, admission_expired, room_not_open or invalid_queue_token',
  404: 'not_found / event_not_found / ticket_not_found / queue_entry_not_found',
  409: 'not_enough_tickets, hold_confirmed, already_cancelled, already_checked_in (with firstCheckIn), sales_closed, event_cancelled, event_past, invalid_stock, no_waiting_room or sold_out',
  410: 'hold_expired or hold_released (the tickets went back on sale), or ticket_cancelled',
  422: 'idempotency_key_reused: the key was used for a different request',
  429: 'too_many_requests (too_many_streams on the stream): retry after Retry-After seconds',
  503: 'storage_unavailable or shutting_down: not confirmed, retry',
};

export const ADMIN_SECURITY = [{ bearer: [] }];
