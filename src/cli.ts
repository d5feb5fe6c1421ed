#!/usr/bin/env node
import cluster from 'node:cluster';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_BATCH } from './core/ticket-service.js';
import { DEFAULT_MAX_IN_FLIGHT } from './http/app.js';
import { runPrimary } from './server/cluster.js';
import { LOG_LEVELS, type LogLevel } from './server/logger.js';
import { StartupError, startServer } from './server/serve.js';
import { isPostgresUrl } from './store/index.js';

function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return Number(raw);
  };
}

interface ServeFlags {
  host: string;
  port: number;
  dataDir: string;
  db?: string;
  dbPool: number;
  pgSchema: string;
  workers: number;
  maxInflight: number;
  cacheSize: number;
  maxBatch: number;
  logLevel: LogLevel;
  headless: boolean;
}

const program = new Command()
  .name('boxoffice')
  .description('A concurrent general-admission ticket reservation server.')
  // Every usage error is one line with the same prefix as every other failure.
  .configureOutput({
    outputError: (text, write) => write(`boxoffice: ${text.trim().replace(/^error: /, '')} (run with --help for usage)\n`),
  });

program
  .command('serve')
  .description('run the HTTP API (headless: logs go to <data-dir>/logs/server.log and stderr)')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--port <n>', 'port to listen on (0 picks a free one)', integer('port', 0, 65535), 8080)
  .option('--data-dir <dir>', 'where the database, admin token and logs live', './data')
  .option('--db <file|:memory:|postgres://…>', 'SQLite file (default <data-dir>/boxoffice.db), :memory: for a throwaway store, or a PostgreSQL URL (default $DATABASE_URL when it is one)')
  .option('--db-pool <n>', 'PostgreSQL connections per process', integer('db-pool', 1, 1000), 10)
  .option('--pg-schema <name>', 'PostgreSQL schema for the tables', 'public')
  .option('--workers <n>', 'worker processes sharing the port and the database (uses every core)', integer('workers', 1, 64), 1)
  .option('--max-inflight <n>', 'requests in service at once (per process) before answering 429', integer('max-inflight', 1, 1_000_000), DEFAULT_MAX_IN_FLIGHT)
  .option('--cache-size <n>', 'events kept in the read cache', integer('cache-size', 1, 10_000_000), 10_000)
  .option('--max-batch <n>', 'most bookings decided per transaction (1 turns group commit off)', integer('max-batch', 1, 100_000), DEFAULT_MAX_BATCH)
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .option('--headless', 'no terminal UI: log readable lines to stderr', false)
  .action(async (opts: ServeFlags) => {
    const db = opts.db ?? (isPostgresUrl(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined);
    if (opts.workers > 1 && db === ':memory:') throw new StartupError('--workers needs shared storage: use a SQLite file or PostgreSQL, not :memory:');
    if (opts.workers > 1 && cluster.isPrimary) {
      await runPrimary({ workers: opts.workers, dataDir: opts.dataDir, logLevel: opts.logLevel });
      process.exit(0);
    }
    const server = await startServer({
      host: opts.host,
      port: opts.port,
      dataDir: opts.dataDir,
      db,
      pgSchema: opts.pgSchema,
      dbPool: opts.dbPool,
      maxInFlight: opts.maxInflight,
      cacheSize: opts.cacheSize,
      maxBatch: opts.maxBatch,
      logLevel: opts.logLevel,
      // The terminal UI arrives with its own issue; until then every run is headless.
      headless: true,
    });
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      // A worker hears Ctrl-C from the terminal and SIGTERM from its primary: stop once, quietly.
      if (++signals > 1) {
        if (cluster.isWorker) return;
        process.exit(130);
      }
      server.stop(signal).then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`boxoffice: shutdown failed: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`boxoffice: ${message}\n`);
  process.exit(1);
});
