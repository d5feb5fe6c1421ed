import cluster, { type Worker } from 'node:cluster';
import { resolve } from 'node:path';
import { resolveAdminToken } from './admin-token.js';
import { createFileLogger, type LogFrequency, type LogLevel } from './logger.js';
import { resolveSecretKeys } from './secret-key.js';
import { ensureWritableDir, makeFilesPrivate, StartupError } from './serve.js';

/**
 * `serve --workers N`: the primary process only supervises; N workers (node:cluster) each run the
 * whole server on the same port, sharing the SQLite file (WAL, BEGIN IMMEDIATE, busy timeout) or the
 * PostgreSQL database, so every core serves requests. A worker that dies is replaced; a worker that
 * cannot start stops the whole server with its reason.
 */
export async function runPrimary(options: { workers: number; dataDir: string; logLevel: LogLevel; logMaxSize?: number; logFiles?: number; logFrequency?: LogFrequency }): Promise<void> {
  makeFilesPrivate();
  const dataDir = resolve(options.dataDir);
  ensureWritableDir(dataDir);
  // Create the admin token and the secret key once, before the workers race to do it.
  resolveAdminToken(dataDir);
  try {
    resolveSecretKeys(dataDir);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const { logger } = createFileLogger({ dataDir, name: 'server', level: options.logLevel, prettyStderr: true, rotation: { maxSize: options.logMaxSize, files: options.logFiles, frequency: options.logFrequency } });

  let stopping = false;
  const listening = new Set<Worker>();
  const fork = () => {
    const worker = cluster.fork();
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
  await new Promise<void>((done) => logger.flush(() => done()));
}
