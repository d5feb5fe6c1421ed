import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { TicketService } from '../core/ticket-service.js';
import { buildApp } from '../http/app.js';
import type { TrustProxy } from '../http/trust-proxy.js';
import { VERSION } from './version.js';
import { CLUSTER_WRITER_ENV, describeStore, isPostgresUrl, openStore } from '../store/index.js';
import cluster from 'node:cluster';
import { useClusterMetrics } from '../http/cluster-metrics.js';
import { diskFullProblem } from './disk-space.js';
import { resolveAdminToken, resolveMetricsToken } from './admin-token.js';
import { createFileLogger, type LogFrequency, type LogLevel } from './logger.js';
import { resolveSecretKeys, SECRET_KEY_ENV } from './secret-key.js';
import { ticketCodes } from '../core/ticket-codes.js';
import { boundHeapGrowth } from './heap.js';

export interface ServeOptions {
  host: string;
  port: number;
  dataDir: string;
  db?: string;
  pgSchema?: string;
  dbPool?: number;
  maxInFlight: number;
  maxInFlightPerClient?: number;
  maxConnections?: number;
  maxConnectionsPerClient?: number;
  maxUploadsPerClient?: number;
  trustProxy?: TrustProxy;
  corsOrigin?: string;
  /** Live event streams at once, in all and per client address (0: no per-address limit). */
  maxStreams?: number;
  maxStreamsPerClient?: number;
  /** Seconds a stream subscriber may leave more than the cap unread before it is dropped. */
  streamIdleTimeout?: number;
  /** Booking and hold requests a second per client address (0: off). */
  buyerRate?: number;
  /** What one buyer may make the server store per event (`--buyer-give-back`, `--buyer-refusals-kept`). */
  buyerBudget?: { givenBack: number; refusals: number };
  /** Serve POST /noop for the benchmark. */
  benchRoutes?: boolean;
  cacheSize: number;
  maxBatch: number;
  /** The time zone of events created without one (default: this machine's). */
  timeZone?: string;
  /** The waiting room: how long before onSaleAt it takes joins, and how long a pass lasts (seconds). */
  waitingRoomLeadSeconds?: number;
  admissionPassSeconds?: number;
  /** Skip SQLite's PRAGMA quick_check at start (it reads the whole file). */
  skipIntegrityCheck?: boolean;
  logLevel: LogLevel;
  /** Log rotation: bytes per file, and files kept in all. */
  logMaxSize?: number;
  logFiles?: number;
  logFrequency?: LogFrequency;
  /** Readable log lines on stderr; false when a terminal UI owns the screen. */
  headless: boolean;
  /** An extra in-memory log destination (the admin UI's Logs screen). */
  logStream?: { write(line: string): unknown };
  /** Hears each startup step, for the admin UI's progress bar. */
  onProgress?: (step: { step: 'storage' | 'listen'; detail: string }) => void;
}

/** A failure the user can fix (bad flag, port taken, unwritable directory): one line, no stack. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface RunningServer {
  url: string;
  /** The running service, for the in-process admin UI. */
  service: TicketService;
  /** Stops accepting, answers newcomers 503, finishes in-flight bookings, closes storage. */
  stop(reason: string): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 10_000;
const DRAIN_WINDOW_MS = 300;

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  makeFilesPrivate();
  boundHeapGrowth();
  const dataDir = resolve(options.dataDir);
  ensureWritableDir(dataDir);
  refuseFullDisk(dataDir, options.db);
  let secrets;
  try {
    secrets = resolveSecretKeys(dataDir);
  } catch (err) {
    throw new StartupError((err as Error).message);
  }
  const { logger, file: logFile } = createFileLogger({
    dataDir,
    name: 'server',
    level: options.logLevel,
    prettyStderr: options.headless,
    extraStream: options.logStream,
    rotation: { maxSize: options.logMaxSize, files: options.logFiles, frequency: options.logFrequency },
  });

  // Before the database opens: a token nobody could send is a configuration error, not a server.
  const admin = resolveAdminToken(dataDir);
  const metricsToken = resolveMetricsToken();
  // Under `--workers N` on SQLite the primary owns the writes (src/server/cluster.ts).
  const clusterWorker = cluster.isWorker && process.env[CLUSTER_WRITER_ENV] === '1';
  const selection = { db: options.db, dataDir, pgSchema: options.pgSchema, poolSize: options.dbPool, integrityCheck: !options.skipIntegrityCheck, logger, secretKeys: secrets.keys, clusterWorker };
  options.onProgress?.({ step: 'storage', detail: describeStore(selection) });
  let store;
  try {
    store = await openStore(selection);
  } catch (err) {
    throw new StartupError(`cannot open the database ${describeStore(selection)}: ${(err as Error).message}`);
  }
  // Ticket codes are signed with keys derived from the same server key: every node signs and verifies alike.
  const service = new TicketService(store, { cacheSize: options.cacheSize, maxBatch: options.maxBatch, defaultTimeZone: options.timeZone, waitingRoomLeadSeconds: options.waitingRoomLeadSeconds, admissionPassSeconds: options.admissionPassSeconds, logger, ticketCodes: ticketCodes(...secrets.keys), buyerBudget: options.buyerBudget });
  const { app, metrics, beginShutdown, inFlight, uploading } = buildApp({
    service,
    logger,
    config: {
      adminToken: admin.token,
      metricsToken,
      maxInFlight: options.maxInFlight,
      maxInFlightPerClient: options.maxInFlightPerClient,
      maxConnections: options.maxConnections,
      maxConnectionsPerClient: options.maxConnectionsPerClient,
      maxUploadsPerClient: options.maxUploadsPerClient,
      trustProxy: options.trustProxy,
      corsOrigin: options.corsOrigin,
      buyerRatePerSecond: options.buyerRate,
      maxStreams: options.maxStreams,
      maxStreamsPerClient: options.maxStreamsPerClient,
      streamIdleTimeoutMs: options.streamIdleTimeout === undefined ? undefined : options.streamIdleTimeout * 1000,
      benchRoutes: options.benchRoutes,
      version: VERSION,
    },
  });

  if (cluster.isWorker) useClusterMetrics(metrics);

  options.onProgress?.({ step: 'listen', detail: `${options.host}:${options.port}` });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await service.close();
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === 'EADDRINUSE'
        ? `port ${options.port} on ${options.host} is already in use`
        : code === 'EADDRNOTAVAIL'
          ? `cannot listen on ${options.host}: no such address on this machine`
          : code === 'EACCES'
            ? `not allowed to listen on port ${options.port}`
            : `cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`;
    throw new StartupError(message);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`;
  logger.info(
    {
      url,
      store: describeStore(selection),
      logFile,
      adminToken: admin.source === 'env' ? 'from BOXOFFICE_ADMIN_TOKEN' : admin.file,
      maxInFlight: options.maxInFlight,
      maxBatch: options.maxBatch,
    },
    `boxoffice listening on ${url}`,
  );
  if (!isLoopback(options.host) && admin.source !== 'env') {
    logger.warn(
      { host: options.host, adminTokenFile: admin.file },
      `listening on ${options.host}, reachable from other machines, with an admin token from a file; set BOXOFFICE_ADMIN_TOKEN explicitly for a public deployment`,
    );
  }
  if (admin.source === 'generated') logger.info({ file: admin.file }, `admin token generated in ${admin.file} (mode 0600)`);
  if (secrets.source === 'generated') logger.info({ file: secrets.file }, `booking secret key generated in ${secrets.file} (mode 0600)`);
  if (isPostgresUrl(options.db) && secrets.source !== 'env') {
    logger.warn(
      { secretKeyFile: secrets.file },
      `booking secrets are derived from ${secrets.file}: every node on this database must use the same key (copy the file, or set ${SECRET_KEY_ENV} on every node), or a retry on another node answers without the secret`,
    );
  }

  let stopping: Promise<void> | undefined;
  const stop = (reason: string) =>
    (stopping ??= (async () => {
      logger.info({ reason }, 'shutting down: finishing in-flight requests');
      beginShutdown();
      const timer = setTimeout(() => {
        logger.error('graceful shutdown took too long; exiting');
        process.exit(1);
      }, SHUTDOWN_GRACE_MS);
      timer.unref();
      // Keep-alive clients may have a request on the wire already: for a short window they still get
      // an answer (a 503 with Connection: close) instead of a reset, while in-flight work finishes.
      const started = Date.now();
      // A request still uploading holds no slot but keeps its connection open: wait for it too.
      while (inFlight() + uploading() > 0 || Date.now() < started + DRAIN_WINDOW_MS) {
        if (Date.now() > started + SHUTDOWN_GRACE_MS / 2) {
          // A client stalled mid-upload would hold the shutdown forever: cut the stragglers off.
          logger.warn({ inFlight: inFlight(), uploading: uploading() }, 'closing connections that did not finish in time');
          app.server.closeAllConnections();
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      await app.close();
      await service.close();
      logger.info('stopped');
      clearTimeout(timer);
      await new Promise<void>((done) => logger.flush(() => done()));
    })());
  return { url, service, stop };
}

/**
 * Every file and directory the server creates from now on (database, journal, logs, keys) is this
 * account's only: 0600 and 0700. The files that matter are also created with explicit modes.
 */
export function makeFilesPrivate(): void {
  // Worker threads may not change the process's umask; the main thread already did.
  if (isMainThread) process.umask(0o077);
}

export function ensureWritableDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    throw new StartupError(`cannot use data dir ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** A full disk is refused before anything (the log included) writes to it. */
function refuseFullDisk(dataDir: string, db: string | undefined): void {
  const dirs = [dataDir];
  if (db && db !== ':memory:' && !isPostgresUrl(db)) dirs.push(dirname(resolve(db)));
  for (const dir of dirs) {
    const problem = diskFullProblem(dir);
    if (problem) throw new StartupError(problem);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
