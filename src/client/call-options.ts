import type { BuyerContact, RetryNotice } from './types.js';

/** The options of `BoxofficeClient` and of its calls (kept apart so the client file stays small). */

export interface ClientOptions {
  /** `http://host:port` of the server. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` on admin requests. */
  adminToken?: string;
  /** A door token (`bod_…`), sent on the door calls: checkIn, doorList, syncScans. */
  doorToken?: string;
  /** How long one request may take before it fails with code `timeout` (default 10 s). */
  timeoutMs?: number;
  /**
   * How many times a failed request is retried before the failure is reported (default 4): a 429
   * always; a 503, a timeout or no answer only when the call is safe to repeat (see `KeyedCallOptions`).
   */
  maxRetries?: number;
  /** First backoff when the server gives no Retry-After; doubles per retry (default 500 ms). */
  baseRetryDelayMs?: number;
  /** Longest wait between retries; a longer Retry-After is reported instead of waited for (default 10 s). */
  maxRetryDelayMs?: number;
  /** Hears every wait before a retry, e.g. to show "Server busy, retrying in 1 s…". */
  onRetry?: (notice: RetryNotice) => void;
  /** Replaces `fetch` (tests). */
  fetch?: typeof fetch;
  /** Replaces the timer used for backoff (tests). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's `onRetry` for this call. */
  onRetry?: (notice: RetryNotice) => void;
}

/**
 * For the calls that take something (bookings, holds). Each call sends an `Idempotency-Key`, the
 * same on every retry of that call, so the server answers a repeat with the first answer instead of
 * booking again. That is what makes it safe to retry these calls when the answer was lost (no
 * answer, a timeout) or the server was briefly unavailable (503), not only on 429.
 */
export interface KeyedCallOptions extends CallOptions {
  /** The buyer's name and email (`POST` bookings and holds): the organiser sees them, nobody else. */
  buyer?: BuyerContact;
  /**
   * The key to send (1…200 visible ASCII characters), e.g. to repeat a call across restarts of the
   * caller. Default: a fresh UUID per call. Reusing a key for a different request is refused (422).
   */
  idempotencyKey?: string;
  /** The waiting room's admission pass (`Admission-Pass` header), for events with a waiting room. */
  admissionPass?: string;
}

/** A call made with a credential other than the client's own (admin or door token). */
export type TokenOptions = CallOptions & { token?: string };

export interface CancelOptions extends CallOptions {
  /** The booking's secret (from the answer that created it). Default: the client's admin token. */
  secret?: string;
  /** Cancel only these tickets of the booking. Default: all of them. */
  tickets?: string[];
}
