import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifySchema } from 'fastify';
import { renderIndex } from './web-static.js';

/**
 * The pages and their files live in the repository's top-level `web/` folder and are served as they
 * are (no build step). This file sits at the same depth under src/ (vitest) and dist/ (the binary),
 * so one relative URL finds the folder from both.
 */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/** Where the pages load their scripts, styles and the QR library from. */
export const ASSETS_PREFIX = '/assets/';

/**
 * The pages run only their own files: no inline script or style (so an injected string can never
 * run), no third party, no framing. `connect-src 'self'` covers fetch and EventSource.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

// Pages and files, not API: left out of the OpenAPI document. (`hide` is declared by @fastify/swagger's
// types, which this file does not import.)
const HIDDEN = { hide: true } as FastifySchema;

// The browser build of qrcode-generator, found the way Node resolves the package, so a hoisted or
// nested node_modules both work.
const QR_DIR = dirname(createRequire(import.meta.url).resolve('qrcode-generator'));
const QR_FILE = 'qrcode.mjs';
// jsQR (Apache-2.0) decodes QR codes from camera frames on the door page; its browser build, served
// from the package like qrcode-generator's.
const JSQR_DIR = dirname(createRequire(import.meta.url).resolve('jsqr'));
const JSQR_FILE = 'jsQR.js';

/** `GET /` (the box office), `GET /admin`, `GET /door`, and their files under /assets/. */
export function webRoutes(app: FastifyInstance): void {
  void app.register(fastifyStatic, {
    root: WEB_ROOT,
    prefix: ASSETS_PREFIX,
    // One route per file, found at start: an unknown path never reaches the file system and gets
    // the API's own 404. The pages are served only at /, /admin and /door, where they carry the CSP.
    wildcard: false,
    globIgnore: ['**/*.html'],
    index: false,
    dotfiles: 'ignore',
    // security.ts sends `cache-control: no-store` on every answer, so validators and ranges would buy
    // nothing; without them every answer is a plain 200 with the whole file, as the API's are.
    cacheControl: false,
    etag: false,
    lastModified: false,
    acceptRanges: false,
  });

  const page = (file: string) => (_request: unknown, reply: FastifyReply) =>
    reply.header('content-security-policy', PAGE_CSP).sendFile(file, WEB_ROOT);
  // The box office carries the events on sale in its HTML (read per request: the files are served as they are).
  app.get('/', { schema: HIDDEN }, async (_request, reply) => {
    const html = await renderIndex(app, await readFile(`${WEB_ROOT}index.html`, 'utf8'));
    return reply.header('content-security-policy', PAGE_CSP).type('text/html; charset=utf-8').send(html);
  });
  app.get('/admin', { schema: HIDDEN }, page('admin.html'));
  app.get('/door', { schema: HIDDEN }, page('door.html'));
  // A buyer's booking: its id and secret travel in the fragment, which never reaches the server.
  app.get('/booking', { schema: HIDDEN }, page('booking.html'));

  app.get(`${ASSETS_PREFIX}vendor/${QR_FILE}`, { schema: HIDDEN }, (_request, reply) => reply.sendFile(QR_FILE, QR_DIR));
  app.get(`${ASSETS_PREFIX}vendor/${JSQR_FILE}`, { schema: HIDDEN }, (_request, reply) => reply.sendFile(JSQR_FILE, JSQR_DIR));
}
