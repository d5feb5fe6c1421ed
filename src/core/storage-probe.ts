import type { StorageStatus } from './storage-health.js';

/**
 * /readyz asks the database itself: a node whose PostgreSQL went away serves nothing useful, but it
 * learns that from failed requests only when requests come, and a node out of rotation gets none.
 * So readiness runs a cheap read (the store's `ping`) with a short timeout. Probes are shared: a
 * result is reused for PROBE_MAX_AGE_MS and at most one ping is in flight, so a load balancer
 * polling many times a second costs the database at most one query a second, and a hung database
 * cannot pile up pings.
 */
export const PROBE_TIMEOUT_MS = 1_000;
export const PROBE_MAX_AGE_MS = 1_000;

export interface StorageProbeOptions {
  timeoutMs?: number;
  maxAgeMs?: number;
  now?: () => number;
}

export class StorageProbe {
  private last: { at: number; result: StorageStatus } | undefined;
  private checking: Promise<StorageStatus> | undefined;
  private pinging: Promise<void> | undefined;
  private readonly timeoutMs: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ping: () => Promise<void>,
    options: StorageProbeOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
    this.maxAgeMs = options.maxAgeMs ?? PROBE_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  check(): Promise<StorageStatus> {
    if (this.last && this.now() - this.last.at < this.maxAgeMs) return Promise.resolve(this.last.result);
    return (this.checking ??= this.probe().finally(() => (this.checking = undefined)));
  }

  private async probe(): Promise<StorageStatus> {
    // A ping still hanging from an earlier check is waited on again, not joined by a second one.
    this.pinging ??= this.ping().finally(() => (this.pinging = undefined));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    let result: StorageStatus;
    try {
      await Promise.race([this.pinging, timeout]);
      result = { status: 'ok' };
    } catch (err) {
      result = { status: 'unreachable', reason: firstLine(err) };
    } finally {
      clearTimeout(timer);
    }
    this.last = { at: this.now(), result };
    return result;
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message || (err as { code?: string }).code || err.name : String(err);
  return message.split('\n')[0]!.slice(0, 200);
}
