/**
 * The buyers of the `queue` row, as the real clients behave (web/waiting-room.js and
 * src/tui/waiting-room/): each one its own loopback address, following the line on its own event
 * stream and reading its entry only when the stream cannot tell. The bench is compiled on its own
 * (tsconfig.bench.json), so the few rules it needs from the clients are restated here, small.
 */
import { request, type Agent, type ClientRequest, type IncomingMessage } from 'node:http';

/** Buyer i's address: 127.1.x.y, y from 1 to 250, so 10,000 buyers use 127.1.0.1 … 127.1.39.250. */
export const buyerAddress = (i: number): string => `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** What the stream's `queue` messages say of one line (docs/WAITING-ROOM.md). */
export interface LineUpdate {
  eventId: string;
  serving: number;
  length: number;
  soldOut: boolean;
  heldElsewhere: boolean;
  paused: boolean;
  admitRatePerMinute: number;
  open: boolean;
}

/** The entry fields a buyer acts on. */
export interface EntryView {
  id: string;
  token: string;
  state: 'waiting' | 'admitted' | 'done' | 'expired' | 'sold_out';
  position: number | null;
  pass: string | null;
}

/** The clients' read intervals (src/tui/waiting-room/line.ts, web/waiting-room.js). */
const READ_FOR_NEWS_MS = 1_000;
const READ_WHILE_OFFLINE_MS = 5_000;

/**
 * The clients' rule for reading the entry: only a waiting one, and only when the stream cannot tell —
 * the order was drawn (learn the place), the counter reached the place (pick up the pass), or the
 * stream is down.
 */
export function shouldRead(entry: EntryView, line: LineUpdate | undefined, streamLive: boolean, sinceLastReadMs: number): boolean {
  if (entry.state !== 'waiting' || line?.soldOut) return false;
  const expectsNews = Boolean(line?.open) && (entry.position === null || (line?.serving ?? 0) >= entry.position);
  if (expectsNews && sinceLastReadMs >= READ_FOR_NEWS_MS) return true;
  return (!streamLive || !line) && sinceLastReadMs >= READ_WHILE_OFFLINE_MS;
}

/**
 * At most `limit` requests in flight from the generator, first come first served: 10,000 buyers must
 * not open 10,000 sockets at once on top of their 10,000 streams (the ulimit is 20,000), and `hot`
 * runs 64 connections, so the two rows load the server alike. A buyer's next step (`next`: the booking
 * right after reading its pass) goes ahead of other buyers' first requests, as a browser sends it at
 * once: queued behind thousands of reads, its kept-alive socket would idle on the server meanwhile.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>, next = false): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => (next ? this.waiting.unshift(resolve) : this.waiting.push(resolve)));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

export interface Answer {
  status: number;
  text: string;
  /** Time from this attempt's request to its answer, ms. */
  ms: number;
}

/**
 * One request from `from`: on its own socket, or on `agent`'s kept-alive one (a page reading its
 * pass and then booking with it does both on one connection, as a browser does).
 */
export function buyerCall(base: URL, from: string, method: string, path: string, headers: Record<string, string> = {}, body?: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = performance.now();
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent: agent ?? false,
        localAddress: from,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - sent }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export interface CallTally {
  byKind: Record<string, Record<string, number>>;
  retries: number;
  errors: number;
}

/**
 * `buyerCall`, retried after a short pause on 429/503 and on a refused or reset socket, as a page
 * would (every attempt is counted by kind and status; only the last answer is returned).
 */
export async function patientCall(tally: CallTally, kind: string, ...args: Parameters<typeof buyerCall>): Promise<Answer> {
  const counts = (tally.byKind[kind] ??= {});
  for (let attempt = 0; ; attempt++) {
    try {
      const answer = await buyerCall(...args);
      counts[answer.status] = (counts[answer.status] ?? 0) + 1;
      if ((answer.status !== 429 && answer.status !== 503) || attempt >= 50) return answer;
    } catch (err) {
      tally.errors++;
      if (attempt >= 50) throw err;
    }
    tally.retries++;
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
  }
}

/**
 * One buyer's event stream: `GET /events/stream` on its own socket from its address, passing each
 * `queue` update of `eventId` to `onLine`. Every follower receives the same bytes, so a message is
 * parsed once for all of them (`cache`), and the `changes`/snapshot messages, which a waiting buyer
 * does not act on, are skipped unparsed. A stream that ends is opened again after a second, as the
 * clients reconnect.
 */
export class LineFollower {
  live = false;
  drops = 0;
  private req: ClientRequest | undefined;
  private closed = false;

  constructor(
    private readonly base: URL,
    private readonly from: string,
    private readonly eventId: string,
    private readonly cache: Map<string, LineUpdate | undefined>,
    private readonly onLine: (update: LineUpdate) => void,
  ) {}

  /** Resolves once the stream answered 200 (the page is loaded and following). */
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.base.hostname, port: this.base.port, path: '/events/stream', agent: false, localAddress: this.from, headers: { accept: 'text/event-stream' } },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`GET /events/stream from ${this.from} answered ${res.statusCode}`));
            return;
          }
          this.live = true;
          resolve();
          this.read(req, res);
        },
      );
      req.on('error', (err) => {
        reject(err);
        this.lost(req);
      });
      req.end();
      this.req = req;
    });
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }

  private read(req: ClientRequest, res: IncomingMessage): void {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (block.startsWith('data: {"type":"queue"')) this.queueMessage(block.slice(6));
      }
    });
    res.on('end', () => this.lost(req));
    res.on('error', () => this.lost(req));
  }

  private queueMessage(data: string): void {
    let update = this.cache.get(data);
    if (!this.cache.has(data)) {
      const message = JSON.parse(data) as { queues: LineUpdate[] };
      update = message.queues.find((q) => q.eventId === this.eventId);
      // Followers lag each other by a message or two at most: a few recent ones are enough.
      if (this.cache.size >= 16) this.cache.clear();
      this.cache.set(data, update);
    }
    if (update) this.onLine(update);
  }

  /** The current stream ended or failed (after it was up): open it again in a second, as the clients do. */
  private lost(req: ClientRequest): void {
    if (this.closed || req !== this.req || !this.live) return;
    this.drops++;
    this.live = false;
    const retry = () => {
      if (!this.closed) this.open().catch(() => setTimeout(retry, 1000));
    };
    setTimeout(retry, 1000);
  }
}
