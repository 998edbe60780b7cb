/**
 * What the prediction log receives: one finished model call (PredictionEvent), handed over by whoever calls the model
 * through a PredictionRecorder. Types only.
 */
import type { ModelOperation } from '../metrics/catalogue.js';

/** One finished call, as the prediction log receives it. */
export interface PredictionEvent {
  /** Epoch milliseconds when the call started. */
  readonly timestamp: number;
  readonly requestId?: string;
  readonly model: string;
  readonly version: string;
  readonly operation: ModelOperation;
  /** The request as the model got it: one record, an array of records, or tensors. */
  readonly inputs: unknown;
  /** The answer, when the call succeeded. */
  readonly outputs?: unknown;
  readonly error?: { readonly type: string; readonly message: string };
  /** The whole call, queue included, in microseconds. */
  readonly latencyUs: number;
  /** What the model's metricsFor() returned for this call, if it has one. */
  readonly metrics?: Record<string, number>;
  /** Where the request's time went (docs/timing.md), only when timing was on for it; encoding comes after the record. */
  readonly timing?: PredictionTiming;
}

/** The figures of per-request timing a record carries, in milliseconds (3 decimals); absent ones did not happen. */
export interface PredictionTiming {
  readonly decode_ms?: number;
  readonly queue_ms?: number;
  readonly model_ms?: number;
  readonly batch_id?: number;
  readonly batch_size?: number;
}

export interface PredictionRecorder {
  /** Asked once per call, before anything is built: whether this call is sampled into the log. */
  wants(): boolean;
  /** Takes a sampled call; must never throw or block (it buffers and writes later). */
  record(event: PredictionEvent): void;
}
