/**
 * The prediction log's settings of one model, from its effective `monitoring` (the config loader merged the entry's
 * keys over the server-wide ones and filled every default: config/monitoring-defaults.ts), with a file path resolved
 * against the config's directory.
 */
import { isAbsolute, resolve } from 'node:path';
import type { MonitoringInclude, ResolvedDestination, ResolvedMonitoring } from '../config/monitoring-defaults.js';

export type { MonitoringInclude } from '../config/monitoring-defaults.js';

export type DestinationSettings =
  | { readonly type: 'stdout' }
  | { readonly type: 'file'; readonly path: string; readonly maxBytes: number; readonly maxFiles: number }
  | { readonly type: 'http'; readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly timeoutMs: number };

export interface PredictionLogSettings {
  /** Every Nth call (a counter), or a fraction at random. */
  readonly sampling: { readonly every: number } | { readonly rate: number };
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly maxBuffer: number;
  readonly include: MonitoringInclude;
  readonly destination: DestinationSettings;
}

/** The settings of a model's prediction log, or undefined when it is off for this model. */
export function predictionLogSettings(monitoring: ResolvedMonitoring, configDir: string): PredictionLogSettings | undefined {
  if (!monitoring.enabled) return undefined;
  return {
    sampling: monitoring.sample_every !== undefined ? { every: monitoring.sample_every } : { rate: monitoring.sample_rate ?? 1 },
    batchSize: monitoring.batch_size,
    flushIntervalMs: monitoring.flush_interval_ms,
    maxBuffer: monitoring.max_buffer,
    include: monitoring.include,
    destination: destinationSettings(monitoring.destination, configDir),
  };
}

function destinationSettings(destination: ResolvedDestination, configDir: string): DestinationSettings {
  switch (destination.type) {
    case 'stdout':
      return { type: 'stdout' };
    case 'file':
      return {
        type: 'file',
        path: isAbsolute(destination.path) ? destination.path : resolve(configDir, destination.path),
        maxBytes: destination.max_bytes,
        maxFiles: destination.max_files,
      };
    case 'http':
      return { type: 'http', url: destination.url, headers: destination.headers, timeoutMs: destination.timeout_ms };
  }
}
