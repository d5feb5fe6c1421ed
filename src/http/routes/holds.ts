import type { FastifyInstance } from 'fastify';
import type { TicketService } from '../../core/ticket-service.js';
import { sendPlaced } from '../replies.js';
import { bookingBody, errorResponses, idempotencyHeaders, idParams } from '../schemas.js';

/**
 * Holds: tickets set aside while the buyer pays. The hold id is the buyer's capability: whoever has
 * it may confirm or release the hold, and nobody can extend it.
 */
export function holdRoutes(app: FastifyInstance, deps: { service: TicketService }): void {
  const { service } = deps;

  app.post<{ Params: { id: string }; Body: { tickets: number; buyer?: unknown } }>(
    '/events/:id/holds',
    {
      schema: {
        operationId: 'holdTickets',
        summary: 'Hold tickets for the event\'s hold time',
        tags: ['holds'],
        params: idParams,
        headers: idempotencyHeaders,
        body: bookingBody,
        response: { 201: { $ref: 'Hold#' }, ...errorResponses(400, 403, 404, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const placed = await service.holdTickets(request.params.id, request.body.tickets, {
        idempotencyKey: request.headers['idempotency-key'],
        admissionPass: request.headers['admission-pass'],
        buyer: request.ip,
        contact: request.body.buyer,
      });
      return sendPlaced(reply, placed, '/holds');
    },
  );

  app.get<{ Params: { id: string } }>(
    '/holds/:id',
    { schema: { operationId: 'getHold', summary: 'A hold and its status', tags: ['holds'], params: idParams, response: { 200: { $ref: 'Hold#' }, ...errorResponses(400, 404) } } },
    async (request) => service.getHold(request.params.id),
  );

  // A retried confirm must not fail: the second answer is the same booking, with 200 instead of 201.
  app.post<{ Params: { id: string } }>(
    '/holds/:id/confirm',
    {
      schema: {
        operationId: 'confirmHold',
        summary: 'Confirm a hold: its tickets become a booking (200 with the same booking when repeated)',
        tags: ['holds'],
        params: idParams,
        response: { 200: { $ref: 'Booking#' }, 201: { $ref: 'Booking#' }, ...errorResponses(400, 403, 404, 409, 410, 503) },
      },
    },
    async (request, reply) => {
      const placed = await service.confirmHold(request.params.id, { buyer: request.ip });
      return sendPlaced(reply, placed, '/bookings', placed.replayed ? 200 : 201);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/holds/:id',
    { schema: { operationId: 'releaseHold', summary: 'Release a hold: its tickets go back on sale', tags: ['holds'], params: idParams, response: { 200: { $ref: 'Hold#' }, ...errorResponses(400, 403, 404, 409, 410, 503) } } },
    async (request) => service.releaseHold(request.params.id),
  );
}
