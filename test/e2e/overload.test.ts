import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventVia, poolFrom } from '../helpers/load.js';
import { TEST_ADMIN_TOKEN, killAllProcesses, probe, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const SECONDS = 10;
const ADDRESSES = 3;
const CONNECTIONS_PER_ADDRESS = 200;

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe('overload', () => {
  const tmp = tempDir();
  afterAll(async () => {
    await killAllProcesses();
    tmp.cleanup();
  });

  it(`600 connections in tight loops for ${SECONDS} s: no crash, no 5xx, quick 429s with Retry-After, bounded memory`, async () => {
    const server = await startServerProcess({ dataDir: tmp.dir, args: ['--max-inflight', '128', '--log-level', 'warn'] });
    const eventId = await createEventVia(server.url, 10_000_000, TEST_ADMIN_TOKEN);
    const pools = Array.from({ length: ADDRESSES }, (_, i) => poolFrom(server.url, `127.0.1.${i + 1}`, CONNECTIONS_PER_ADDRESS));
    const latency: Record<string, number[]> = { ok: [], refused: [] };
    const statuses: Record<string, number> = {};
    let missingRetryAfter = 0;
    let healthFailures = 0;
    const deadline = Date.now() + SECONDS * 1000;

    const health = (async () => {
      while (Date.now() < deadline) {
        if ((await probe(`${server.url}/healthz`, 15_000)) !== 200) healthFailures++;
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const loops = pools.flatMap((pool) =>
      Array.from({ length: CONNECTIONS_PER_ADDRESS }, async () => {
        while (Date.now() < deadline) {
          const started = performance.now();
          try {
            const res = await pool.request({ method: 'POST', path: `/reserve?eventId=${eventId}&tickets=1` });
            await res.body.dump();
            const ms = performance.now() - started;
            statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
            if (res.statusCode === 200) latency.ok!.push(ms);
            if (res.statusCode === 429) {
              latency.refused!.push(ms);
              if (res.headers['retry-after'] !== '1') missingRetryAfter++;
            }
          } catch {
            statuses.error = (statuses.error ?? 0) + 1;
          }
        }
      }),
    );
    await Promise.all([...loops, health]);
    await Promise.all(pools.map((p) => p.close()));

    const rss = peakRssMb(server.proc.pid!);
    const ok = latency.ok!.sort((a, b) => a - b);
    const refused = latency.refused!.sort((a, b) => a - b);
    console.log(
      `[overload] ${JSON.stringify(statuses)} in ${SECONDS} s; admitted p50 ${percentile(ok, 50).toFixed(1)} ms p99 ${percentile(ok, 99).toFixed(1)} ms; ` +
        `429 p50 ${percentile(refused, 50).toFixed(1)} ms p99 ${percentile(refused, 99).toFixed(1)} ms; peak RSS ${rss.toFixed(0)} MB`,
    );

    expect(server.exited()).toBeUndefined();
    expect(Object.keys(statuses).filter((s) => s !== '200' && s !== '429')).toEqual([]);
    expect(statuses['429'] ?? 0).toBeGreaterThan(0);
    expect(missingRetryAfter).toBe(0);
    expect(healthFailures).toBe(0);
    // Generous bounds, to catch collapse (unbounded queueing or memory), not to measure speed.
    expect(rss).toBeLessThan(500);
    expect(percentile(ok, 99)).toBeLessThan(10_000);
    // Every acknowledged booking is stored, none more.
    const event = (await (await fetch(`${server.url}/events/${eventId}`)).json()) as { availableTickets: number };
    expect(10_000_000 - event.availableTickets).toBe(statuses['200'] ?? 0);
  });
});
