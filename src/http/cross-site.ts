import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Errors } from '../core/errors.js';
import type { Metrics } from './metrics.js';

/** Methods that change something; GET, HEAD and OPTIONS (CORS preflights) are never refused here. */
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface CrossSiteOptions {
  /** Browser origins allowed to write from another site (`--cors-origin`), as `scheme://host[:port]`. */
  trustedOrigins: readonly string[];
  metrics: Metrics;
}

/**
 * Refuses state-changing requests that a browser sent on behalf of a page from another origin,
 * unless that origin is trusted (`--cors-origin`). A page anywhere on the web can make a visitor's
 * browser POST to this server (a `no-cors` fetch, a form): without this check, `/reserve` books for
 * it, from the visitor's own address. No token or cookie is involved, so this is not classic CSRF
 * with a session, but the defence is the same.
 *
 * The rule is the one Go 1.25's `net/http.CrossOriginProtection` uses (token-free, from Fetch
 * Metadata), with the scheme check below added:
 * 1. `Sec-Fetch-Site` is set by every current browser and cannot be set by a page's script: `same-origin`
 *    or `none` (the user's own navigation) pass; `same-site` and `cross-site` pass only from a trusted origin.
 * 2. Without it (an older browser), an `Origin` header decides: its host must be the request's own
 *    host (`request.host`: Host, or X-Forwarded-Host from a trusted proxy) or the origin must be trusted.
 *    `Origin: null` (sandboxed frames, file: pages, some redirects) is never ours.
 * 3. With neither header the request did not come from a browser page (curl, the original Go client,
 *    the TUIs, Node's fetch): it passes, so every client that is not a browser keeps working unchanged.
 *
 * Step 2 compares hosts, not schemes, because behind a TLS-terminating proxy that sends no
 * X-Forwarded-Proto the server believes it is on http while the page is on https. The one scheme
 * mismatch refused is the downgrade: an http page writing to a server known to be on https.
 */
export function registerCrossSiteCheck(app: FastifyInstance, options: CrossSiteOptions): void {
  const trusted = new Set(options.trustedOrigins);
  app.addHook('onRequest', (request, _reply, done) => {
    if (!UNSAFE_METHODS.has(request.method)) return done();
    const origin = request.headers.origin;
    if (isAllowed(request, origin, trusted)) return done();
    options.metrics.refused.inc({ reason: 'cross_site' });
    request.log.debug({ origin, site: request.headers['sec-fetch-site'], url: request.url }, 'cross-site write refused');
    done(Errors.crossSiteRequest(origin));
  });
}

function isAllowed(request: FastifyRequest, origin: string | undefined, trusted: ReadonlySet<string>): boolean {
  const site = request.headers['sec-fetch-site'];
  if (origin !== undefined && trusted.has(origin)) return true;
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  if (origin === undefined) return true;
  return isOwnOrigin(request, origin);
}

function isOwnOrigin(request: FastifyRequest, origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // `null` and anything else that is not an origin
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (request.protocol === 'https' && url.protocol === 'http:') return false;
  // URL drops a scheme's default port (`:80`, `:443`); drop it from the Host header the same way.
  return url.host === normaliseHost(request.host, url.protocol);
}

function normaliseHost(host: string, protocol: string): string {
  const lower = host.toLowerCase();
  const port = protocol === 'https:' ? ':443' : ':80';
  return lower.endsWith(port) ? lower.slice(0, -port.length) : lower;
}
