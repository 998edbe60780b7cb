/**
 * Starting and stopping a server: logger, service (service.ts), app, listen, background model loading, and a graceful drain on
 * SIGTERM/SIGINT (readiness flips to 503 first, in-flight requests finish, models unload); a second signal exits at once.
 * With the CLI's handlers, an error thrown outside any call on the main thread (a model's timer, a stray promise) is
 * logged with the model it came from and counted, and the server keeps serving.
 */
import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { existsSync } from 'node:fs';
import { configError, loadConfigFile, type LoadedConfig } from './config/load.js';
import type { LogLevel, ModelEntry } from './config/schema.js';
import { buildApp } from './http/app.js';
import { readTlsMaterial, type TlsMaterial } from './http/tls.js';
import { warmRoutes, type RouteWarmup } from './http/route-warmup.js';
import type { GrpcServer } from './grpc/server.js';
import { createLogger as createConfiguredLogger, flushLogger, flushLoggerSync, LoggingSetupError, type LogFormat } from './logging/logger.js';
import type { ModelRegistry } from './model/registry.js';
import { closeBounded, trackConnections, whileConnectionsOpen } from './connections.js';
import { installReloads } from './reloads.js';
import { createService, type Service } from './service.js';
import { loadTracing } from './tracing/load.js';
import type { Tracing } from './tracing/span.js';

import { DRAIN_IDLE_CLOSE_MS } from './connections.js';

/** How long close() waits for loads still running before unloading anyway. */
const LOAD_WAIT_ON_CLOSE_MS = 5000;

/** Exit codes of a second signal, by the shell's convention (128 + the signal's number). */
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export interface StartOptions {
  readonly loaded: LoadedConfig;
  /** Override server.host / server.port / logging.level from the file (CLI flags, env). */
  readonly host?: string;
  readonly port?: number;
  readonly logLevel?: LogLevel;
  /** Override logging.format from the file (CLI flag, env). */
  readonly logFormat?: LogFormat;
  /** Use this logger instead of creating one (tests pass a silent one). */
  readonly logger?: Logger;
  /** Install SIGTERM/SIGINT handlers that drain and close (the CLI does; tests and embedders need not). */
  readonly handleSignals?: boolean;
  /**
   * Called once the service exists, before the app is built and listens: a cluster worker (src/cluster/worker.ts)
   * wires its metrics and readiness to the primary here.
   */
  readonly beforeListen?: (service: Service, logger: Logger) => void;
  /**
   * Reads the config again, as at start (the repository API's load, SIGHUP, server.watch): the CLI passes its own
   * reading, flags included. Default: the config file again, when there is one.
   */
  readonly reread?: () => LoadedConfig;
  /** Folders a watch (server.watch) follows as a whole, e.g. the model repository. */
  readonly watchFolders?: readonly string[];
}

export interface RunningServer {
  readonly app: FastifyInstance;
  /** The models, registry, dataplane, metrics and prediction logs behind the app. */
  readonly service: Service;
  readonly registry: ModelRegistry;
  /** `http://host:port` actually bound (`https://` with `tls:`). */
  readonly url: string;
  /** `host:port` the gRPC port actually bound, when server.grpc_port is set (docs/grpc.md). */
  readonly grpcUrl?: string;
  /** Settles when every model has finished loading (ready or failed). */
  readonly modelsLoaded: Promise<void>;
  /** Drains and stops: readiness off, stop accepting, finish in-flight requests, unload models. Idempotent. */
  close(): Promise<void>;
}

/**
 * A logger at `level` with longshore's defaults otherwise (JSON to stdout, `service` on every line, credentials
 * redacted). Kept for callers of the old signature; the server builds its logger from `logging:` instead.
 */
export function createLogger(level: LogLevel): Logger {
  return createConfiguredLogger({ level });
}

/**
 * The logger `logging:` asks for, with the CLI's overrides. A setting it cannot be built with (a destination that
 * cannot be opened, a bad redact path) is a ConfigError naming `logging.<key>` (the CLI exits 2), not a crash.
 */
export function loggerFromConfig(loaded: LoadedConfig, overrides: { logLevel?: LogLevel; logFormat?: LogFormat } = {}): Logger {
  const settings = loaded.config.logging;
  try {
    return createConfiguredLogger(
      { ...settings, level: overrides.logLevel ?? settings.level, format: overrides.logFormat ?? settings.format },
      loaded.dir,
    );
  } catch (error) {
    if (!(error instanceof LoggingSetupError)) throw error;
    // A format given on the command line is not the file's fault: name the flag, not a line of the file.
    const fromFlag = error.key === 'format' && overrides.logFormat !== undefined;
    const problem = fromFlag
      ? { path: 'logging.format', message: `--log-format ${overrides.logFormat} (or LONGSHORE_LOG_FORMAT): ${error.message}` }
      : loaded.problem(['logging', error.key], error.message);
    throw configError(loaded.file, [problem]);
  }
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options.loaded;
  const logger = options.logger ?? loggerFromConfig(options.loaded, { logLevel: options.logLevel, logFormat: options.logFormat });
  // Read before the models are built: a TLS file that is missing is a config error (exit 2), found at once.
  const tls = readTlsMaterial(options.loaded);
  const service = await createService(options.loaded, logger, { reread: options.reread ?? defaultReread(options.loaded) });
  const { registry, dataplane } = service;
  // Installed before listening: a SIGHUP that comes while the server starts must not end it (Node's default). A reload
  // waits for the first loads to finish.
  let startupDone = () => {};
  const reloads = installReloads({
    repository: service.repository,
    logger,
    onSignal: options.handleSignals === true,
    watch: config.server.watch,
    current: () => service.repository.config,
    folders: options.watchFolders ?? [],
    started: new Promise<void>((resolve) => (startupDone = resolve)),
  });
  options.beforeListen?.(service, logger);
  // tracing.enabled: the OpenTelemetry SDK is imported now; otherwise never (docs/tracing.md).
  const tracing = await loadTracing(config.tracing, config.service_title, config.version);
  const app = await buildApp({ config, dataplane, metrics: service.metrics, logger, tls, tracing });
  const connections = trackConnections(app.server, tls !== undefined);
  await app.listen({ host: options.host ?? config.server.host, port: options.port ?? config.server.port });
  const address = app.server.address();
  const url = typeof address === 'object' && address ? `${tls ? 'https' : 'http'}://${formatHost(address.address)}:${address.port}` : String(address);
  const grpc = await startGrpc(options, service, logger, tls, tracing).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  logger.info({ url, grpc_url: grpc?.url, models: registry.list().map((model) => model.name), config: options.loaded.file }, 'longshore listening');

  // The HTTP routes are warmed once the models are loaded, before readiness (http/route-warmup.ts). Not with API keys
  // on: the warmup has none, and a refusal warms little.
  const warming = config.auth === undefined ? dataplane.readiness.hold('the server is warming its HTTP routes') : undefined;
  const modelsLoaded = registry.loadAll().then(async () => {
    if (warming !== undefined) {
      try {
        await warmRoutes(app, routeWarmups(service, config.models), logger, tls === undefined ? url : undefined);
      } finally {
        warming();
      }
    }
    startupDone();
    const failed = registry.list().filter((model) => model.state === 'failed').map((model) => model.name);
    logger.info({ ready: dataplane.ready(), failed }, 'model loading finished');
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      reloads.stop();
      registry.beginDrain();
      if (config.server.drain_delay_ms > 0) await new Promise((resolve) => setTimeout(resolve, config.server.drain_delay_ms));
      await whileConnectionsOpen(app, DRAIN_IDLE_CLOSE_MS - config.server.drain_delay_ms);
      await Promise.all([closeBounded(app, connections, config.server.shutdown_timeout_ms, logger), grpc?.close(config.server.shutdown_timeout_ms)]);
      // A model still loading is given a moment to finish, so its unload() sees a settled state; never hang on it.
      await Promise.race([modelsLoaded, new Promise((resolve) => setTimeout(resolve, LOAD_WAIT_ON_CLOSE_MS).unref())]);
      await service.unloadAll();
      // The spans of the last requests are exported before the process ends (bounded by tracing.export_timeout_ms).
      await tracing?.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'exporting the last spans failed'));
      logger.info('longshore stopped');
      // Lines are written asynchronously: make sure the last ones (these included) reached the destination.
      await flushLogger(logger);
    })());

  if (options.handleSignals) {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        // A cluster worker is stopped by its primary, which sends SIGTERM after the terminal's SIGINT reached them
        // both: the drain already under way goes on.
        if (cluster.isWorker) return;
        // A second Ctrl+C (or SIGTERM): the user will not wait for the drain, nor for a load that does not end.
        logger.warn({ signal }, 'second signal: exiting at once, without waiting for the drain or for models to finish loading');
        flushLoggerSync(logger);
        process.exit(SIGNAL_EXIT_CODES[signal] ?? 1);
      }
      signalled = true;
      logger.info({ signal }, 'shutting down: readiness off, draining in-flight requests');
      const loading = registry.list().filter((model) => model.state === 'loading').map((model) => model.name);
      if (loading.length > 0) {
        logger.warn(
          { signal, loading, wait_ms: LOAD_WAIT_ON_CLOSE_MS },
          `waiting up to ${LOAD_WAIT_ON_CLOSE_MS / 1000} s for models still loading (${loading.join(', ')})` +
            (cluster.isWorker ? '' : `; press Ctrl+C again (or send ${signal} again) to exit at once`),
        );
      }
      close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          flushLoggerSync(logger);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    // A model's stray promise, or an error thrown from its timer, must not take every other model down with it: log it
    // with its stack and the model whose file it came from, count it, and keep serving.
    const outsideCalls = (kind: 'uncaught_exception' | 'unhandled_rejection', what: string) => (error: unknown) => {
      const model = service.modelOfError(error);
      service.metrics.uncaughtError(model, kind);
      const culprit = model === undefined ? 'a model or longshore' : `model '${model}'`;
      logger.error({ err: error, model: model ?? 'unknown', kind }, `${what} outside any call (a bug in ${culprit}); the server keeps running`);
    };
    process.on('unhandledRejection', outsideCalls('unhandled_rejection', 'unhandled promise rejection'));
    process.on('uncaughtException', outsideCalls('uncaught_exception', 'uncaught exception'));
  }
  return { app, service, registry, url, ...(grpc ? { grpcUrl: grpc.url } : {}), modelsLoaded, close };
}

/** The gRPC port (docs/grpc.md), only when server.grpc_port is set: grpc-js is imported then, never otherwise. */
async function startGrpc(options: StartOptions, service: Service, logger: Logger, tls: TlsMaterial | undefined, tracing: Tracing | undefined): Promise<GrpcServer | undefined> {
  const { server, limits } = options.loaded.config;
  if (server.grpc_port === undefined) return undefined;
  const { startGrpcServer } = await import('./grpc/server.js');
  return startGrpcServer({
    dataplane: service.dataplane,
    logger,
    host: server.grpc_host ?? options.host ?? server.host,
    port: server.grpc_port,
    maxMessageBytes: server.grpc_max_message_bytes,
    maxTensorElements: limits.predict.max_tensor_elements,
    auth: options.loaded.config.auth,
    metrics: service.metrics.registry,
    tls,
    ...(tracing ? { tracing } : {}),
  });
}

/** Reads the config file again (with the environment's overlay), or, for a config with no file, gives it as it was. */
function defaultReread(loaded: LoadedConfig): () => LoadedConfig {
  return existsSync(loaded.file) ? () => loadConfigFile(loaded.file, { env: process.env }) : () => loaded;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The models whose /prediction route the start warms: ready, with an endpoint, an example callers can send, and
 * `warmup` above 0; one per name (the route serves the newest ready version).
 */
function routeWarmups(service: Service, entries: readonly ModelEntry[]): RouteWarmup[] {
  const warmups = new Map<string, RouteWarmup>();
  for (const model of service.registry.list()) {
    if (warmups.has(model.name) || model.state !== 'ready' || !model.createEndpoint) continue;
    const index = service.entryIndexOf(model.name);
    if (index !== undefined && entries[index]?.serving.warmup === 0) continue;
    const example = model.requestExamples[0];
    if (example !== undefined) warmups.set(model.name, { name: model.name, input: example.input });
  }
  return [...warmups.values()];
}
