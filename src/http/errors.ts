import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BoxofficeError, Errors, isBoxofficeError, type ErrorCode } from '../core/errors.js';
import { answerUnmatched, trackAllowedMethods } from './allowed-methods.js';
import { SECURITY_HEADERS } from './security.js';

type SchemaError = { keyword: string; instancePath: string; params: Record<string, unknown>; message?: string };

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  object: 'a JSON object',
  array: 'a list',
  boolean: 'true or false',
};

/** Turns the first JSON-schema failure into a sentence that names the field. */
export function formatSchemaErrors(errors: readonly SchemaError[], dataVar: string): Error {
  const e = errors[0];
  if (!e) return new Error(`The ${dataVar} is invalid.`);
  const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
  const field = path || (dataVar === 'body' ? 'The request body' : `The ${dataVar}`);
  let message: string;
  switch (e.keyword) {
    case 'required':
      message = `${String(e.params.missingProperty)} is required${dataVar === 'querystring' ? ' in the query string' : ''}.`;
      break;
    case 'additionalProperties':
      message = `${String(e.params.additionalProperty)} is not a field this endpoint accepts.`;
      break;
    case 'type':
      // Query values are always text, so a type failure there means the parameter was repeated.
      message =
        dataVar === 'querystring'
          ? `${field} must be given exactly once.`
          : `${field} must be ${TYPE_WORDS[String(e.params.type)] ?? String(e.params.type)}.`;
      break;
    default:
      message = `${field} ${e.message ?? 'is invalid'}.`;
  }
  return Object.assign(new Error(message), { validation: errors, validationContext: dataVar });
}

/** Maps anything thrown while serving a request to one of the API's error codes. */
export function toBoxofficeError(err: FastifyError | Error, bodyLimit: number): BoxofficeError {
  if (isBoxofficeError(err)) return err;
  const e = err as FastifyError;
  if (e.validation) return Errors.invalidRequest(e.message);
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return Errors.unsupportedMediaType(undefined);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return Errors.payloadTooLarge(bodyLimit);
  }
  switch (e.statusCode) {
    case 413:
      return Errors.payloadTooLarge(bodyLimit);
    case 415:
      return Errors.unsupportedMediaType(undefined);
  }
  if (/prototype property/.test(e.message)) {
    return Errors.invalidRequest('The request body contains a forbidden key (__proto__ or constructor.prototype).');
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return Errors.invalidRequest('The request body is not valid JSON.');
  }
  if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500) {
    // Fastify's own client errors (empty JSON body, bad content-length, forbidden __proto__ keys…).
    return Errors.invalidRequest(`The request is malformed: ${e.message.replace(/^FST_\w+:\s*/, '')}`);
  }
  return Errors.internal();
}

/**
 * A request's URL as the log shows it: hold ids masked, since a hold id confirms and releases the
 * hold (nothing in a log may be enough to act on someone's hold).
 */
export function loggedUrl(url: string): string {
  return url.replace(/\/holds\/[^/?#]+/gi, '/holds/:id');
}

const DEBUG_LEVELS = new Set(['debug', 'trace']);

export function registerErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const mapped = toBoxofficeError(err, bodyLimit);
    // Refusals are most answers at a busy door or a sold-out on-sale: nothing is built for a log
    // line the level leaves out.
    if (mapped.code === 'internal_error') request.log.error({ err, url: loggedUrl(request.url), method: request.method }, 'unhandled error');
    else if (mapped.status >= 500) request.log.warn({ err: mapped.cause ?? mapped, url: loggedUrl(request.url) }, mapped.message);
    else if (mapped.status !== 429 && DEBUG_LEVELS.has(request.log.level)) request.log.debug({ code: mapped.code, url: loggedUrl(request.url) }, mapped.message);
    if (mapped.status === 429 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1');
    if (mapped.code === 'unauthorized') reply.header('www-authenticate', 'Bearer realm="boxoffice"');
    if (mapped.replayed) reply.header('idempotent-replayed', 'true');
    void reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.toJSON());
  });
  app.setNotFoundHandler(answerUnmatched(trackAllowedMethods(app)));
}

/**
 * Requests Node's HTTP parser rejects never reach fastify's handlers; answer them on the socket in
 * the API's error shape, then close it (the stream is no longer in a known state).
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // As Node and fastify do: a reset socket needs nothing; otherwise answer, then never wait for the peer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) return void socket.destroy();
  const [code, message]: [ErrorCode, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? ['headers_too_large', 'The request headers are larger than 16 KiB.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? ['request_timeout', 'The request did not arrive in time.']
        : ['invalid_request', 'The request is not valid HTTP.'];
  writeRawError(socket, new BoxofficeError(code, message));
  socket.destroy();
}

/** An `Expect:` other than 100-continue: Node would answer 417 with an empty body. */
export function answerExpectation(_request: IncomingMessage, response: ServerResponse): void {
  const err = new BoxofficeError('expectation_failed', 'The only Expect this server supports is 100-continue.');
  const body = JSON.stringify(err.toJSON());
  response.writeHead(err.status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

/** CONNECT is not something this server does; say so instead of dropping the socket. */
export function answerConnect(socket: Socket): void {
  socket.on('error', () => {});
  writeRawError(socket, Errors.methodNotAllowed('CONNECT', 'this server', 'GET, POST'));
  socket.end();
}

/** Writes a whole answer in the API's shape straight onto a socket that no route will answer. */
export function writeRawError(socket: Socket, err: BoxofficeError, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(err.toJSON());
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(
    `HTTP/1.1 ${err.status} ${STATUS_TEXT[err.status] ?? 'Error'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n${RAW_SECURITY_HEADERS}${extra}Connection: close\r\n\r\n${body}`,
  );
}

// The same headers as every routed answer, for answers written straight onto the socket.
const RAW_SECURITY_HEADERS = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

const STATUS_TEXT: Record<number, string> = { 417: 'Expectation Failed', 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large' };

/** The router's own refusals (bad percent-encoding, over-long path parameters), in the API's shape. */
export function answerFrameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const mapped =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? Errors.invalidRequest('A value in the path is too long.')
      : Errors.invalidRequest('The URL is not valid: check its percent-encoding.');
  void reply.code(mapped.status).type('application/json; charset=utf-8').send(mapped.toJSON());
}
