/**
 * Starting and stopping a server: logger, registry, app, listen, background model loading, and a graceful drain on
 * SIGTERM/SIGINT (readiness flips to 503 first, in-flight requests finish, models unload).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { configError, type LoadedConfig } from './config/load.js';
import type { LogLevel } from './config/schema.js';
import { buildApp } from './http/app.js';
import { createLogger as createConfiguredLogger, flushLogger, flushLoggerSync, LoggingSetupError, type LogFormat } from './logging/logger.js';
import { ModelRegistry } from './model/registry.js';

/** How long close() waits for loads still running before unloading anyway. */
const LOAD_WAIT_ON_CLOSE_MS = 5000;

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
   * Called once the registry exists, before the app is built and listens: a cluster worker (src/cluster/worker.ts)
   * wires its metrics and readiness to the primary here.
   */
  readonly beforeListen?: (registry: ModelRegistry, logger: Logger) => void;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  readonly registry: ModelRegistry;
  /** `http://host:port` actually bound. */
  readonly url: string;
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
  const registry = await ModelRegistry.fromConfig(options.loaded, logger);
  options.beforeListen?.(registry, logger);
  const app = await buildApp({ config, registry, logger });
  await app.listen({ host: options.host ?? config.server.host, port: options.port ?? config.server.port });
  const address = app.server.address();
  const url = typeof address === 'object' && address ? `http://${formatHost(address.address)}:${address.port}` : String(address);
  logger.info({ url, models: registry.list().map((model) => model.name), config: options.loaded.file }, 'longshore listening');

  const modelsLoaded = registry.loadAll().then(() => {
    const failed = registry.list().filter((model) => model.state === 'failed').map((model) => model.name);
    logger.info({ ready: registry.isReady(), failed }, 'model loading finished');
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      registry.beginDrain();
      if (config.server.drain_delay_ms > 0) await new Promise((resolve) => setTimeout(resolve, config.server.drain_delay_ms));
      await app.close();
      // A model still loading is given a moment to finish, so its unload() sees a settled state; never hang on it.
      await Promise.race([modelsLoaded, new Promise((resolve) => setTimeout(resolve, LOAD_WAIT_ON_CLOSE_MS).unref())]);
      await registry.unloadAll();
      logger.info('longshore stopped');
      // Lines are written asynchronously: make sure the last ones (these included) reached the destination.
      await flushLogger(logger);
    })());

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down: readiness off, draining in-flight requests');
      close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          flushLoggerSync(logger);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    // A model's stray promise must not take every other model down with it: log it with its stack and keep serving.
    process.on('unhandledRejection', (reason) => {
      logger.error({ err: reason }, 'unhandled promise rejection (a bug in a model or in longshore); the server keeps running');
    });
  }
  return { app, registry, url, modelsLoaded, close };
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
