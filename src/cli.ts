#!/usr/bin/env node
import { DEFAULT_PASS_SECONDS, DEFAULT_WAITING_ROOM_LEAD_SECONDS } from './core/decisions/queue.js';
import cluster from 'node:cluster';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_BATCH } from './core/ticket-service.js';
import { BUYER_BUDGET } from './core/decisions/ledger.js';
import { DEFAULT_BUYER_RATE } from './http/buyer-rate.js';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_CLIENT, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_UPLOADS_PER_CLIENT } from './http/app.js';
import { DEFAULT_MAX_STREAMS, DEFAULT_MAX_STREAMS_PER_CLIENT, DEFAULT_STREAM_IDLE_TIMEOUT_MS } from './http/routes/stream.js';
import { parseTrustProxy, type TrustProxy } from './http/trust-proxy.js';
import { optionsFromEnvironment, serveOption } from './cli-env.js';
import { addServerAddressOptions, serverUrl } from './cli-server-address.js';
import { runBackup } from './server/backup.js';
import { runPrimary } from './server/cluster.js';
import { startedByNpmScript, watchParent } from './server/parent-watch.js';
import { DEFAULT_LOG_FILES, DEFAULT_LOG_MAX_SIZE, LOG_LEVELS, type LogFrequency, type LogLevel } from './server/logger.js';
import { StartupError, startServer } from './server/serve.js';
import { VERSION } from './server/version.js';
import { isPostgresUrl } from './store/index.js';
import { validateTimeZone } from './core/validation.js';

function integer(name: string, min: number, max: number) {
  return (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}.`);
    }
    return Number(raw);
  };
}

/** A byte size: a whole number with an optional k, m or g (KiB, MiB, GiB), e.g. 20m. */
function byteSize(name: string, min: number) {
  return (raw: string): number => {
    const match = /^(\d+)([kmg]?)$/i.exec(raw.trim());
    const bytes = match ? Number(match[1]) * 1024 ** ' kmg'.indexOf((match[2] || ' ').toLowerCase()) : NaN;
    if (!Number.isSafeInteger(bytes) || bytes < min) throw new InvalidArgumentError(`${name} must be a size like 20m, 512k or 1g, at least ${min / 1024}k.`);
    return bytes;
  };
}

/** `daily`, `hourly`, or an interval like 30s or 15m (pino-roll takes milliseconds). */
function logFrequency(raw: string): LogFrequency {
  const value = raw.trim().toLowerCase();
  if (value === 'daily' || value === 'hourly') return value;
  const match = /^(\d+)([sm])$/.exec(value);
  const ms = match ? Number(match[1]) * (match[2] === 's' ? 1000 : 60_000) : NaN;
  if (!(ms >= 1000 && ms <= 86_400_000)) throw new InvalidArgumentError('log-frequency must be daily, hourly, or an interval from 1s to 1440m like 30s or 15m.');
  return ms;
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
  timeZone?: string;
  waitingRoomLead: number;
  admissionPassSeconds: number;
  maxBatch: number;
  logLevel: LogLevel;
  logMaxSize?: number;
  logFiles: number;
  logFrequency?: LogFrequency;
  headless: boolean;
  maxInflightPerClient?: number;
  maxConnections: number;
  maxConnectionsPerClient: number;
  maxUploadsPerClient: number;
  trustProxy: TrustProxy;
  buyerRate: number;
  buyerGiveBack: number;
  buyerRefusalsKept: number;
  benchRoutes: boolean;
  corsOrigin?: string;
  maxStreams: number;
  maxStreamsPerClient: number;
  streamIdleTimeout: number;
  skipIntegrityCheck: boolean;
}

function trustProxy(raw: string): TrustProxy {
  // The flag alone means the proxy on this machine; BOXOFFICE_TRUST_PROXY=true says the same.
  if (raw === 'true') return true;
  try {
    return parseTrustProxy(raw);
  } catch (err) {
    throw new InvalidArgumentError(`trust-proxy takes a hop count or proxy addresses (e.g. 1, or 10.0.0.5,10.0.1.0/24): ${(err as Error).message}.`);
  }
}

function corsOrigin(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidArgumentError('cors-origin must be an origin like https://tickets.example.');
  }
  if (!/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || raw.endsWith('/')) {
    throw new InvalidArgumentError('cors-origin must be an origin like https://tickets.example (scheme, host and port only).');
  }
  return url.origin;
}

const program = new Command()
  .name('boxoffice')
  .description('A concurrent general-admission ticket reservation server.')
  .version(VERSION)
  // Every usage error is one line with the same prefix as every other failure.
  .configureOutput({
    outputError: (text, write) => write(`boxoffice: ${text.trim().replace(/^error: /, '')} (run with --help for usage)\n`),
  });

const serve = program
  .command('serve')
  .description('run the HTTP API (headless: logs go to <data-dir>/logs/server.log and stderr)')
  .addOption(serveOption('--host <address>', 'address to listen on', '127.0.0.1'))
  .addOption(serveOption('--port <n>', 'port to listen on (0 picks a free one)', integer('port', 0, 65535), 8080))
  .addOption(serveOption('--data-dir <dir>', 'where the database, admin token and logs live', './data'))
  .addOption(serveOption('--db <file|:memory:|postgres://…>', 'SQLite file (default <data-dir>/boxoffice.db), :memory: for a throwaway store, or a PostgreSQL URL (default $DATABASE_URL when it is one)'))
  .addOption(serveOption('--db-pool <n>', 'PostgreSQL connections per process', integer('db-pool', 1, 1000), 10))
  .addOption(serveOption('--pg-schema <name>', 'PostgreSQL schema for the tables', 'public'))
  .addOption(serveOption('--workers <n>', 'worker processes sharing the port and the database (uses every core)', integer('workers', 1, 64), 1))
  .addOption(serveOption('--max-inflight <n>', 'requests in service at once (per process) before answering 429', integer('max-inflight', 1, 1_000_000), DEFAULT_MAX_IN_FLIGHT))
  .addOption(serveOption('--max-inflight-per-client <n>', 'requests in service at once from one client address (default: an eighth of --max-inflight, at least 8)', integer('max-inflight-per-client', 1, 1_000_000)))
  .addOption(serveOption('--max-connections <n>', 'open sockets at once (per process); a socket beyond it is answered 429 and closed', integer('max-connections', 1, 1_000_000), DEFAULT_MAX_CONNECTIONS))
  .addOption(serveOption('--max-connections-per-client <n>', 'open sockets from one address (0: no limit; a trusted proxy is exempt); a socket beyond it is answered 429 and closed', integer('max-connections-per-client', 0, 1_000_000), DEFAULT_MAX_CONNECTIONS_PER_CLIENT))
  .addOption(serveOption('--max-uploads-per-client <n>', 'request bodies still arriving at once from one client address before 429', integer('max-uploads-per-client', 1, 1_000_000), DEFAULT_MAX_UPLOADS_PER_CLIENT))
  .addOption(serveOption('--trust-proxy [hops|addresses]', 'take the client address from X-Forwarded-For as written by your proxies: alone, a proxy on this machine (127.0.0.1, ::1); a number of proxy hops; or proxy addresses/CIDRs, comma-separated', trustProxy, false))
  .addOption(serveOption('--buyer-rate <n>', 'write requests (book, hold, confirm, release, cancel) a second from one client address before 429; the admin token is exempt (per process; 0 turns it off)', integer('buyer-rate', 0, 1_000_000), DEFAULT_BUYER_RATE))
  .addOption(serveOption('--buyer-give-back <n>', 'tickets one client address may give back per event (its own cancels, releases, expired holds) before its new holds and bookings of that event are refused', integer('buyer-give-back', 1, 1_000_000_000), BUYER_BUDGET.givenBack))
  .addOption(serveOption('--buyer-refusals-kept <n>', 'refusals remembered under one client address\'s Idempotency-Keys per event; beyond it a refusal is answered but not stored (a retry is decided again)', integer('buyer-refusals-kept', 0, 1_000_000_000), BUYER_BUDGET.refusals))
  .addOption(serveOption('--max-streams <n>', 'live event streams (GET /events/stream) at once, per process; beyond it 429 too_many_streams', integer('max-streams', 1, 1_000_000), DEFAULT_MAX_STREAMS))
  .addOption(serveOption('--max-streams-per-client <n>', 'live event streams at once from one client address (0: no limit); beyond it 429 too_many_streams', integer('max-streams-per-client', 0, 1_000_000), DEFAULT_MAX_STREAMS_PER_CLIENT))
  .addOption(serveOption('--stream-idle-timeout <seconds>', 'drop a stream subscriber that leaves more than 1 MiB unread for this long (it reconnects and gets a fresh snapshot)', integer('stream-idle-timeout', 1, 86_400), DEFAULT_STREAM_IDLE_TIMEOUT_MS / 1000))
  .addOption(serveOption('--cors-origin <origin>', 'let browser pages from this one origin call the API (CORS is off without it)', corsOrigin))
  .addOption(serveOption('--time-zone <zone>', "IANA time zone of events created without one, e.g. Europe/Berlin (default: this machine's)", ianaZone))
  .addOption(serveOption('--waiting-room-lead <seconds>', "how long before an event's onSaleAt its waiting room takes joins", integer('waiting-room-lead', 0, 30 * 86_400), DEFAULT_WAITING_ROOM_LEAD_SECONDS))
  .addOption(serveOption('--admission-pass-seconds <seconds>', "how long a waiting room's admission pass stays valid; an unused one then frees its slot", integer('admission-pass-seconds', 10, 86_400), DEFAULT_PASS_SECONDS))
  .addOption(serveOption('--cache-size <n>', 'events kept in the read cache', integer('cache-size', 1, 10_000_000), 10_000))
  .addOption(serveOption('--max-batch <n>', 'most bookings decided per transaction (1 turns group commit off)', integer('max-batch', 1, 100_000), DEFAULT_MAX_BATCH))
  .addOption(serveOption('--skip-integrity-check', 'start without checking the SQLite file (PRAGMA quick_check reads all of it: minutes on a huge file)', false))
  .addOption(serveOption('--bench-routes', 'also serve POST /noop, the benchmark\'s ceiling (never in production)', false))
  .addOption(serveOption('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  // No parsed default here: commander would print it in bytes. The logger's default applies.
  .addOption(serveOption('--log-max-size <size>', `rotate <data-dir>/logs/server.log when it reaches this size, k, m or g (default: ${DEFAULT_LOG_MAX_SIZE / 1024 / 1024}m)`, byteSize('log-max-size', 16 * 1024)))
  .addOption(serveOption('--log-files <n>', 'log files kept in all, the live one included (server.1.log, server.2.log, …; server.log names the live one)', integer('log-files', 2, 1000), DEFAULT_LOG_FILES))
  .addOption(serveOption('--log-frequency <when>', 'also start a new log file daily (at local midnight), hourly, or every <n>s / <n>m (default: by size only)', logFrequency))
  .addOption(serveOption('--headless', 'no terminal UI: log readable lines to stderr (also when not run in a terminal)', false));
optionsFromEnvironment(serve).action(async (opts: ServeFlags) => {
    const db = opts.db ?? (isPostgresUrl(process.env.DATABASE_URL) ? process.env.DATABASE_URL : undefined);
    // Under `npm start`, npm gone (even by SIGKILL) means stop, as a SIGTERM would (workers follow their primary).
    if (cluster.isPrimary && startedByNpmScript()) {
      watchParent(() => {
        process.stderr.write('boxoffice: the npm process that started this server is gone; stopping\n');
        process.kill(process.pid, 'SIGTERM');
      });
    }
    if (opts.workers > 1 && db === ':memory:') throw new StartupError('--workers needs shared storage: use a SQLite file or PostgreSQL, not :memory:');
    if (opts.workers > 1 && cluster.isPrimary) {
      await runPrimary({ workers: opts.workers, dataDir: opts.dataDir, db, skipIntegrityCheck: opts.skipIntegrityCheck, logLevel: opts.logLevel, logMaxSize: opts.logMaxSize, logFiles: opts.logFiles, logFrequency: opts.logFrequency });
      process.exit(0);
    }
    const serveOptions = {
      host: opts.host,
      port: opts.port,
      dataDir: opts.dataDir,
      db,
      pgSchema: opts.pgSchema,
      dbPool: opts.dbPool,
      maxInFlight: opts.maxInflight,
      cacheSize: opts.cacheSize,
      timeZone: opts.timeZone,
      waitingRoomLeadSeconds: opts.waitingRoomLead,
      admissionPassSeconds: opts.admissionPassSeconds,
      maxBatch: opts.maxBatch,
      logLevel: opts.logLevel,
      logMaxSize: opts.logMaxSize,
      logFiles: opts.logFiles,
      logFrequency: opts.logFrequency,
      maxInFlightPerClient: opts.maxInflightPerClient,
      maxConnections: opts.maxConnections,
      maxConnectionsPerClient: opts.maxConnectionsPerClient,
      maxUploadsPerClient: opts.maxUploadsPerClient,
      trustProxy: opts.trustProxy,
      corsOrigin: opts.corsOrigin,
      buyerRate: opts.buyerRate,
      buyerBudget: { givenBack: opts.buyerGiveBack, refusals: opts.buyerRefusalsKept },
      maxStreams: opts.maxStreams,
      maxStreamsPerClient: opts.maxStreamsPerClient,
      streamIdleTimeout: opts.streamIdleTimeout,
      benchRoutes: opts.benchRoutes,
      skipIntegrityCheck: opts.skipIntegrityCheck,
    };
    // In a terminal (and a single process), the organiser's screens run around the server.
    if (process.stdout.isTTY && process.stdin.isTTY && !opts.headless && opts.workers === 1) {
      const { runServeUi } = await import('./tui/run.js');
      process.exit(await runServeUi(serveOptions));
    }
    const server = await startServer({ ...serveOptions, headless: true });
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

program
  .command('backup')
  .description('copy the SQLite database to <file> while the server runs (SQLite backup API; PostgreSQL: use pg_dump)')
  .argument('<file>', 'where the copy goes (created with mode 0600)')
  .addOption(serveOption('--data-dir <dir>', "the server's data dir (the database is <data-dir>/boxoffice.db)", './data'))
  .addOption(serveOption('--db <file|postgres://…>', "the server's --db, when it is not <data-dir>/boxoffice.db"))
  .option('--force', 'replace <file> if it exists', false)
  .action(async (file: string, opts: { dataDir: string; db?: string; force: boolean }) => {
    process.stdout.write(`${await runBackup({ file, ...opts })}\n`);
  });

addServerAddressOptions(program.command('client').description("the buyer's terminal UI: browse events live, hold tickets and confirm them"))
  .option('--data-dir <dir>', 'where the client log goes (<data-dir>/logs/client.log)', './data')
  .option('--connect-timeout <seconds>', 'how long to keep trying to reach the server at start', integer('connect-timeout', 1, 3600), 10)
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .action(async (opts: { dataDir: string; connectTimeout: number; logLevel: LogLevel }, command: Command) => {
    const url = serverUrl(command);
    const { runClientUi } = await import('./tui/run.js');
    process.exit(await runClientUi({ url, dataDir: opts.dataDir, logLevel: opts.logLevel, connectTimeoutMs: opts.connectTimeout * 1000 }));
  });

addServerAddressOptions(program.command('admin').description("the organiser's screens (events, add event, logs) against a running server over HTTP"))
  .option('--token <token>', 'admin token (default $BOXOFFICE_ADMIN_TOKEN, then <data-dir>/admin-token)')
  .option('--data-dir <dir>', 'where to look for admin-token, and where the admin log goes', './data')
  .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
  .action(async (opts: { token?: string; dataDir: string; logLevel: LogLevel }, command: Command) => {
    const url = serverUrl(command);
    const { runAdminUi } = await import('./tui/run.js');
    process.exit(await runAdminUi({ url, token: opts.token, dataDir: opts.dataDir, logLevel: opts.logLevel }));
  });

addServerAddressOptions(
  program
    .command('door')
    .description('the door screen: scan tickets (a USB scanner types the code and Enter); keeps admitting offline when the organiser allows it'),
)
  .option('--token <token>', 'door token (default $BOXOFFICE_DOOR_TOKEN); the organiser creates one per door')
  .option('--event <id>', "the door's event (default: found from the token)")
  .option('--data-dir <dir>', 'where the offline queue is kept between runs', './data')
  .action(async (opts: { token?: string; event?: string; dataDir: string }, command: Command) => {
    const url = serverUrl(command);
    const { runDoorUi } = await import('./tui/run.js');
    process.exit(await runDoorUi({ url, token: opts.token, eventId: opts.event, dataDir: opts.dataDir }));
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`boxoffice: ${message}\n`);
  process.exit(1);
});

/** `--time-zone`: refused at start when Intl does not know it, like every other bad flag. */
function ianaZone(raw: string): string {
  try {
    return validateTimeZone(raw);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}
