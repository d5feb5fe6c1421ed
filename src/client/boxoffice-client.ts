import { randomUUID } from 'node:crypto';
import { ApiError, describeNetworkError } from './api-error.js';
import { subscribeToEvents, type EventSubscription, type SubscribeHandlers, type SubscribeOptions } from './event-stream.js';
import { abortableSleep, formatSeconds, normaliseBaseUrl, parseRetryAfter, retryCause } from './http-util.js';
import type { AdminBookingsPage, Booking, QueueEntry, QueueSummary, BookingsQuery, BuyerContact, CheckinReport, EventPatch, CheckInResult, DoorListing, DoorSummary, Event, Hold, NewDoor, NewEventInput, OfflineScan, RetryNotice, SyncResult, Ticket } from './types.js';

export { abortableSleep, parseRetryAfter } from './http-util.js';

export type { CallOptions, CancelOptions, ClientOptions, KeyedCallOptions, TokenOptions } from './call-options.js';
import type { CallOptions, CancelOptions, ClientOptions, KeyedCallOptions, TokenOptions } from './call-options.js';

type Method = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';

interface RequestOptions extends CallOptions {
  body?: unknown;
  token?: string;
  /** Extra request headers (`Admission-Pass`, `Queue-Token`). */
  headers?: Record<string, string>;
  /** false: not even a 429 is retried (health probes). */
  retry?: boolean;
  timeoutMs?: number;
  idempotencyKey?: string;
  /**
   * The request may be sent again although an earlier try may have reached the server: it carries an
   * Idempotency-Key, or repeating it is harmless by the API's design (confirm or release a hold).
   */
  resendable?: boolean;
  /** The answer is text (CSV), not JSON. */
  text?: boolean;
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9\-_.~:+/=]{16,200}$/;

export interface WaitOptions {
  /** Give up after this long (default 10 s). */
  timeoutMs?: number;
  /** Pause between attempts (default 500 ms). */
  intervalMs?: number;
  signal?: AbortSignal;
  /** Called before each attempt with the time spent so far and the previous failure. */
  onAttempt?: (attempt: number, elapsedMs: number, lastError: ApiError | undefined) => void;
}


/**
 * A typed client for the boxoffice HTTP API. Every failure is an `ApiError` carrying the server's
 * code and message. A `429` is retried with backoff (honouring `Retry-After`) up to `maxRetries`;
 * calls that are safe to repeat (bookings and holds, which carry an Idempotency-Key, and hold
 * confirm/release) are also retried on a 503, a timeout or no answer.
 */
export class BoxofficeClient {
  readonly baseUrl: string;
  private readonly adminToken: string | undefined;
  private readonly doorToken: string | undefined;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly baseRetryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly onRetry: ((notice: RetryNotice) => void) | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: ClientOptions) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl);
    this.adminToken = options.adminToken;
    this.doorToken = options.doorToken;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 4;
    this.baseRetryDelayMs = options.baseRetryDelayMs ?? 500;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    this.onRetry = options.onRetry;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** `GET /healthz`: resolves when the server is up and not shutting down. */
  health(options: CallOptions & { timeoutMs?: number } = {}): Promise<{ status: string }> {
    return this.request('GET', '/healthz', { ...options, retry: false });
  }

  listEvents(options: CallOptions = {}): Promise<Event[]> {
    return this.request('GET', '/events', options);
  }

  getEvent(id: string, options: CallOptions = {}): Promise<Event> {
    return this.request('GET', `/events/${encodeURIComponent(id)}`, options);
  }

  /** `POST /events` (admin). The token defaults to the client's. */
  createEvent(input: NewEventInput, options: CallOptions & { token?: string } = {}): Promise<Event> {
    return this.request('POST', '/events', { ...options, body: input, token: options.token ?? this.adminToken });
  }

  /** `POST /events/:id/bookings`: all `tickets` or none. The answer carries the booking's `secret`. */
  book(eventId: string, tickets: number, options: KeyedCallOptions = {}): Promise<Booking> {
    const { buyer, admissionPass, ...call } = options;
    return this.keyed('POST', `/events/${encodeURIComponent(eventId)}/bookings`, { ...call, headers: passHeader(admissionPass), body: buyer ? { tickets, buyer } : { tickets } });
  }

  /** `PATCH /events/:id` (admin): any of the editable fields; `{ salesOpen: false }` closes sales. */
  updateEvent(eventId: string, patch: EventPatch, options: TokenOptions = {}): Promise<Event> {
    return this.request('PATCH', eventPath(eventId), { ...options, body: patch, token: options.token ?? this.adminToken });
  }

  /** `POST /events/:id/cancel` (admin): every booking cancelled, holds released. Repeating it is harmless. */
  cancelEvent(eventId: string, options: TokenOptions = {}): Promise<Event> {
    return this.request('POST', `${eventPath(eventId)}/cancel`, { ...options, token: options.token ?? this.adminToken, resendable: true });
  }

  /** `GET /events/:id/bookings` (admin): bookings with buyers' details, newest first. */
  listEventBookings(eventId: string, query: BookingsQuery = {}, options: TokenOptions = {}): Promise<AdminBookingsPage> {
    const params = new URLSearchParams();
    if (query.search !== undefined) params.set('search', query.search);
    if (query.offset !== undefined) params.set('offset', String(query.offset));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    const qs = params.size > 0 ? `?${params}` : '';
    return this.request('GET', `${eventPath(eventId)}/bookings${qs}`, { ...options, token: options.token ?? this.adminToken });
  }

  /** The original protocol, `POST /reserve?eventId=&tickets=`: the ticket ids. */
  reserve(eventId: string, tickets: number, options: KeyedCallOptions = {}): Promise<string[]> {
    const query = new URLSearchParams({ eventId, tickets: String(tickets) });
    const { admissionPass, ...call } = options;
    return this.keyed('POST', `/reserve?${query}`, { ...call, headers: passHeader(admissionPass) });
  }

  /** `POST /events/:id/queue`: joins the waiting room; a repeat answers this buyer's entry again, so retries are harmless. */
  joinQueue(eventId: string, options: CallOptions = {}): Promise<QueueEntry> {
    return this.request('POST', `${eventPath(eventId)}/queue`, { ...options, body: {}, resendable: true });
  }

  /** `GET /events/:id/queue/:entryId` with the entry's token: state, position and, once admitted, the pass. */
  queueEntry(eventId: string, entryId: string, token: string, options: CallOptions = {}): Promise<QueueEntry> {
    return this.request('GET', `${eventPath(eventId)}/queue/${encodeURIComponent(entryId)}`, { ...options, headers: { 'queue-token': token } });
  }

  /** `GET /events/:id/queue` (admin): the line's length, admitted, in progress, rate, paused. */
  queueSummary(eventId: string, options: TokenOptions = {}): Promise<QueueSummary> {
    return this.request('GET', `${eventPath(eventId)}/queue`, { ...options, token: options.token ?? this.adminToken });
  }

  /** `POST /events/:id/queue/pause` (admin): nobody more is admitted until resumed. Repeating it is harmless. */
  pauseQueue(eventId: string, options: TokenOptions = {}): Promise<QueueSummary> {
    return this.request('POST', `${eventPath(eventId)}/queue/pause`, { ...options, token: options.token ?? this.adminToken, resendable: true });
  }

  /** `POST /events/:id/queue/resume` (admin). Repeating it is harmless. */
  resumeQueue(eventId: string, options: TokenOptions = {}): Promise<QueueSummary> {
    return this.request('POST', `${eventPath(eventId)}/queue/resume`, { ...options, token: options.token ?? this.adminToken, resendable: true });
  }

  /** `POST /events/:id/holds`: sets `tickets` aside until the hold's `expiresAt`. */
  holdTickets(eventId: string, tickets: number, options: KeyedCallOptions = {}): Promise<Hold> {
    const { buyer, admissionPass, ...call } = options;
    return this.keyed('POST', `/events/${encodeURIComponent(eventId)}/holds`, { ...call, headers: passHeader(admissionPass), body: buyer ? { tickets, buyer } : { tickets } });
  }

  getHold(id: string, options: CallOptions = {}): Promise<Hold> {
    return this.request('GET', `/holds/${encodeURIComponent(id)}`, options);
  }

  /** `POST /holds/:id/confirm`: the hold becomes a booking. Confirming twice answers the same booking. */
  confirmHold(id: string, options: CallOptions = {}): Promise<Booking> {
    return this.request('POST', `/holds/${encodeURIComponent(id)}/confirm`, { ...options, resendable: true });
  }

  /** `DELETE /holds/:id`: the tickets go back on sale. Releasing twice is harmless. */
  releaseHold(id: string, options: CallOptions = {}): Promise<Hold> {
    return this.request('DELETE', `/holds/${encodeURIComponent(id)}`, { ...options, resendable: true });
  }

  /**
   * `DELETE /bookings/:id` with the booking's secret (or the admin token): all its tickets, or only
   * `tickets`. Not repeated after a lost answer: a second try would report `already_cancelled`.
   */
  cancelBooking(bookingId: string, options: CancelOptions = {}): Promise<Booking> {
    const { secret, tickets, ...call } = options;
    return this.request('DELETE', `/bookings/${encodeURIComponent(bookingId)}`, {
      ...call,
      token: secret ?? this.adminToken,
      body: tickets === undefined ? undefined : { tickets },
    });
  }

  /** A ticket with its `status` (`valid` or `cancelled`). */
  getTicket(id: string, options: CallOptions = {}): Promise<Ticket> {
    return this.request('GET', `/tickets/${encodeURIComponent(id)}`, options);
  }

  /** A booking without its secret; each ticket carries its status. */
  getBooking(id: string, options: CallOptions = {}): Promise<Booking> {
    return this.request('GET', `/bookings/${encodeURIComponent(id)}`, options);
  }

  /** `POST /events/:id/doors` (admin): a door device; its `token` is in this answer only. */
  createDoor(eventId: string, name: string, options: TokenOptions = {}): Promise<NewDoor> {
    return this.request('POST', `${eventPath(eventId)}/doors`, { ...options, body: { name }, token: options.token ?? this.adminToken });
  }

  /** `GET /events/:id/doors` (admin): the doors with what each admitted. */
  listDoors(eventId: string, options: TokenOptions = {}): Promise<DoorSummary[]> {
    return this.request('GET', `${eventPath(eventId)}/doors`, { ...options, token: options.token ?? this.adminToken });
  }

  /** `DELETE /events/:id/doors/:doorId` (admin): its token is refused from now on. Repeating it is harmless. */
  revokeDoor(eventId: string, doorId: string, options: TokenOptions = {}): Promise<DoorSummary> {
    return this.request('DELETE', `${eventPath(eventId)}/doors/${encodeURIComponent(doorId)}`, { ...options, token: options.token ?? this.adminToken, resendable: true });
  }

  /** `PUT /events/:id/checkin-settings` (admin): whether doors may admit offline. */
  setOfflineCheckIn(eventId: string, offlineCheckIn: boolean, options: TokenOptions = {}): Promise<Event> {
    return this.request('PUT', `${eventPath(eventId)}/checkin-settings`, { ...options, body: { offlineCheckIn }, token: options.token ?? this.adminToken, resendable: true });
  }

  /** `POST /events/:id/checkins` (door token): one nonce (default a UUID) for every retry; a refusal is an ApiError (`details.firstCheckIn`). */
  checkIn(eventId: string, code: string, options: TokenOptions & { nonce?: string } = {}): Promise<CheckInResult> {
    const body = { code, nonce: options.nonce ?? randomUUID() };
    return this.request('POST', `${eventPath(eventId)}/checkins`, { ...options, body, token: options.token ?? this.doorToken, resendable: true });
  }

  /** `GET /events/:id/door-list` (door token): the public key, cancelled and admitted tickets, conflicts. */
  doorList(eventId: string, options: TokenOptions = {}): Promise<DoorListing> {
    return this.request('GET', `${eventPath(eventId)}/door-list`, { ...options, token: options.token ?? this.doorToken });
  }

  /** `POST /events/:id/checkins/sync` (door token): offline scans (1…1000); uploading again changes nothing. */
  syncScans(eventId: string, scans: OfflineScan[], options: TokenOptions = {}): Promise<{ results: SyncResult[] }> {
    return this.request('POST', `${eventPath(eventId)}/checkins/sync`, { ...options, body: { scans }, token: options.token ?? this.doorToken, resendable: true });
  }

  /** `GET /events/:id/checkins` (admin): the checked-in count, recent scans and conflicts. */
  checkins(eventId: string, options: TokenOptions = {}): Promise<CheckinReport> {
    return this.request('GET', `${eventPath(eventId)}/checkins`, { ...options, token: options.token ?? this.adminToken });
  }

  /** `GET /events/:id/attendees.csv` (admin): the CSV text. */
  attendeesCsv(eventId: string, options: TokenOptions = {}): Promise<string> {
    return this.request('GET', `${eventPath(eventId)}/attendees.csv`, { ...options, token: options.token ?? this.adminToken, text: true });
  }

  /**
   * Whether the server accepts the admin token, without creating anything: an empty `POST /events`
   * is refused with 401 before validation when the token is wrong, and with 400 when it is right.
   */
  async checkAdminToken(options: CallOptions & { token?: string } = {}): Promise<boolean> {
    const token = options.token ?? this.adminToken;
    if (!token) return false;
    try {
      await this.request('POST', '/events', { ...options, body: {}, token });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) return true;
      if (err instanceof ApiError && err.status === 401) return false;
      throw err;
    }
  }

  /**
   * Polls `GET /healthz` until it answers 200, for up to `timeoutMs`; then throws the last failure
   * (e.g. "Cannot reach boxoffice at http://localhost:8080: connection refused").
   */
  async waitForServer(options: WaitOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const intervalMs = options.intervalMs ?? 500;
    const started = Date.now();
    let lastError: ApiError | undefined;
    for (let attempt = 1; ; attempt++) {
      const elapsed = Date.now() - started;
      options.onAttempt?.(attempt, elapsed, lastError);
      try {
        await this.health({ signal: options.signal, timeoutMs: Math.max(250, Math.min(2_000, timeoutMs - elapsed)) });
        return;
      } catch (err) {
        if (options.signal?.aborted) throw err;
        lastError = err instanceof ApiError ? err : new ApiError({ status: 0, code: 'unreachable', message: String(err) });
      }
      if (Date.now() - started + intervalMs > timeoutMs) throw lastError;
      await this.sleep(intervalMs, options.signal);
    }
  }

  /** Live availability from `GET /events/stream`, reconnecting with backoff. */
  subscribe(handlers: SubscribeHandlers, options: SubscribeOptions = {}): EventSubscription {
    return subscribeToEvents({ url: `${this.baseUrl}/events/stream`, sleep: this.sleep }, handlers, options);
  }

  /** A request with an Idempotency-Key: one key per call, kept for all its retries. */
  private keyed<T>(method: Method, path: string, options: RequestOptions & KeyedCallOptions): Promise<T> {
    const key = options.idempotencyKey ?? randomUUID();
    if (!IDEMPOTENCY_KEY.test(key)) {
      return Promise.reject(new TypeError('An Idempotency-Key must be an unguessable 16 to 200 characters of letters, digits and - _ . ~ : + / = (a random UUID is a good choice).'));
    }
    return this.request(method, path, { ...options, idempotencyKey: key, resendable: true });
  }

  private async request<T>(method: Method, path: string, options: RequestOptions): Promise<T> {
    const label = `${method} ${path.replace(/\?.*$/, '')}`;
    const onRetry = options.onRetry ?? this.onRetry;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once<T>(method, path, options);
      } catch (err) {
        const cause = options.retry === false ? undefined : retryCause(err, options.resendable === true);
        if (!cause) throw err;
        const failure = err as ApiError;
        const retry = attempt + 1;
        const backoff = this.baseRetryDelayMs * 2 ** attempt;
        const asked = failure.retryAfter === undefined ? 0 : failure.retryAfter * 1000;
        if (retry > this.maxRetries) {
          // A 429 says nothing of its own worth keeping; anything else is reported as it came.
          if (cause !== 'busy') throw failure;
          throw new ApiError({
            status: 429,
            code: failure.code,
            retryAfter: failure.retryAfter,
            message: `The server is busy; gave up after ${this.maxRetries} ${this.maxRetries === 1 ? 'retry' : 'retries'}.`,
          });
        }
        if (asked > this.maxRetryDelayMs) {
          if (cause !== 'busy') throw failure;
          throw new ApiError({
            status: 429,
            code: failure.code,
            retryAfter: failure.retryAfter,
            message: `The server is busy and asks to wait ${failure.retryAfter} s; try again later.`,
          });
        }
        const delayMs = Math.min(this.maxRetryDelayMs, Math.max(asked, backoff));
        onRetry?.({ attempt: retry, maxRetries: this.maxRetries, delayMs, request: label, cause, reason: failure.message });
        await this.sleep(delayMs, options.signal);
      }
    }
  }

  private async once<T>(method: Method, path: string, options: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    if (options.headers) Object.assign(headers, options.headers);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal,
      });
      text = await res.text();
    } catch (err) {
      if (options.signal?.aborted) throw new ApiError({ status: 0, code: 'aborted', message: 'The request was cancelled.', cause: err });
      if (timeout.aborted) {
        throw new ApiError({
          status: 0,
          code: 'timeout',
          message: `No answer from boxoffice at ${this.baseUrl} within ${formatSeconds(timeoutMs)}.`,
          cause: err,
        });
      }
      const { code, reason } = describeNetworkError(err);
      throw new ApiError({ status: 0, code, message: `Cannot reach boxoffice at ${this.baseUrl}: ${reason}`, cause: err });
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (res.ok && options.text) return text as T;
    if (res.ok) {
      if (body === undefined) {
        throw new ApiError({ status: res.status, code: 'http_error', message: `boxoffice at ${this.baseUrl} answered ${method} ${path} with something that is not JSON.` });
      }
      return body as T;
    }
    const error = body as { error?: unknown; message?: unknown } | undefined;
    const { error: _code, message: _message, ...details } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
    throw new ApiError({
      details: Object.keys(details).length > 0 ? details : undefined,
      status: res.status,
      code: typeof error?.error === 'string' ? error.error : 'http_error',
      message:
        typeof error?.message === 'string'
          ? error.message
          : `boxoffice at ${this.baseUrl} answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}.`,
      retryAfter: parseRetryAfter(res.headers.get('retry-after')),
    });
  }
}

const passHeader = (pass: string | undefined): Record<string, string> | undefined => (pass === undefined ? undefined : { 'admission-pass': pass });

const eventPath = (eventId: string) => `/events/${encodeURIComponent(eventId)}`;
