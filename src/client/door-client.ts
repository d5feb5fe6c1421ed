import { ApiError, describeNetworkError } from './api-error.js';
import type { ConflictGroup, DoorList, FirstCheckIn, OfflineScan, ScanResult, SyncResult } from '../core/types.js';
import type { Event } from './types.js';

/** `POST /events/:id/checkins` answered 200. */
export type AdmittedScan = ScanResult & { outcome: 'admitted' };

export type { ConflictGroup, DoorList, FirstCheckIn, OfflineScan, SyncResult };

/** What a door session needs of the server; `DoorClient` over HTTP, a fake in tests. */
export interface DoorApi {
  readonly baseUrl: string;
  listEvents(): Promise<Event[]>;
  /** Which door the token is and its event (`GET /doors/self`); absent on fakes and older servers. */
  doorSelf?(): Promise<{ door: { id: string; name: string }; eventId: string; eventName: string }>;
  doorList(eventId: string): Promise<DoorList>;
  /** Throws an ApiError for every refusal (409 carries `details.firstCheckIn`). */
  scan(eventId: string, code: string, nonce: string): Promise<AdmittedScan>;
  sync(eventId: string, scans: OfflineScan[]): Promise<{ results: SyncResult[] }>;
}

/** An ApiError with the JSON body it came with (for `firstCheckIn`). */
export class DoorApiError extends ApiError {
  constructor(
    init: ConstructorParameters<typeof ApiError>[0],
    readonly body: Record<string, unknown> | undefined,
  ) {
    super(init);
  }
  get firstCheckIn(): FirstCheckIn | undefined {
    return this.body?.firstCheckIn as FirstCheckIn | undefined;
  }
}

export interface DoorClientOptions {
  baseUrl: string;
  /** The door token (`bod_…`): sent only as `Authorization: Bearer`, never logged or printed. */
  token: string;
  /** A door must not wait long on a dead network: default 3 s per request. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/**
 * The door routes over HTTP. No retries here: the door session decides (it repeats a scan with the
 * same nonce, or admits offline), so a person at the door never waits through a backoff schedule.
 */
export class DoorClient implements DoorApi {
  readonly baseUrl: string;
  readonly #token: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: DoorClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
  }

  listEvents(): Promise<Event[]> {
    return this.request('GET', '/events', undefined, false);
  }

  doorSelf(): Promise<{ door: { id: string; name: string }; eventId: string; eventName: string }> {
    return this.request('GET', '/doors/self');
  }

  doorList(eventId: string): Promise<DoorList> {
    return this.request('GET', `/events/${encodeURIComponent(eventId)}/door-list`);
  }

  scan(eventId: string, code: string, nonce: string): Promise<AdmittedScan> {
    return this.request('POST', `/events/${encodeURIComponent(eventId)}/checkins`, { code, nonce });
  }

  sync(eventId: string, scans: OfflineScan[]): Promise<{ results: SyncResult[] }> {
    return this.request('POST', `/events/${encodeURIComponent(eventId)}/checkins/sync`, { scans }, true, 15_000);
  }

  /** Keeps the token out of `console.log(client)` and JSON. */
  toJSON(): { baseUrl: string } {
    return { baseUrl: this.baseUrl };
  }

  private async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, auth = true, timeoutMs = this.timeoutMs): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: timeout });
      text = await res.text();
    } catch (err) {
      if (timeout.aborted) throw new ApiError({ status: 0, code: 'timeout', message: `No answer from ${this.baseUrl} within ${timeoutMs / 1000} s.`, cause: err });
      const { code, reason } = describeNetworkError(err);
      throw new ApiError({ status: 0, code, message: `Cannot reach boxoffice at ${this.baseUrl}: ${reason}`, cause: err });
    }
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (res.ok && json !== undefined) return json as T;
    const error = json as { error?: unknown; message?: unknown } | undefined;
    throw new DoorApiError(
      {
        status: res.status,
        code: typeof error?.error === 'string' ? error.error : 'http_error',
        message: typeof error?.message === 'string' ? error.message : `boxoffice at ${this.baseUrl} answered HTTP ${res.status}.`,
      },
      typeof json === 'object' && json !== null ? (json as Record<string, unknown>) : undefined,
    );
  }
}
