/**
 * Resolves a model's serving settings (batching, limits, timeout) from its entry, the file's `defaults:` and the
 * built-in defaults, in that order of precedence. load.ts does it once per entry (`entry.serving`).
 */
import type { ValidatedEntry } from './entry-schema.js';
import { BUILTIN_SERVING, type BatchingPolicy, type ServingDefaultsSchema } from './serving-schema.js';
import type { Static } from '@sinclair/typebox';

export interface ServingSettings {
  readonly policy: BatchingPolicy;
  /** Rows per batch. */
  readonly maxBatchSize: number;
  readonly maxLatencyMs: number;
  /** Rows waiting. */
  readonly maxQueueSize: number;
  /**
   * Batches or calls in flight; Infinity when unlimited; undefined for the built-in default, which depends on whether
   * the model turns out to batch (known only once it has loaded): see defaultConcurrency.
   */
  readonly maxConcurrency: number | undefined;
  /** 0 when requests have no deadline of the server's. */
  readonly timeoutMs: number;
  /** Runs of the examples (or of a generated input) after load, before ready; 0: none (model/warmup.ts). */
  readonly warmup: number;
}

export function resolveServing(entry: ValidatedEntry, defaults: Static<typeof ServingDefaultsSchema>): ServingSettings {
  const policy = entry.batching?.policy ?? defaults.batching?.policy ?? BUILTIN_SERVING.policy[entry.runtime];
  // A worker pool runs one call per thread: as many in flight as threads keeps each busy without piling up in its queue.
  const workers = entry.runtime === 'graph' ? 0 : entry.workers;
  const concurrency = entry.max_concurrency ?? defaults.max_concurrency ?? (workers > 0 ? workers : undefined);
  return {
    policy,
    maxBatchSize: entry.batching?.max_batch_size ?? defaults.batching?.max_batch_size ?? BUILTIN_SERVING.max_batch_size,
    maxLatencyMs: entry.batching?.max_latency_ms ?? defaults.batching?.max_latency_ms ?? BUILTIN_SERVING.max_latency_ms,
    maxQueueSize: entry.max_queue_size ?? defaults.max_queue_size ?? BUILTIN_SERVING.max_queue_size,
    maxConcurrency: concurrency === 0 ? Number.POSITIVE_INFINITY : concurrency,
    timeoutMs: entry.timeout_ms ?? defaults.timeout_ms ?? BUILTIN_SERVING.timeout_ms,
    warmup: entry.warmup ?? defaults.warmup ?? BUILTIN_SERVING.warmup,
  };
}

/** The built-in max_concurrency: one batch at a time when the model batches (a batch already uses it fully), else no limit. */
export function defaultConcurrency(batches: boolean): number {
  const value = BUILTIN_SERVING.max_concurrency[batches ? 'batching' : 'off'];
  return value === 0 ? Number.POSITIVE_INFINITY : value;
}
