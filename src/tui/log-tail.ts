import { formatClock } from './format.js';

export type LogLevelName = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface LogRecord {
  /** Position in the whole log since start (0, 1, 2, …); survives the ring dropping old records. */
  seq: number;
  time: number;
  level: LogLevelName;
  msg: string;
  /** Everything else in the record, except pid/hostname. */
  fields: Record<string, unknown>;
}

const LEVELS: Record<number, LogLevelName> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/**
 * The bounded in-memory tail of a pino log, for a Logs screen. It is a pino destination: `write` gets
 * each JSON line and only stores the string (no parsing on the logging path, so a busy server pays a
 * ring-buffer store per line); lines are parsed when the screen shows them.
 */
export class LogTail {
  private readonly raw: string[];
  private readonly parsed: Array<LogRecord | undefined>;
  private count = 0;
  private readonly listeners = new Set<() => void>();

  constructor(readonly capacity = 1_000) {
    this.raw = new Array<string>(capacity);
    this.parsed = new Array<LogRecord | undefined>(capacity);
  }

  /** pino destination API: one or more newline-terminated JSON records. */
  write(chunk: string): boolean {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf('\n', start);
      const line = end === -1 ? chunk.slice(start) : chunk.slice(start, end);
      if (line.length > 0) {
        const slot = this.count % this.capacity;
        this.raw[slot] = line;
        this.parsed[slot] = undefined;
        this.count++;
      }
      if (end === -1) break;
      start = end + 1;
    }
    for (const listener of this.listeners) listener();
    return true;
  }

  /** Records ever written (the next record's seq). */
  get total(): number {
    return this.count;
  }

  /** The seq of the oldest record still kept. */
  get first(): number {
    return Math.max(0, this.count - this.capacity);
  }

  get size(): number {
    return this.count - this.first;
  }

  get(seq: number): LogRecord | undefined {
    if (seq < this.first || seq >= this.count) return undefined;
    const slot = seq % this.capacity;
    return (this.parsed[slot] ??= parseRecord(seq, this.raw[slot]!));
  }

  /** Hears every write; keep the listener O(1) (e.g. schedule a render). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

function parseRecord(seq: number, line: string): LogRecord {
  try {
    const obj = JSON.parse(line) as Record<string, unknown>;
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (!OMITTED.has(k)) fields[k] = v;
    const level = typeof obj.level === 'number' ? (LEVELS[obj.level] ?? 'info') : typeof obj.level === 'string' ? (obj.level as LogLevelName) : 'info';
    return { seq, time: typeof obj.time === 'number' ? obj.time : Date.now(), level, msg: typeof obj.msg === 'string' ? obj.msg : '', fields };
  } catch {
    return { seq, time: Date.now(), level: 'info', msg: line, fields: {} };
  }
}

/** `12:00:01.123 INFO  booking confirmed eventId=… tickets=2`; `messageLength` is where the fields start. */
export function formatRecord(record: LogRecord): { prefix: string; level: string; text: string; messageLength: number } {
  const fields = Object.entries(record.fields).map(([key, value]) => `${key}=${formatValue(key, value)}`);
  const text = [record.msg, ...fields].filter((part) => part !== '').join(' ');
  return { prefix: formatClock(record.time), level: record.level.toUpperCase().padEnd(5), text, messageLength: record.msg.length };
}

function formatValue(key: string, value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) || value === '' ? JSON.stringify(value) : value;
  if ((key === 'err' || key === 'error') && value && typeof value === 'object' && 'message' in value) {
    return JSON.stringify((value as { message: unknown }).message);
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
