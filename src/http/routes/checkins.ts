import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import type { TicketService } from '../../core/ticket-service.js';
import type { DoorAuth } from '../door-auth.js';
import {
  ADMIN_SECURITY,
  checkinReportSchema,
  doorBody,
  doorListSchema,
  doorSelfSchema,
  doorParams,
  errorResponses,
  idParams,
  scanBody,
  settingsBody,
  syncBody,
  syncResponseSchema,
} from '../schemas.js';

/** Up to 1,000 offline scans of ~250 bytes each: the one route with a body larger than 16 KiB. */
export const SYNC_BODY_LIMIT = 512 * 1024;

/**
 * Check-in at the door (issue 14): doors and settings (admin token), scans and the door list (door
 * token, own event only), and the organiser's views. Handlers only call the check-in service.
 */
export function checkinRoutes(app: FastifyInstance, deps: { service: TicketService; adminOnly: onRequestHookHandler; doors: DoorAuth }): void {
  const checkins = deps.service.checkins;
  const { adminOnly } = deps;
  const { doorOnly, doorOf } = deps.doors;
  const tags = ['check-in'];

  app.post<{ Params: { id: string }; Body: unknown }>(
    '/events/:id/doors',
    {
      onRequest: adminOnly,
      schema: { operationId: 'createDoor', summary: 'Create a door device (admin); its token is shown only here', tags, security: ADMIN_SECURITY, params: idParams, body: doorBody, response: { 201: { $ref: 'Door#' }, ...errorResponses(400, 401, 403, 404, 503) } },
    },
    async (request, reply) => {
      const door = await checkins.createDoor(request.params.id, request.body);
      return reply.code(201).header('location', `/events/${door.eventId}/doors/${door.id}`).header('cache-control', 'no-store').send(door);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id/doors',
    { onRequest: adminOnly, schema: { operationId: 'listDoors', summary: "The event's doors, with what each admitted (admin)", tags, security: ADMIN_SECURITY, params: idParams, response: { 200: { type: 'array', items: { $ref: 'Door#' } }, ...errorResponses(400, 401, 404) } } },
    async (request) => checkins.listDoors(request.params.id),
  );

  app.delete<{ Params: { id: string; doorId: string } }>(
    '/events/:id/doors/:doorId',
    { onRequest: adminOnly, schema: { operationId: 'revokeDoor', summary: 'Revoke a door: its token is refused from now on (admin)', tags, security: ADMIN_SECURITY, params: doorParams, response: { 200: { $ref: 'Door#' }, ...errorResponses(400, 401, 404, 503) } } },
    async (request) => checkins.revokeDoor(request.params.id, request.params.doorId),
  );

  app.put<{ Params: { id: string }; Body: unknown }>(
    '/events/:id/checkin-settings',
    {
      onRequest: adminOnly,
      schema: { operationId: 'setCheckinSettings', summary: 'Allow or forbid offline check-in for the event (admin)', tags, security: ADMIN_SECURITY, params: idParams, body: settingsBody, response: { 200: { $ref: 'Event#' }, ...errorResponses(400, 401, 404, 503) } },
    },
    async (request) => checkins.setOfflineCheckIn(request.params.id, request.body),
  );

  app.post<{ Params: { id: string }; Body: unknown }>(
    '/events/:id/checkins',
    {
      onRequest: doorOnly,
      schema: {
        operationId: 'checkIn',
        summary: 'Scan a ticket code at the door (door token); a repeated nonce answers the first answer again',
        tags,
        security: ADMIN_SECURITY,
        params: idParams,
        body: scanBody,
        response: { 200: { $ref: 'ScanResult#' }, ...errorResponses(400, 401, 403, 404, 409, 410, 422, 503) },
      },
    },
    async (request, reply) => {
      const { scan, replayed } = await checkins.checkIn(doorOf(request), request.params.id, request.body);
      if (replayed) reply.header('idempotent-replayed', 'true');
      return scan;
    },
  );

  app.post<{ Params: { id: string }; Body: unknown }>(
    '/events/:id/checkins/sync',
    {
      onRequest: doorOnly,
      bodyLimit: SYNC_BODY_LIMIT,
      schema: {
        operationId: 'syncScans',
        summary: "Upload a door's offline scans (door token); each is recorded once, conflicts reported",
        tags,
        security: ADMIN_SECURITY,
        params: idParams,
        body: syncBody,
        response: { 200: syncResponseSchema, ...errorResponses(400, 401, 403, 404, 413, 503) },
      },
    },
    async (request) => checkins.sync(doorOf(request), request.params.id, request.body),
  );

  app.get(
    '/doors/self',
    { onRequest: deps.doors.anyDoor, schema: { operationId: 'doorSelf', summary: 'Which door this token is, and for which event (door token)', tags, security: ADMIN_SECURITY, response: { 200: doorSelfSchema, ...errorResponses(401) } } },
    async (request) => checkins.doorSelf(doorOf(request)),
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id/door-list',
    { onRequest: doorOnly, schema: { operationId: 'doorList', summary: 'What an offline door needs: public key, cancelled and admitted tickets (door token)', tags, security: ADMIN_SECURITY, params: idParams, response: { 200: doorListSchema, ...errorResponses(400, 401, 403, 404) } } },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      const list = await checkins.doorList(doorOf(request), request.params.id);
      return { ...list, publicKeys: deps.service.codes.publicKeys(list.eventId) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id/checkins',
    { onRequest: adminOnly, schema: { operationId: 'checkinReport', summary: 'Checked-in count, the last 50 scans and every conflict (admin)', tags, security: ADMIN_SECURITY, params: idParams, response: { 200: checkinReportSchema, ...errorResponses(400, 401, 404) } } },
    async (request) => checkins.report(request.params.id),
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id/attendees.csv',
    { onRequest: adminOnly, schema: { operationId: 'attendeesCsv', summary: 'Every ticket with its booking and check-in, as CSV (admin)', tags, security: ADMIN_SECURITY, params: idParams, produces: ['text/csv'], response: { 200: { description: 'ticket_id,booking_id,booked_at,status,checked_in_at,door: one row per ticket', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errorResponses(400, 401, 404) } } },
    async (request, reply) => {
      const csv = await checkins.attendeesCsv(request.params.id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="attendees-${request.params.id.toLowerCase()}.csv"`)
        .header('cache-control', 'no-store')
        .send(csv);
    },
  );
}
