import { ApiError } from './api-error.js';
import type { RetryCause } from './types.js';

/* Small helpers of the client's HTTP calls. */

/** Waits `ms`, or rejects as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Whether a failure may be retried, and why. A 429 is decided before the request is looked at, so
 * anything may be sent again. Anything else (a 503, a timeout, no answer) may have happened after the
 * server acted, so only a request the server recognises as a repeat is sent again.
 */
export function retryCause(err: unknown, resendable: boolean): RetryCause | undefined {
  if (!(err instanceof ApiError)) return undefined;
  if (err.status === 429) return 'busy';
  if (!resendable) return undefined;
  if (err.status === 503) return 'unavailable';
  if (err.status === 0 && err.code === 'unreachable') return 'unreachable';
  if (err.status === 0 && err.code === 'timeout') return 'timeout';
  return undefined;
}

/** `Retry-After` as seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not a URL: ${raw} (expected something like http://localhost:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`not an http(s) URL: ${raw}`);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
