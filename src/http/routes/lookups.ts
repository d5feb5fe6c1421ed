import type { FastifyInstance } from 'fastify';
import type { TicketService } from '../../core/ticket-service.js';
import { bearerCredential, type AdminAuth } from '../admin-auth.js';
import { ADMIN_SECURITY, cancelBody, errorResponses, idParams } from '../schemas.js';

/**
 * What was sold: a ticket by id (what a door scanner asks), a whole booking, and cancelling one,
 * which the admin or the buyer holding the booking's secret may do.
 */
export function lookupRoutes(app: FastifyInstance, deps: { service: TicketService; auth: AdminAuth }): void {
  const { service } = deps;
  app.get<{ Params: { id: string } }>(
    '/tickets/:id',
    { schema: { operationId: 'getTicket', summary: 'One ticket and whether it is valid', tags: ['bookings'], params: idParams, response: { 200: { $ref: 'Ticket#' }, ...errorResponses(400, 404) } } },
    async (request) => service.getTicket(request.params.id),
  );
  app.get<{ Params: { id: string } }>(
    '/bookings/:id',
    {
      schema: {
        operationId: 'getBooking',
        summary: 'A booking and its tickets (never its secret); with the booking secret (or the admin token) also each ticket\'s door code',
        tags: ['bookings'],
        security: [{}, { bearer: [] }],
        params: idParams,
        response: { 200: { $ref: 'Booking#' }, ...errorResponses(400, 403, 404) },
      },
    },
    async (request) => {
      const admin = deps.auth.isAdmin(request);
      return service.getBooking(request.params.id, { admin, secret: admin ? undefined : bearerCredential(request) });
    },
  );
  app.delete<{ Params: { id: string }; Body: { tickets?: string[] } | undefined }>(
    '/bookings/:id',
    {
      schema: {
        operationId: 'cancelBooking',
        summary: 'Cancel a booking, or some of its tickets (admin token or the booking secret)',
        tags: ['bookings'],
        security: ADMIN_SECURITY,
        params: idParams,
        body: cancelBody,
        response: { 200: { $ref: 'Booking#' }, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
      // The body is optional: no body means "every ticket still valid".
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
    },
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
