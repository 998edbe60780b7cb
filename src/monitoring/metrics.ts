/**
 * The prediction log's own metrics, registered in the server's prom-client registry: records written, records dropped
 * (by reason) and failed writes, plus the records buffered now. Children are bound once per model.
 */
import { Gauge, type Registry } from 'prom-client';
import { FastCounter } from '../metrics/fast-histogram.js';

/** Why a record never reached the destination. */
export type DropReason = 'buffer_full' | 'serialization_error' | 'shutdown';

export const DROP_REASONS: readonly DropReason[] = ['buffer_full', 'serialization_error', 'shutdown'];

/** One model's bound counters. */
export interface PredictionLogCounters {
  readonly written: { value: number };
  readonly failures: { value: number };
  readonly dropped: Readonly<Record<DropReason, { value: number }>>;
}

export class PredictionLogMetrics {
  readonly written: FastCounter;
  readonly dropped: FastCounter;
  readonly failures: FastCounter;
  readonly #buffered = new Map<string, { labels: Record<string, string>; read: () => number }>();

  constructor(
    registry: Registry,
    /** Label with the model (metrics.model_labels); when false, series are summed over models. */
    private readonly modelLabels = true,
  ) {
    this.written = new FastCounter('longshore_prediction_log_records_total', 'Prediction log records written to their destination.', registry);
    this.dropped = new FastCounter(
      'longshore_prediction_log_dropped_total',
      'Prediction log records dropped, by reason: buffer_full (the buffer held max_buffer records), serialization_error (a value JSON cannot carry), shutdown (still unwritten when the shutdown wait ended).',
      registry,
    );
    this.failures = new FastCounter(
      'longshore_prediction_log_write_failures_total',
      'Failed writes of a prediction log batch to its destination (each retried later with backoff).',
      registry,
    );
    const buffered: Gauge = new Gauge({
      name: 'longshore_prediction_log_buffered_records',
      help: 'Prediction log records held in memory, waiting to be written.',
      labelNames: this.modelLabels ? ['model'] : [],
      registers: [registry],
      collect: () => {
        buffered.reset();
        for (const { labels, read } of this.#buffered.values()) buffered.inc(labels, read());
      },
    });
  }

  /** The counters of one model writing to `destination` (stdout, file, http). */
  countersFor(model: string, destination: string): PredictionLogCounters {
    const labels: Record<string, string> = this.modelLabels ? { model } : {};
    return {
      written: this.written.child({ ...labels, destination }),
      failures: this.failures.child({ ...labels, destination }),
      dropped: Object.fromEntries(DROP_REASONS.map((reason) => [reason, this.dropped.child({ ...labels, reason })])) as unknown as Record<DropReason, { value: number }>,
    };
  }

  /** Reads the model's buffered records at scrape time. */
  watchBuffered(model: string, bufferedNow: () => number): void {
    this.#buffered.set(model, { labels: this.modelLabels ? { model } : {}, read: bufferedNow });
  }
}
