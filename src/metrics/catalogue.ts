/**
 * The metrics catalogue: every metric longshore keeps, in one prom-client registry per server (not the global one, so
 * several servers in one process never share counters). Per-model children are bound once, when a model is served, so
 * a request pays for an observation, not for a label lookup.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { FastHistogram } from './fast-histogram.js';
import type { BatchObserver, RejectionReason } from '../batching/batcher.js';

const MODEL_LABELS = ['model', 'version'] as const;


/** Seconds: from 100 µs (a small ONNX run) to 10 s (a slow model, or a deep queue). */
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Rows per batch: powers of two up to 1024. */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class MetricsCatalogue {
  readonly registry = new Registry();
  readonly batchSize = new FastHistogram(
    'longshore_batch_size',
    'Rows in each model call (batch), counting every row of every request in it.',
    BATCH_SIZE_BUCKETS,
    this.registry,
  );
  readonly queueDuration = new FastHistogram(
    'longshore_queue_duration_seconds',
    "Time a request waited in its model's queue before its batch started.",
    DURATION_BUCKETS,
    this.registry,
  );
  readonly inferenceDuration = new FastHistogram(
    'longshore_inference_duration_seconds',
    'Time one model call (one batch) took.',
    DURATION_BUCKETS,
    this.registry,
  );
  /** Each model's current depth, read only when the gauge is collected: a queue changes twice per request. */
  readonly #depths = new Map<string, { labels: { model: string; version: string }; rows: number }>();
  readonly queueDepth = new Gauge({
    name: 'longshore_queue_depth',
    help: "Rows waiting in the model's queue.",
    labelNames: MODEL_LABELS,
    registers: [this.registry],
    collect: () => {
      for (const { labels, rows } of this.#depths.values()) this.queueDepth.set(labels, rows);
    },
  });
  readonly rejections = new Counter({
    name: 'longshore_rejected_requests_total',
    help: 'Requests the queue refused or dropped, by reason: queue_full (503), deadline (504), cancelled (client went away).',
    labelNames: [...MODEL_LABELS, 'reason'],
    registers: [this.registry],
  });

  /** The batcher's observer for one model, with its label values bound now. */
  observerFor(model: string, version: string): BatchObserver {
    const labels = { model, version };
    const batchSize = this.batchSize.child(labels);
    const queueDuration = this.queueDuration.child(labels);
    const inferenceDuration = this.inferenceDuration.child(labels);
    const depth = { labels, rows: 0 };
    this.#depths.set(`${model}\u0000${version}`, depth);
    const reasons: Record<RejectionReason, Counter.Internal> = {
      queue_full: this.rejections.labels({ ...labels, reason: 'queue_full' }),
      deadline: this.rejections.labels({ ...labels, reason: 'deadline' }),
      cancelled: this.rejections.labels({ ...labels, reason: 'cancelled' }),
    };
    // Every series exists from the start at 0, so rate() and alerts work before the first rejection.
    for (const counter of Object.values(reasons)) counter.inc(0);
    return {
      queueDepth: (rows) => {
        depth.rows = rows;
      },
      waited: (seconds) => queueDuration.observe(seconds),
      ran: (rows, seconds) => {
        batchSize.observe(rows);
        inferenceDuration.observe(seconds);
      },
      rejected: (reason) => reasons[reason].inc(),
    };
  }
}
