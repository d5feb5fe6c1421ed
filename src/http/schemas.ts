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
  properties: { error: { type: 'string' }, message: { type: 'string' } },
} as const;

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
  },
} as const;

export const bookingBody = {
  type: 'object',
  required: ['tickets'],
  additionalProperties: false,
  properties: { tickets: { type: 'integer' } },
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
  },
} as const;

export const reserveQuery = {
  type: 'object',
  required: ['eventId', 'tickets'],
  properties: { eventId: { type: 'string' }, tickets: { type: 'string' } },
} as const;

export const sharedSchemas = [ticketSchema, eventSchema, bookingSchema, holdSchema, errorSchema];

/** Error answers a route documents; all share the Error shape. */
export function errorResponses(...statuses: number[]): Record<number, { $ref: 'Error#'; description: string }> {
  return Object.fromEntries(statuses.map((status) => [status, { $ref: 'Error#', description: ERROR_DESCRIPTIONS[status] ?? 'Refused' }]));
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid_request: the input is not acceptable; nothing changed',
  401: 'unauthorized: credentials missing or wrong',
  403: 'forbidden (the secret does not match) or cross_site_request (sent by a page on another site)',
  404: 'not_found / event_not_found',
  409: 'not_enough_tickets, hold_confirmed or already_cancelled',
  410: 'hold_expired or hold_released: the tickets went back on sale',
  422: 'idempotency_key_reused: the key was used for a different request',
  429: 'too_many_requests (too_many_streams on the stream): retry after Retry-After seconds',
  503: 'storage_unavailable or shutting_down: not confirmed, retry',
};

export const ADMIN_SECURITY = [{ bearer: [] }];
