/** JSON schemas of the API: fastify validates shapes and serialises responses with them. */

export const eventSchema = {
  $id: 'Event',
  type: 'object',
  required: ['id', 'name', 'date', 'totalTickets', 'availableTickets', 'maxTicketsPerBooking'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    date: { type: 'string', format: 'date-time' },
    totalTickets: { type: 'integer' },
    availableTickets: { type: 'integer' },
    maxTicketsPerBooking: { type: 'integer' },
  },
} as const;

export const ticketSchema = {
  $id: 'Ticket',
  type: 'object',
  required: ['id', 'eventId', 'bookingId'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    bookingId: { type: 'string', format: 'uuid' },
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
  },
} as const;

export const bookingBody = {
  type: 'object',
  required: ['tickets'],
  additionalProperties: false,
  properties: { tickets: { type: 'integer' } },
} as const;

export const reserveQuery = {
  type: 'object',
  required: ['eventId', 'tickets'],
  properties: { eventId: { type: 'string' }, tickets: { type: 'string' } },
} as const;

export const sharedSchemas = [ticketSchema, eventSchema, bookingSchema, errorSchema];
