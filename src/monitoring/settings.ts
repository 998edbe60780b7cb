/**
 * The prediction log's settings of one model: its entry's `monitoring` keys over the server-wide ones (key by key; the
 * destination as a whole), with the defaults filled in and a file path resolved against the config's directory.
 */
import { isAbsolute, resolve } from 'node:path';
import type { LongshoreConfig } from '../config/schema.js';

export type MonitoringConfig = LongshoreConfig['monitoring'];
export type MonitoringInclude = NonNullable<MonitoringConfig['include']>;

export const MONITORING_DEFAULTS = {
  sampleRate: 1,
  batchSize: 100,
  flushIntervalMs: 1000,
  maxBuffer: 10_000,
  include: 'both' as MonitoringInclude,
  maxBytes: 100 * 1024 * 1024,
  maxFiles: 5,
  timeoutMs: 5000,
};

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

/** The merged settings, or undefined when the prediction log is off for this model. */
export function resolvePredictionLog(
  server: MonitoringConfig | undefined,
  model: MonitoringConfig | undefined,
  configDir: string,
): PredictionLogSettings | undefined {
  const merged: MonitoringConfig = { ...server, ...model };
  // sample_rate and sample_every exclude each other: the model's choice replaces the server's, whichever it names.
  if (model?.sample_rate !== undefined || model?.sample_every !== undefined) {
    merged.sample_rate = model.sample_rate;
    merged.sample_every = model.sample_every;
  }
  if (merged.enabled !== true) return undefined;
  return {
    sampling: merged.sample_every !== undefined ? { every: merged.sample_every } : { rate: merged.sample_rate ?? MONITORING_DEFAULTS.sampleRate },
    batchSize: merged.batch_size ?? MONITORING_DEFAULTS.batchSize,
    flushIntervalMs: merged.flush_interval_ms ?? MONITORING_DEFAULTS.flushIntervalMs,
    maxBuffer: merged.max_buffer ?? MONITORING_DEFAULTS.maxBuffer,
    include: merged.include ?? MONITORING_DEFAULTS.include,
    destination: resolveDestination(merged.destination, configDir),
  };
}

function resolveDestination(destination: MonitoringConfig['destination'], configDir: string): DestinationSettings {
  switch (destination?.type) {
    case undefined:
    case 'stdout':
      return { type: 'stdout' };
    case 'file': {
      // load.ts rejects a file destination without a path; the fallback only keeps this total.
      const path = destination.path ?? 'predictions.jsonl';
      return {
        type: 'file',
        path: isAbsolute(path) ? path : resolve(configDir, path),
        maxBytes: destination.max_bytes ?? MONITORING_DEFAULTS.maxBytes,
        maxFiles: destination.max_files ?? MONITORING_DEFAULTS.maxFiles,
      };
    }
    case 'http':
      return {
        type: 'http',
        url: destination.url ?? '',
        headers: destination.headers ?? {},
        timeoutMs: destination.timeout_ms ?? MONITORING_DEFAULTS.timeoutMs,
      };
  }
}
