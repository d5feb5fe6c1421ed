import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import type { TicketService } from '../core/ticket-service.js';
import type { Metrics } from './metrics.js';

const gzipAsync = promisify(gzip);

/** One version of the event list, encoded once and shared by every reader of that version. */
export interface ListVersion {
  /** The list as JSON text (the catalog's own string: comparing it costs nothing between changes). */
  readonly json: string;
  /** The same text as UTF-8 bytes: `GET /events` and every stream subscriber write this very Buffer. */
  readonly body: Buffer;
  /** Strong ETag of this version: unique to this process and this version, so it never matches other contents. */
  readonly etag: string;
  /** The body gzipped, made once (off the event loop) the first time a client accepts gzip. */
  gzipped(): Promise<Buffer>;
}

/**
 * The event list as bytes, encoded once per change. Before this, each `GET /events` and each new
 * stream subscriber turned the catalog's 4 MB string into its own bytes: 900 subscribers cost 2 GB.
 * Now a change costs one encode (counted by `boxoffice_stream_snapshot_encodes_total`), and every
 * reader of that version shares the Buffer: Node queues a reference on each socket, not a copy.
 */
export class ListSnapshot {
  /** Distinguishes this process's versions from another process's (a restart, another node). */
  private readonly epoch = randomBytes(6).toString('base64url');
  private version = 0;
  private current: ListVersion | undefined;

  constructor(
    private readonly service: TicketService,
    private readonly metrics: Metrics,
  ) {}

  async get(): Promise<ListVersion> {
    const json = await this.service.listEventsJson();
    // The catalog hands back the same string until something changes; a new string with the same
    // text (a re-read after an outside change) is still the same version.
    if (this.current && this.current.json === json) return this.current;
    this.current = encode(json, `"${this.epoch}-${++this.version}"`);
    this.metrics.snapshotEncodes.inc();
    return this.current;
  }
}

function encode(json: string, etag: string): ListVersion {
  const body = Buffer.from(json, 'utf8');
  let gzipped: Promise<Buffer> | undefined;
  return {
    json,
    body,
    etag,
    // Level 6 (zlib's default) takes 4 MB of JSON to ~0.4 MB in tens of ms on the thread pool.
    gzipped: () => (gzipped ??= gzipAsync(body, { level: constants.Z_DEFAULT_COMPRESSION })),
  };
}

/** Whether the client accepts gzip (Accept-Encoding, honouring `q=0` and `*`). */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let star: boolean | undefined;
  for (const part of header.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const ok = q === undefined || Number(q.slice(2)) > 0;
    if (name === 'gzip' || name === 'x-gzip') return ok;
    if (name === '*') star = ok;
  }
  return star === true;
}
