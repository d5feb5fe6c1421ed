import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from './metrics.js';

/**
 * `/metrics` under `serve --workers N` reports the whole machine, not whichever worker answered:
 * the worker asks the primary, which gathers every worker's registry with prom-client's cluster
 * aggregator (counters and histograms summed; gauges summed too, process gauges as prom-client says).
 */
type MetricsMessage = { bo: 'metrics'; id: number; text?: string; error?: string };
const ANSWER_TIMEOUT_MS = 6_000;

/** In the primary: answers workers' requests for the machine's metrics. */
export function serveClusterMetrics(): () => void {
  const aggregator = new AggregatorRegistry();
  const onMessage = (worker: import('node:cluster').Worker, message: unknown) => {
    const msg = message as Partial<MetricsMessage> | null;
    if (typeof msg !== 'object' || msg === null || msg.bo !== 'metrics' || typeof msg.id !== 'number') return;
    const answer = (reply: MetricsMessage) => {
      if (worker.isConnected()) worker.send(reply, undefined, () => {});
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ bo: 'metrics', id: msg.id!, text }),
      (err: unknown) => answer({ bo: 'metrics', id: msg.id!, error: (err as Error).message }),
    );
  };
  cluster.on('message', onMessage);
  return () => cluster.off('message', onMessage);
}

/** In a worker: this registry joins the primary's aggregate, and /metrics serves the aggregate. */
export function useClusterMetrics(metrics: Metrics): void {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // Constructing one is what makes prom-client answer the primary's requests in this worker.
  new AggregatorRegistry();
  const pending = new Map<number, (reply: MetricsMessage) => void>();
  let nextId = 1;
  process.on('message', (message: unknown) => {
    const msg = message as Partial<MetricsMessage> | null;
    if (typeof msg === 'object' && msg !== null && msg.bo === 'metrics' && typeof msg.id === 'number') pending.get(msg.id)?.(msg as MetricsMessage);
  });
  metrics.text = () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => settle({ bo: 'metrics', id, error: 'the primary did not answer' }), ANSWER_TIMEOUT_MS);
      const settle = (reply: MetricsMessage) => {
        clearTimeout(timer);
        pending.delete(id);
        if (reply.text !== undefined) return resolve(reply.text);
        // Better this worker's own figures, marked as such, than no answer for the scraper.
        metrics.registry.metrics().then((own) => resolve(`# machine-wide metrics unavailable (${reply.error}): this worker's only\n${own}`), reject);
      };
      pending.set(id, settle);
      process.send?.({ bo: 'metrics', id } satisfies MetricsMessage);
    });
}
