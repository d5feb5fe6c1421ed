import type { FastifyInstance } from 'fastify';
import { Errors } from '../../core/errors.js';
import type { TicketService } from '../../core/ticket-service.js';
import { errorResponses, idempotencyHeaders, reserveQuery } from '../schemas.js';

const ticketIdList = { type: 'array', items: { type: 'string' } } as const;

/**
 * The original protocol, byte-compatible for old clients: `POST /reserve?eventId=..&tickets=n`
 * answers 200 with a JSON array of ticket ids. Unlike the original, it never books on GET.
 */
export function legacyRoutes(app: FastifyInstance, deps: { service: TicketService }): void {
  const { service } = deps;
  app.post<{ Querystring: { eventId: string; tickets: string } }>(
    '/reserve',
    {
      schema: {
        operationId: 'reserve',
        summary: 'The original protocol: book and answer the ticket ids',
        tags: ['original protocol'],
        querystring: reserveQuery,
        headers: idempotencyHeaders,
        response: { 200: ticketIdList, ...errorResponses(400, 403, 404, 409, 422, 429, 503) },
      },
      // Old clients post an empty body labelled application/json; the protocol reads only the
      // query string, so an empty body is no body, whatever its label.
      onRequest: (request, _reply, done) => {
        const length = request.headers['content-length'];
        if (request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) {
          delete request.headers['content-type'];
        }
        done();
      },
    },
    async (request, reply) => {
      // A key is the same booking whichever route it came through, so a retry may switch routes.
      const placed = await service.reserve(request.query.eventId, request.query.tickets, {
        idempotencyKey: request.headers['idempotency-key'],
        admissionPass: request.headers['admission-pass'],
        buyer: request.ip,
      });
      if (placed.replayed) reply.header('idempotent-replayed', 'true');
      return placed.value;
    },
  );
}
