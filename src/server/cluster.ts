import cluster, { type Worker } from 'node:cluster';
import { join, resolve } from 'node:path';
import type { Success } from '../core/commands.js';
import { Housekeeping } from '../core/housekeeping.js';
import { serveClusterMetrics } from '../http/cluster-metrics.js';
import { CLUSTER_WRITER_ENV, ClusterWriterHost, isPostgresUrl, SqliteStore } from '../store/index.js';
import { resolveAdminToken } from './admin-token.js';
import type { Logger } from '../core/logger.js';
import { createFileLogger, type LogFrequency, type LogLevel } from './logger.js';
import { resolveSecretKeys } from './secret-key.js';
import { ensureWritableDir, makeFilesPrivate, StartupError } from './serve.js';

export interface PrimaryOptions {
  workers: number;
  dataDir: string;
  /** As `serve --db`: a SQLite file (default `<data-dir>/boxoffice.db`) or a PostgreSQL URL. */
  db?: string;
  skipIntegrityCheck?: boolean;
  logLevel: LogLevel;
  logMaxSize?: number;
  logFiles?: number;
  logFrequency?: LogFrequency;
}

/**
 * `serve --workers N`: N workers (node:cluster) each run the HTTP server on the same port, so every
 * core serves requests. On SQLite the primary owns the database: one writer for the machine
 * (`ClusterWriterHost`) decides every worker's batches and runs the housekeeping, and the workers
 * read the file directly. On PostgreSQL each worker is a node of its own on the shared database.
 * The primary also gathers every worker's metrics for `/metrics`. A worker that dies is replaced;
 * a worker that cannot start stops the whole server with its reason.
 */
export async function runPrimary(options: PrimaryOptions): Promise<void> {
  makeFilesPrivate();
  const dataDir = resolve(options.dataDir);
  ensureWritableDir(dataDir);
  // Create the admin token and the secret key once, before the workers race to do it.
  resolveAdminToken(dataDir);
  let secretKeys;
  try {
    secretKeys = resolveSecretKeys(dataDir).keys;
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const { logger } = createFileLogger({ dataDir, name: 'server', level: options.logLevel, prettyStderr: true, rotation: { maxSize: options.logMaxSize, files: options.logFiles, frequency: options.logFrequency } });
  const writer = isPostgresUrl(options.db) ? undefined : await openMachineWriter(options.db ?? join(dataDir, 'boxoffice.db'), secretKeys, options.skipIntegrityCheck, logger);
  const stopMetrics = serveClusterMetrics();
  // Batches and outcomes cross by V8's serializer: no JSON text built and parsed per message.
  cluster.setupPrimary({ serialization: 'advanced' });

  let stopping = false;
  const listening = new Set<Worker>();
  const fork = () => {
    const worker = cluster.fork(writer ? { [CLUSTER_WRITER_ENV]: '1' } : {});
    worker.once('listening', () => {
      listening.add(worker);
      if (listening.size === options.workers) logger.info({ workers: options.workers }, `all ${options.workers} workers are serving`);
    });
    return worker;
  };

  await new Promise<void>((done, fail) => {
    cluster.on('exit', (worker, code, signal) => {
      const wasServing = listening.delete(worker);
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) done();
        return;
      }
      if (!wasServing) {
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
        fail(new StartupError(`a worker could not start (exit code ${code}); see the lines above`));
        return;
      }
      logger.error({ pid: worker.process.pid, code, signal }, 'worker died; starting a replacement');
      fork();
    });
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'stopping all workers');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    for (let i = 0; i < options.workers; i++) fork();
  });
  logger.info('all workers stopped');
  stopMetrics();
  await writer?.close();
  await new Promise<void>((done) => logger.flush(() => done()));
}

/** The machine's one SQLite writer: opens (and migrates) the file before any worker starts. */
async function openMachineWriter(path: string, secretKeys: readonly Uint8Array[], skipIntegrityCheck: boolean | undefined, logger: Logger): Promise<{ close(): Promise<void> }> {
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(path, { secretKeys, integrityCheck: !skipIntegrityCheck });
  } catch (err) {
    throw new StartupError(`cannot open the database sqlite ${path}: ${(err as Error).message}`);
  }
  const host = new ClusterWriterHost(store);
  // Once per machine: each worker sweeping too would only queue more transactions on one writer.
  const housekeeping = new Housekeeping(store, {
    intervalMs: 250,
    purgeEveryMs: 10 * 60_000,
    now: () => new Date(),
    logger,
    expire: async () => {
      const [outcome] = await host.write({ now: new Date().toISOString(), commands: [{ type: 'expire' }] });
      const expired = outcome as Success<'expired'>;
      return { expired: expired.expired, counts: expired.counts };
    },
  });
  housekeeping.start();
  return {
    async close() {
      await housekeeping.stop();
      await host.close();
      await store.close();
    },
  };
}
