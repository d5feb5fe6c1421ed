import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import { Errors } from '../core/errors.js';
import type { TicketService } from '../core/ticket-service.js';
import type { Door } from '../core/types.js';
import { bearerCredential } from './admin-auth.js';

/**
 * Door tokens (issue 14): a door may call its own event's three door routes and nothing else. The
 * token travels only in `Authorization: Bearer` (a query string is never read); the service compares
 * its SHA-256 with the stored hash in constant time. Nothing here logs the token.
 */
export interface DoorAuth {
  /** A door token of the event in the path (`:id`). */
  doorOnly: onRequestHookHandler;
  /** Any valid door token, whatever its event (for `GET /doors/self`: which event is this door for?). */
  anyDoor: onRequestHookHandler;
  /** The door the request authenticated as (set by `doorOnly`). */
  doorOf(request: FastifyRequest): Door;
}

export function doorAuth(service: TicketService): DoorAuth {
  const doors = new WeakMap<FastifyRequest, Door>();
  const authenticate = async (request: FastifyRequest): Promise<Door> => {
    const token = bearerCredential(request);
    if (token === undefined) throw Errors.doorUnauthorized();
    const door = await service.checkins.authenticateDoor(token);
    if (!door) throw Errors.doorUnauthorized();
    if (door.revokedAt) throw Errors.doorRevoked();
    doors.set(request, door);
    return door;
  };
  return {
    doorOnly: async (request) => {
      const door = await authenticate(request);
      const eventId = (request.params as { id?: unknown }).id;
      if (typeof eventId !== 'string' || eventId.toLowerCase() !== door.eventId) throw Errors.wrongEvent('door');
    },
    anyDoor: async (request) => {
      await authenticate(request);
    },
    doorOf: (request) => {
      const door = doors.get(request);
      if (!door) throw Errors.doorUnauthorized();
      return door;
    },
  };
}
