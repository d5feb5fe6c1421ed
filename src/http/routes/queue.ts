import type { FastifyInstance, FastifyReply, onRequestHookHandler } from 'fastify';
import type { TicketService } from '../../core/ticket-service.js';
import type { QueueEntry } from '../../core/types.js';
import { ADMIN_SECURITY, errorResponses, idParams } from '../schemas.js';

/** The buyer's cookie: the entry's token, so a repeat join from the same browser finds the same entry. */
export const QUEUE_COOKIE = 'bo_queue';

const nullable = (type: 'string' | 'integer', extra: Record<string, unknown> = {}) => ({ type, nullable: true, ...extra });
const entrySchema = {
  type: 'object',
  required: ['id', 'eventId', 'token', 'state', 'position', 'ahead', 'etaSeconds', 'joinedAt', 'shuffleAt', 'pass', 'passExpiresAt', 'heldElsewhere'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    eventId: { type: 'string', format: 'uuid' },
    token: { type: 'string', description: 'Proves the entry: send it as the Queue-Token header.' },
    state: { type: 'string', enum: ['waiting', 'admitted', 'done', 'expired', 'sold_out'] },
    position: nullable('integer', { description: 'From 1; null until the sale opens and the pre-sale order is drawn. Final once set.' }),
    ahead: nullable('integer', { description: 'People in front still waiting.' }),
    etaSeconds: nullable('integer', { description: 'Estimated wait, from the measured admission rate.' }),
    joinedAt: { type: 'string', format: 'date-time' },
    shuffleAt: nullable('string', { format: 'date-time', description: "When the pre-sale order is drawn (the event's onSaleAt)." }),
    pass: nullable('string', { description: 'Once admitted: the single-use Admission-Pass for one hold or booking.' }),
    passExpiresAt: nullable('string', { format: 'date-time' }),
    heldElsewhere: { type: 'boolean', description: 'Nothing is available but tickets are held by others: the line waits for them.' },
  },
} as const;

const summarySchema = {
  type: 'object',
  required: ['eventId', 'length', 'waiting', 'admitted', 'inProgress', 'done', 'expired', 'serving', 'window', 'paused', 'admitRatePerMinute', 'open', 'opensAt', 'onSaleAt'],
  properties: {
    eventId: { type: 'string', format: 'uuid' },
    length: { type: 'integer' },
    waiting: { type: 'integer' },
    admitted: { type: 'integer', description: 'Admitted so far (the serving position).' },
    inProgress: { type: 'integer', description: 'Admitted with a pass neither used nor expired: counts against the window.' },
    done: { type: 'integer' },
    expired: { type: 'integer' },
    serving: { type: 'integer' },
    window: { type: 'integer' },
    paused: { type: 'boolean' },
    admitRatePerMinute: { type: 'integer' },
    open: { type: 'boolean' },
    opensAt: nullable('string', { format: 'date-time' }),
    onSaleAt: nullable('string', { format: 'date-time' }),
  },
} as const;

const entryParams = {
  type: 'object',
  required: ['id', 'entryId'],
  properties: { id: { type: 'string' }, entryId: { type: 'string' } },
} as const;

/** The cookie's value, when the request carries one (no cookie library for one name). */
function queueCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === QUEUE_COOKIE) return value.join('=');
  }
  return undefined;
}

function sendEntry(reply: FastifyReply, entry: QueueEntry, created: boolean) {
  reply.header('set-cookie', `${QUEUE_COOKIE}=${entry.token}; HttpOnly; SameSite=Lax; Path=/`);
  return reply.code(created ? 201 : 200).send(entry);
}

/** The virtual waiting room (issue 13): join, poll one's entry, and the organiser's summary, pause and resume. */
export function queueRoutes(app: FastifyInstance, deps: { service: TicketService; adminOnly: onRequestHookHandler }): void {
  const { service } = deps;
  const tags = ['waiting room'];

  app.post<{ Params: { id: string } }>(
    '/events/:id/queue',
    {
      schema: {
        operationId: 'joinQueue',
        summary: "Join the event's waiting room (a repeat from the same buyer answers the same entry, 200)",
        description: 'Keyed on the client address and the bo_queue cookie. Before onSaleAt the entry has no position: everyone who joined before is shuffled when the sale opens.',
        tags,
        params: idParams,
        response: { 200: entrySchema, 201: entrySchema, ...errorResponses(400, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { entry, created } = await service.queue.join(request.params.id, request.ip, queueCookie(request.headers.cookie));
      return sendEntry(reply, entry, created);
    },
  );

  app.get<{ Params: { id: string; entryId: string } }>(
    '/events/:id/queue/:entryId',
    {
      schema: {
        operationId: 'getQueueEntry',
        summary: 'One entry of the line, for the holder of its token: state, position, ETA and, once admitted, the pass',
        tags,
        params: entryParams,
        headers: { type: 'object', properties: { 'queue-token': { type: 'string', description: 'The token the join answered.' } } },
        response: { 200: entrySchema, ...errorResponses(400, 403, 404, 503) },
      },
    },
    async (request) => service.queue.status(request.params.id, request.params.entryId, request.headers['queue-token']),
  );

  const admin = { onRequest: deps.adminOnly, security: ADMIN_SECURITY };
  app.get<{ Params: { id: string } }>(
    '/events/:id/queue',
    {
      onRequest: admin.onRequest,
      schema: { operationId: 'queueSummary', summary: "The line's length, admitted, in progress, rate, paused (admin)", tags, security: admin.security, params: idParams, response: { 200: summarySchema, ...errorResponses(400, 401, 403, 404, 409, 503) } },
    },
    async (request) => service.queue.summary(request.params.id),
  );
  for (const [action, paused] of [['pause', true], ['resume', false]] as const) {
    app.post<{ Params: { id: string } }>(
      `/events/:id/queue/${action}`,
      {
        onRequest: admin.onRequest,
        schema: {
          operationId: `${action}Queue`,
          summary: paused ? 'Stop admitting from the line (admin; repeating it is harmless)' : 'Admit from the line again (admin)',
          tags,
          security: admin.security,
          params: idParams,
          response: { 200: summarySchema, ...errorResponses(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request) => service.queue.setPaused(request.params.id, paused),
    );
  }
}
