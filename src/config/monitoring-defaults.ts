/**
 * The prediction log's defaults (the one table of them) and a model's effective `monitoring`: its entry's keys over
 * the server-wide ones, key by key (the destination as a whole), with every default filled in.
 */
import type { Static } from '@sinclair/typebox';
import type { MonitoringSchema } from './observability-schema.js';

export type MonitoringConfig = Static<typeof MonitoringSchema>;
export type MonitoringInclude = NonNullable<MonitoringConfig['include']>;

export const MONITORING_DEFAULTS = {
  enabled: false,
  sample_rate: 1,
  batch_size: 100,
  flush_interval_ms: 1000,
  max_buffer: 10_000,
  include: 'both',
  destination: { type: 'stdout' },
  /** file destination */
  max_bytes: 100 * 1024 * 1024,
  max_files: 5,
  /** http destination */
  timeout_ms: 5000,
} as const;

export type ResolvedDestination =
  | { readonly type: 'stdout' }
  | { readonly type: 'file'; readonly path: string; readonly max_bytes: number; readonly max_files: number }
  | { readonly type: 'http'; readonly url: string; readonly headers: Readonly<Record<string, string>>; readonly timeout_ms: number };

/** A model's prediction log settings with every default filled; sampling is `sample_every` when set, else `sample_rate`. */
export interface ResolvedMonitoring {
  readonly enabled: boolean;
  readonly sample_rate?: number;
  readonly sample_every?: number;
  readonly batch_size: number;
  readonly flush_interval_ms: number;
  readonly max_buffer: number;
  readonly include: MonitoringInclude;
  readonly destination: ResolvedDestination;
}

/**
 * The model's keys over the server-wide ones, then the defaults. sample_rate and sample_every exclude each other: the
 * model's choice replaces the server's, whichever it names. Only called on validated settings (load.ts refuses a file
 * destination without path and an http one without url).
 */
export function resolveMonitoring(server: MonitoringConfig | undefined, model: MonitoringConfig | undefined): ResolvedMonitoring {
  const merged: MonitoringConfig = { ...server, ...model };
  if (model?.sample_rate !== undefined || model?.sample_every !== undefined) {
    merged.sample_rate = model.sample_rate;
    merged.sample_every = model.sample_every;
  }
  const sampling =
    merged.sample_every !== undefined ? { sample_every: merged.sample_every } : { sample_rate: merged.sample_rate ?? MONITORING_DEFAULTS.sample_rate };
  return {
    enabled: merged.enabled ?? MONITORING_DEFAULTS.enabled,
    ...sampling,
    batch_size: merged.batch_size ?? MONITORING_DEFAULTS.batch_size,
    flush_interval_ms: merged.flush_interval_ms ?? MONITORING_DEFAULTS.flush_interval_ms,
    max_buffer: merged.max_buffer ?? MONITORING_DEFAULTS.max_buffer,
    include: merged.include ?? MONITORING_DEFAULTS.include,
    destination: resolveDestination(merged.destination),
  };
}

function resolveDestination(destination: MonitoringConfig['destination']): ResolvedDestination {
  switch (destination?.type) {
    case undefined:
    case 'stdout':
      return MONITORING_DEFAULTS.destination;
    case 'file':
      return {
        type: 'file',
        path: destination.path ?? '',
        max_bytes: destination.max_bytes ?? MONITORING_DEFAULTS.max_bytes,
        max_files: destination.max_files ?? MONITORING_DEFAULTS.max_files,
      };
    case 'http':
      return { type: 'http', url: destination.url ?? '', headers: destination.headers ?? {}, timeout_ms: destination.timeout_ms ?? MONITORING_DEFAULTS.timeout_ms };
  }
}
