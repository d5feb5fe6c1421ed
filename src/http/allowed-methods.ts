import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { Errors } from '../core/errors.js';

/**
 * Which methods a path answers to, so a wrong method gets `405` with `Allow` (as HTTP asks) rather
 * than a `404` that reads as "no such thing". Fastify's own router answers 404 for both; a second
 * find-my-way index of the same routes (fed as they are added) tells the two apart without
 * touching the hot path: it is only consulted for requests that matched nothing.
 */
export function trackAllowedMethods(app: FastifyInstance): (request: FastifyRequest) => string[] {
  const index = FindMyWay({ ignoreTrailingSlash: false });
  const methods = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      methods.add(method);
      // Fastify adds the same path with other constraints (HEAD for GET); the first one is enough.
      if (!index.hasRoute(method as HTTPMethod, route.url)) index.on(method as HTTPMethod, route.url, () => undefined);
    }
  });
  return (request) => {
    const path = request.url.split('?')[0] ?? '/';
    return [...methods].filter((method) => index.find(method as HTTPMethod, path) !== null).sort();
  };
}

/** The not-found answer: 405 + Allow when the path exists under other methods, else 404. */
export function answerUnmatched(allowedFor: (request: FastifyRequest) => string[]) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    let allowed: string[] = [];
    try {
      allowed = allowedFor(request);
    } catch {
      // A path find-my-way cannot parse is simply not a route.
    }
    const err =
      allowed.length > 0
        ? Errors.methodNotAllowed(request.method, request.url.split('?')[0] ?? '/', allowed.join(', '))
        : Errors.routeNotFound(request.method, request.url);
    if (allowed.length > 0) reply.header('allow', allowed.join(', '));
    void reply.code(err.status).type('application/json; charset=utf-8').send(err.toJSON());
  };
}
