/**
 * Every failure the client reports: an answer from the server (`status` and the server's own `code`
 * and `message`), or no answer at all (`status` 0, code `unreachable`, a sentence naming the address).
 */
export class ApiError extends Error {
  override name = 'ApiError';
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  /** The API's error code (`not_enough_tickets`, …), `unreachable`, `timeout` or `http_error`. */
  readonly code: string;
  /** Seconds the server asked us to wait (Retry-After), when it said. */
  readonly retryAfter: number | undefined;
  /** Fields of the error answer beside `error` and `message` (e.g. `firstCheckIn` of `already_checked_in`). */
  readonly details: Record<string, unknown> | undefined;

  constructor(init: { status: number; code: string; message: string; retryAfter?: number; cause?: unknown; details?: Record<string, unknown> }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.retryAfter = init.retryAfter;
    this.details = init.details;
  }

  /** True when no HTTP answer arrived (refused, reset, DNS, timeout). */
  get unreachable(): boolean {
    return this.status === 0;
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the server',
  UND_ERR_CLOSED: 'connection closed',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out',
  UND_ERR_HEADERS_TIMEOUT: 'timed out',
  UND_ERR_BODY_TIMEOUT: 'timed out',
};

/** A short reason for a failed fetch ("connection refused"), digging through undici's causes. */
export function describeNetworkError(err: unknown): { code: string; reason: string } {
  const seen = new Set<unknown>();
  let current: unknown = err;
  while (current && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    const e = current as { name?: string; code?: string; errors?: unknown[]; cause?: unknown; message?: string };
    if (e.name === 'TimeoutError') return { code: 'timeout', reason: 'timed out' };
    if (e.code && REASONS[e.code]) return { code: 'unreachable', reason: REASONS[e.code]! };
    if (Array.isArray(e.errors) && e.errors.length > 0) {
      const inner = describeNetworkError(e.errors[0]);
      if (inner.reason) return inner;
    }
    if (!e.cause) {
      const message = e.message && e.message !== 'fetch failed' ? e.message : 'no answer';
      return { code: 'unreachable', reason: e.code ? `${message} (${e.code})` : message };
    }
    current = e.cause;
  }
  return { code: 'unreachable', reason: String(err) };
}
