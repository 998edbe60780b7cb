/**
 * A cluster worker: the ordinary server (startServer, with its own models, signals and graceful drain), plus the
 * cluster's hooks installed before it listens: readiness answers for every worker, /metrics for the whole cluster,
 * and this worker's readiness and metrics sent to the primary.
 */
import { setMetricsSource, metricsEnabled } from '../http/metrics.js';
import { loggerFromConfig, startServer } from '../server.js';
import type { Service } from '../service.js';
import { metricsPartOf } from './metrics-aggregate.js';
import type { ClusterServeOptions } from './options.js';
import { ClusterReadinessView, reportReadiness } from './readiness.js';
import { WorkerChannel } from './worker-ipc.js';

/** After a failed start, how long the CLI has to report the error and set the exit code before the worker leaves. */
const EXIT_AFTER_FAILURE_MS = 200;

export async function runWorker(options: ClusterServeOptions): Promise<void> {
  const logger = loggerFromConfig(options.loaded, { logLevel: options.logLevel, logFormat: options.logFormat });
  // Every worker writes to the same destination: its lines carry its pid.
  logger.setBindings({ pid: process.pid });
  try {
    await startServer({
      loaded: options.loaded,
      host: options.host,
      port: options.port,
      logger,
      handleSignals: true,
      ...(options.reread ? { reread: options.reread } : {}),
      beforeListen: (service) => joinCluster(service, options),
    });
  } catch (error) {
    // The IPC channel keeps a cluster worker alive: once the CLI has written the error and set process.exitCode,
    // leave with that code (the primary sees a worker that failed to start).
    setTimeout(() => process.exit(), EXIT_AFTER_FAILURE_MS).unref();
    throw error;
  }
}

/** Wires this worker's readiness and metrics to the primary. */
function joinCluster({ metrics, dataplane }: Service, options: ClusterServeOptions): void {
  const view = new ClusterReadinessView();
  const channel = new WorkerChannel({ view: (message) => view.update(message), collect: metricsPartOf(metrics.registry) });
  dataplane.readiness.setGate(() => view.problems());
  if (metricsEnabled(options.loaded.config.metrics)) setMetricsSource(metrics.registry, () => channel.requestMetrics());
  // The first report also tells the primary this worker listens: it answers with the view, and asks it for metrics.
  reportReadiness(() => dataplane.readiness.isReady(), (message) => channel.send(message));
}
