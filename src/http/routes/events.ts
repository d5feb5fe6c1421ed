import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { Errors } from '../../core/errors.js';
import type { TicketService } from '../../core/ticket-service.js';
import { acceptsGzip, type ListSnapshot } from '../list-snapshot.js';
import { sendPlaced } from '../replies.js';
import { ADMIN_SECURITY, bookingBody, bookingsPageSchema, bookingsQuery, errorResponses, eventPatchBody, idempotencyHeaders, idParams, newEventBody } from '../schemas.js';

const JSON_TYPE = 'application/json; charset=utf-8';
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

/** `?offset=&limit=`: undefined when neither is given (the original, unpaged protocol). */
function parsePage(query: Record<string, unknown>): { offset: number; limit: number } | undefined {
  const { offset, limit } = query;
  if (offset === undefined && limit === undefined) return undefined;
  const number = (raw: unknown, name: string, min: number, max: number, fallback: number): number => {
    if (raw === undefined) return fallback;
    if (typeof raw !== 'string' || !/^\d{1,10}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw Errors.invalidRequest(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return Number(raw);
  };
  return { offset: number(offset, 'offset', 0, 1_000_000_000, 0), limit: number(limit, 'limit', 1, MAX_PAGE, DEFAULT_PAGE) };
}

/** If-None-Match against our ETag: a list of tags (weak ones compare too, as RFC 9110 says for GET) or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === etag || t === `W/${etag}`;
  });
}

/** The REST API over events: list, create (admin), read, book. `GET /events` is also the original protocol. */
export function eventRoutes(app: FastifyInstance, deps: { service: TicketService; adminOnly: onRequestHookHandler; snapshot: ListSnapshot }): void {
  const { service } = deps;

  const listSchema = {
    operationId: 'listEvents',
    summary: 'All events with live counts (also the original protocol); ?offset=&limit= for a page',
    description:
      'Without parameters, the whole list (the original protocol). With `offset` and/or `limit` (1 to ' +
      `${MAX_PAGE}, default ${DEFAULT_PAGE}), one page, with X-Total-Count and a Link rel="next" header while more follow. ` +
      'Every answer carries an ETag; If-None-Match with it answers 304. The whole list is gzipped when the client accepts it.',
    tags: ['events'],
    response: { 200: { type: 'array', items: { $ref: 'Event#' } }, ...errorResponses(400) },
  };
  app.get<{ Querystring: Record<string, unknown> }>('/events', { schema: listSchema }, async (request, reply) => {
    const page = parsePage(request.query);
    // The version first, then the events: a page is then at least as new as its ETag, never older.
    const version = await deps.snapshot.get();
    // Cache-Control stays no-store (security.ts): no shared cache keeps live counts, while a client
    // that kept the last body itself revalidates it with If-None-Match for the price of a 304.
    reply.header('etag', version.etag);
    if (!page) reply.header('vary', 'accept-encoding');
    if (matchesEtag(request.headers['if-none-match'], version.etag)) return reply.code(304).send();
    if (page) {
      const events = await service.listEvents();
      const slice = events.slice(page.offset, page.offset + page.limit);
      reply.header('x-total-count', String(events.length));
      const next = page.offset + slice.length;
      if (next < events.length) reply.header('link', `</events?offset=${next}&limit=${page.limit}>; rel="next"`);
      return reply.type(JSON_TYPE).send(JSON.stringify(slice));
    }
    if (acceptsGzip(request.headers['accept-encoding'])) {
      const gzipped = await version.gzipped();
      return reply.type(JSON_TYPE).header('content-encoding', 'gzip').send(gzipped);
    }
    return reply.type(JSON_TYPE).send(version.body);
  });

  app.post<{ Body: unknown }>(
    '/events',
    {
      onRequest: deps.adminOnly,
      schema: { operationId: 'createEvent', summary: 'Create an event (admin)', tags: ['events'], security: ADMIN_SECURITY, body: newEventBody, response: { 201: { $ref: 'Event#' }, ...errorResponses(400, 401, 403) } },
    },
    async (request, reply) => {
      const event = await service.createEvent(request.body);
      return reply.code(201).header('location', `/events/${event.id}`).send(event);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/events/:id',
    { schema: { operationId: 'getEvent', summary: 'One event', tags: ['events'], params: idParams, response: { 200: { $ref: 'Event#' }, ...errorResponses(400, 404) } } },
    async (request) => service.getEvent(request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: unknown }>(
    '/events/:id',
    {
      onRequest: deps.adminOnly,
      schema: {
        operationId: 'updateEvent',
        summary: 'Change an event: name, date, description, venue, time zone, limits, buyer details, open or close sales (admin)',
        description: 'Any subset of the fields; totalTickets may not go below what is sold and held (409 invalid_stock). A past event may be edited.',
        tags: ['events'],
        security: ADMIN_SECURITY,
        params: idParams,
        body: eventPatchBody,
        response: { 200: { $ref: 'Event#' }, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => service.lifecycle.updateEvent(request.params.id, request.body),
  );

  app.post<{ Params: { id: string } }>(
    '/events/:id/cancel',
    {
      onRequest: deps.adminOnly,
      schema: {
        operationId: 'cancelEvent',
        summary: 'Cancel an event: every booking cancelled, holds released, nothing more sold (admin; repeating it is harmless)',
        tags: ['events'],
        security: ADMIN_SECURITY,
        params: idParams,
        response: { 200: { $ref: 'Event#' }, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => service.lifecycle.cancelEvent(request.params.id),
  );

  app.get<{ Params: { id: string }; Querystring: Record<string, unknown> }>(
    '/events/:id/bookings',
    {
      onRequest: deps.adminOnly,
      schema: {
        operationId: 'listEventBookings',
        summary: "The event's bookings with buyers' details and check-ins, newest first, with search (admin)",
        tags: ['bookings'],
        security: ADMIN_SECURITY,
        params: idParams,
        querystring: bookingsQuery,
        response: { 200: bookingsPageSchema, ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => service.lifecycle.bookings(request.params.id, request.query),
  );

  app.post<{ Params: { id: string }; Body: { tickets: number; buyer?: unknown } }>(
    '/events/:id/bookings',
    {
      schema: {
        operationId: 'bookTickets',
        summary: 'Book tickets at once',
        tags: ['bookings'],
        params: idParams,
        headers: idempotencyHeaders,
        body: bookingBody,
        response: { 201: { $ref: 'Booking#' }, ...errorResponses(400, 403, 404, 409, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const placed = await service.book(request.params.id, request.body.tickets, {
        idempotencyKey: request.headers['idempotency-key'],
        admissionPass: request.headers['admission-pass'],
        buyer: request.ip,
        contact: request.body.buyer,
      });
      return sendPlaced(reply, placed, '/bookings');
    },
  );
}
