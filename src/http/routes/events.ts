import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { TicketService } from '../../core/ticket-service.js';
import { sendPlaced } from '../replies.js';
import { ADMIN_SECURITY, bookingBody, errorResponses, idempotencyHeaders, idParams, newEventBody } from '../schemas.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/** The REST API over events: list, create (admin), read, book. `GET /events` is also the original protocol. */
export function eventRoutes(app: FastifyInstance, deps: { service: TicketService; adminOnly: onRequestHookHandler }): void {
  const { service } = deps;

  // The body is serialised once per change, and encoded once too: between changes a list costs
  // no JSON and no UTF-8 work, only the write.
  let lastJson = '';
  let lastBytes = Buffer.alloc(0);
  const listSchema = {
    summary: 'All events with live counts (also the original protocol)',
    tags: ['events'],
    response: { 200: { type: 'array', items: { $ref: 'Event#' } } },
  };
  app.get('/events', { schema: listSchema }, async (_request, reply) => {
    const json = await service.listEventsJson();
    if (json !== lastJson) {
      lastJson = json;
      lastBytes = Buffer.from(json, 'utf8');
    }
    return reply.type(JSON_TYPE).send(lastBytes);
  });

  app.post<{ Body: unknown }>(
    '/events',
    {
      onRequest: deps.adminOnly,
      schema: { summary: 'Create an event (admin)', tags: ['events'], security: ADMIN_SECURITY, body: newEventBody, response: { 201: { $ref: 'Event#' }, ...errorResponses(400, 401, 403) } },
    },
    async (request, reply) => {
      const event = await service.createEvent(request.body);
      return reply.code(201).header('location', `/events/${event.id}`).send(event);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id',
    { schema: { summary: 'One event', tags: ['events'], params: idParams, response: { 200: { $ref: 'Event#' }, ...errorResponses(400, 404) } } },
    async (request) => service.getEvent(request.params.id),
  );

  app.post<{ Params: { id: string }; Body: { tickets: number } }>(
    '/events/:id/bookings',
    {
      schema: {
        summary: 'Book tickets at once',
        tags: ['bookings'],
        params: idParams,
        headers: idempotencyHeaders,
        body: bookingBody,
        response: { 201: { $ref: 'Booking#' }, ...errorResponses(400, 403, 404, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const placed = await service.book(request.params.id, request.body.tickets, { idempotencyKey: request.headers['idempotency-key'], buyer: request.ip });
      return sendPlaced(reply, placed, '/bookings');
    },
  );
}
