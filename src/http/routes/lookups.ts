import type { FastifyInstance } from 'fastify';
import type { TicketService } from '../../core/ticket-service.js';
import { idParams } from '../schemas.js';

/** Read-back of what was sold: a ticket by id (what a door scanner asks) and a whole booking. */
export function lookupRoutes(app: FastifyInstance, deps: { service: TicketService }): void {
  const { service } = deps;
  app.get<{ Params: { id: string } }>(
    '/tickets/:id',
    { schema: { params: idParams, response: { 200: { $ref: 'Ticket#' } } } },
    async (request) => service.getTicket(request.params.id),
  );
  app.get<{ Params: { id: string } }>(
    '/bookings/:id',
    { schema: { params: idParams, response: { 200: { $ref: 'Booking#' } } } },
    async (request) => service.getBooking(request.params.id),
  );
}
