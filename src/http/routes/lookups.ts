import type { FastifyInstance } from 'fastify';
import type { TicketService } from '../../core/ticket-service.js';
import { bearerCredential, type AdminAuth } from '../admin-auth.js';
import { cancelBody, idParams } from '../schemas.js';

/**
 * What was sold: a ticket by id (what a door scanner asks), a whole booking, and cancelling one,
 * which the admin or the buyer holding the booking's secret may do.
 */
export function lookupRoutes(app: FastifyInstance, deps: { service: TicketService; auth: AdminAuth }): void {
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
  app.delete<{ Params: { id: string }; Body: { tickets?: string[] } | undefined }>(
    '/bookings/:id',
    { schema: { params: idParams, body: cancelBody, response: { 200: { $ref: 'Booking#' } } } },
    async (request) => {
      const admin = deps.auth.isAdmin(request);
      return service.cancelBooking(request.params.id, {
        admin,
        secret: admin ? undefined : bearerCredential(request),
        tickets: request.body?.tickets,
      });
    },
  );
}
