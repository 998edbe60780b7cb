/**
 * `longshore serve --processes N` (N ≥ 2): loaded by the CLI only then. node:cluster re-runs the same command in each
 * worker; cluster.isWorker tells the two apart: the primary supervises, each worker serves.
 */
import cluster from 'node:cluster';
import { loggerFromConfig } from '../server.js';
import type { ClusterServeOptions } from './options.js';
import { ClusterPrimary } from './primary.js';
import { runWorker } from './worker.js';

export type { ClusterServeOptions } from './options.js';

/** The primary returns once the workers are forked (it runs until a signal); a worker, once it listens. */
export async function serveCluster(options: ClusterServeOptions): Promise<void> {
  if (cluster.isWorker) return runWorker(options);
  // The config was validated by the CLI; the logger is built here, so its problems too exit 2 before any fork.
  const logger = loggerFromConfig(options.loaded, { logLevel: options.logLevel, logFormat: options.logFormat });
  logger.setBindings({ pid: process.pid });
  new ClusterPrimary({ processes: options.processes, logger, drainDelayMs: options.loaded.config.server.drain_delay_ms }).start();
}
