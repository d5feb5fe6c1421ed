import type { FastifyReply } from 'fastify';
import type { Placed } from '../core/ticket-service.js';

/**
 * Answers a booking or hold with its original status. A repeat of an idempotent request says so in
 * `Idempotent-Replayed: true`, so a client can tell a retry's answer from a fresh one.
 */
export function sendPlaced<T extends { id: string }>(reply: FastifyReply, placed: Placed<T>, location: string, status = 201): FastifyReply {
  if (placed.replayed) reply.header('idempotent-replayed', 'true');
  return reply.code(status).header('location', `${location}/${placed.value.id}`).send(placed.value);
}
