import { afterAll, describe, expect, it } from 'vitest';
import { createEventVia, poolFrom } from '../helpers/load.js';
import { TEST_ADMIN_TOKEN, killAllProcesses, startServerProcess } from '../helpers/server-process.js';
import { tempDir } from '../helpers/tmp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fairness between clients', () => {
  const tmp = tempDir();
  afterAll(async () => {
    await killAllProcesses();
    tmp.cleanup();
  });

  it('a greedy client on 200 connections cannot starve 10 polite clients (each gets ≥ 90 % served)', async () => {
    // A global limit well below the greedy client's connections: without a per-client share, it would hold every slot.
    const server = await startServerProcess({ dataDir: tmp.dir, args: ['--max-inflight', '64', '--log-level', 'warn'] });
    const eventId = await createEventVia(server.url, 10_000_000, TEST_ADMIN_TOKEN);
    const book = { method: 'POST' as const, path: `/reserve?eventId=${eventId}&tickets=1` };

    let stop = false;
    const greedyStatuses: Record<number, number> = {};
    const greedy = poolFrom(server.url, '127.0.0.2', 200);
    const greedyLoops = Array.from({ length: 200 }, async () => {
      while (!stop) {
        try {
          const res = await greedy.request(book);
          await res.body.dump();
          greedyStatuses[res.statusCode] = (greedyStatuses[res.statusCode] ?? 0) + 1;
        } catch {
          greedyStatuses[0] = (greedyStatuses[0] ?? 0) + 1;
        }
      }
    });
    await sleep(500); // the greedy client is in full swing before anyone polite arrives

    const polite = Array.from({ length: 10 }, async (_, i) => {
      const pool = poolFrom(server.url, `127.0.0.${3 + i}`, 1);
      const statuses: number[] = [];
      for (let n = 0; n < 25; n++) {
        const started = Date.now();
        const res = await pool.request(book);
        await res.body.dump();
        statuses.push(res.statusCode);
        await sleep(Math.max(0, 100 - (Date.now() - started)));
      }
      await pool.close();
      return statuses;
    });
    const politeStatuses = await Promise.all(polite);
    stop = true;
    await Promise.all(greedyLoops);
    await greedy.close();

    const shares = politeStatuses.map((s) => s.filter((x) => x === 200).length / s.length);
    console.log(`[fairness] polite shares served: ${shares.map((x) => `${Math.round(x * 100)}%`).join(' ')}; greedy statuses ${JSON.stringify(greedyStatuses)}`);
    for (const share of shares) expect(share).toBeGreaterThanOrEqual(0.9);
    // The greedy client was really refused its excess, not merely slow.
    expect(greedyStatuses[429] ?? 0).toBeGreaterThan(0);
    for (const s of politeStatuses.flat()) expect([200, 429]).toContain(s);
  });
});
