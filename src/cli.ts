#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_BATCH } from './core/ticket-service.js';
import { DEFAULT_MAX_IN_FLIGHT } from './http/app.js';
import { LOG_LEVELS, type LogLevel } from './server/logger.js';
import { StartupError, startServer } from './server/serve.js';

function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return Number(raw);
  };
}

const program = new Command()
  .name('boxoffice')
  .description('A concurrent general-admission ticket reservation server.')
  .showHelpAfterError('(run with --help for usage)');

program
  .command('serve')
  .description('run the HTTP API (headless: logs go to <data-dir>/logs/server.log and stderr)')
  .option('--host <address>', 'address to listen on', '127.0.0.1')
  .option('--port <n>', 'port to listen on (0 picks a free one)', integer('port', 0, 65535), 8080)
  .option('--data-dir <dir>', 'where the database, admin token and logs live', './data')
  .option('--db <file|:memory:>', 'SQLite file (default <data-dir>/boxoffice.db), or :memory: for a throwaway store')
  .option('--max-inflight <n>', 'requests in service at once before answering 429', integer('max-inflight', 1, 1_000_000), DEFAULT_MAX_IN_FLIGHT)
  .option('--cache-size <n>', 'events kept in the read cache', integer('cache-size', 1, 10_000_000), 10_000)
  .option('--max-batch <n>', 'most bookings decided per transaction (1 turns group commit off)', integer('max-batch', 1, 100_000), DEFAULT_MAX_BATCH)
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .option('--headless', 'no terminal UI: log readable lines to stderr', false)
  .action(async (opts: {
    host: string;
    port: number;
    dataDir: string;
    db?: string;
    maxInflight: number;
    cacheSize: number;
    maxBatch: number;
    logLevel: LogLevel;
    headless: boolean;
  }) => {
    const server = await startServer({
      host: opts.host,
      port: opts.port,
      dataDir: opts.dataDir,
      db: opts.db,
      maxInFlight: opts.maxInflight,
      cacheSize: opts.cacheSize,
      maxBatch: opts.maxBatch,
      logLevel: opts.logLevel,
      // The terminal UI arrives with its own issue; until then every run is headless.
      headless: true,
    });
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (++signals > 1) process.exit(130);
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
  const message = err instanceof StartupError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`boxoffice: ${message}\n`);
  process.exit(1);
});
