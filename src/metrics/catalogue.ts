/**
 * The metrics catalogue: every metric longshore keeps, in one prom-client registry per server (not the global one, so
 * several servers in one process never share counters). Per-model children are bound once, when a model is served, so
 * a request pays for an observation, not for a label lookup.
 */
import { getHeapStatistics } from 'node:v8';
import { Counter, Gauge, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-histogram.js';
import type { BatchObserver, RejectionReason } from '../batching/batcher.js';
import type { ModelMemory } from '../wire.js';

const MODEL_LABELS = ['model', 'version'] as const;

/** What a served model reports about its calls and its lifecycle. */
export interface ModelObserver {
  /** A call finished: `reason` is the error type when it failed. */
  called(operation: ModelOperation, reason?: string): void;
  /** How long load() took. */
  loaded(seconds: number): void;
  /** Reads whether the model is ready, at scrape time (the catalogue also asks `healthy`, see modelObserverFor). */
  watchReady(isReady: () => boolean): void;
  /** Reads what the model holds, at scrape time (longshore_model_memory_bytes). */
  watchMemory(read: () => Promise<ModelMemory>): void;
}

export type ModelOperation = 'predict' | 'predict_batch' | 'infer';

export interface CatalogueOptions {
  /** Label model metrics with model and version (metrics.model_labels); when false, series are summed over models. */
  readonly modelLabels?: boolean;
}

/** Seconds: from 100 µs (a small ONNX run) to 10 s (a slow model, or a deep queue). */
const DURATION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Rows per batch: powers of two up to 1024. */
const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export class MetricsCatalogue {
  readonly registry = new Registry();
  readonly #modelLabels: boolean;
  readonly requests = new FastCounter('longshore_requests_total', 'Calls to a model (predict, predict_batch, infer), successful or not.', this.registry);
  readonly failures = new FastCounter(
    'longshore_request_failures_total',
    'Calls to a model that failed, by reason (the error type: SchemaValidationError, InferenceError, QueueFullError, DeadlineExceededError, ...).',
    this.registry,
  );
  readonly #ready = new Map<string, { labels: Record<string, string>; isReady: () => boolean }>();
  readonly modelReady = new Gauge({
    name: 'longshore_model_ready',
    help: 'Whether the model is ready to serve (1) or not (0); the number of ready models when model labels are off.',
    labelNames: MODEL_LABELS,
    registers: [this.registry],
    collect: () => {
      this.modelReady.reset();
      for (const { labels, isReady } of this.#ready.values()) this.modelReady.inc(labels, isReady() ? 1 : 0);
    },
  });
  readonly #memory = new Map<string, { labels: Record<string, string>; read: () => Promise<ModelMemory> }>();
  readonly modelMemory = new Gauge({
    name: 'longshore_model_memory_bytes',
    help: "What a model holds, by kind: onnx_session (an estimate: the model file's bytes times its live sessions), worker_heap (V8 heap used by its worker threads). Read at scrape time; a code model on the main thread has no series (not measured).",
    labelNames: [...MODEL_LABELS, 'kind'],
    registers: [this.registry],
    collect: async () => {
      const readings = await Promise.all([...this.#memory.values()].map(async ({ labels, read }) => ({ labels, memory: await read() })));
      this.modelMemory.reset();
      for (const { labels, memory } of readings) {
        for (const [kind, bytes] of Object.entries(memory.bytes)) this.modelMemory.inc({ ...labels, kind }, bytes);
      }
    },
  });
  readonly loadDuration = new Gauge({
    name: 'longshore_model_load_duration_seconds',
    help: "How long the model's last load took.",
    labelNames: MODEL_LABELS,
    registers: [this.registry],
  });

  constructor(options: CatalogueOptions = {}) {
    this.#modelLabels = options.modelLabels ?? true;
    // Without model labels the one stuck-calls series exists from the start, at 0, even with no models.
    if (!this.#modelLabels) this.stuckCalls.inc(0);
  }

  /** The model's label values, or none when model labels are off. */
  #labelsOf(model: string, version: string): Record<string, string> {
    return this.#modelLabels ? { model, version } : {};
  }

  /**
   * The calls-and-lifecycle observer of one model, with its children bound now. `healthy` is asked with the model's own
   * readiness at scrape time: false (e.g. every call slot stuck past its deadline) reports the model not ready.
   */
  modelObserverFor(model: string, version: string, healthy: () => boolean = () => true): ModelObserver {
    const labels = this.#labelsOf(model, version);
    const counts = {
      predict: this.requests.child({ ...labels, operation: 'predict' }),
      predict_batch: this.requests.child({ ...labels, operation: 'predict_batch' }),
      infer: this.requests.child({ ...labels, operation: 'infer' }),
    };
    return {
      called: (operation, reason) => {
        counts[operation].value++;
        if (reason !== undefined) this.failures.child({ ...labels, operation, reason }).value++;
      },
      loaded: (seconds) => {
        if (this.#modelLabels) this.loadDuration.set(labels, seconds);
        else this.loadDuration.inc(seconds);
      },
      watchReady: (isReady) => {
        this.#ready.set(`${model}\u0000${version}`, { labels, isReady: () => isReady() && healthy() });
      },
      watchMemory: (read) => {
        this.#memory.set(`${model}\u0000${version}`, { labels, read });
      },
    };
  }
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
  readonly #depths = new Map<string, { labels: Record<string, string>; rows: number }>();
  readonly queueDepth = new Gauge({
    name: 'longshore_queue_depth',
    help: "Rows waiting in the model's queue.",
    labelNames: MODEL_LABELS,
    registers: [this.registry],
    collect: () => {
      this.queueDepth.reset();
      for (const { labels, rows } of this.#depths.values()) this.queueDepth.inc(labels, rows);
    },
  });
  readonly rejections = new Counter({
    name: 'longshore_rejected_requests_total',
    help: 'Requests the queue refused or dropped, by reason: queue_full (503), deadline (504), cancelled (client went away), stuck (503: every call slot held by a call stuck past its deadline).',
    labelNames: [...MODEL_LABELS, 'reason'],
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'longshore_rate_limited_total',
    help: 'Requests answered 429 RateLimitedError, by route group (predict, read, metrics, admin): limits.<group>.rate_limit.',
    labelNames: ['group'],
    registers: [this.registry],
  });

  /** Moved by each model's changes (see observerFor), so without model labels the one series is the sum over models. */
  readonly stuckCalls = new Gauge({
    name: 'longshore_stuck_calls',
    help: "Calls (batches) still running although every caller in them was answered 504 at its deadline; each holds one of the model's max_concurrency slots until it settles.",
    labelNames: MODEL_LABELS,
    registers: [this.registry],
  });
  readonly uncaughtErrors = new Counter({
    name: 'longshore_model_uncaught_errors_total',
    help: 'Errors thrown outside any call (an uncaught exception, e.g. from a timer, or an unhandled promise rejection) on the main thread, by the model whose file the stack points into ("unknown" when none).',
    labelNames: ['model', 'kind'],
    registers: [this.registry],
  });
  readonly workerRestarts = new Counter({
    name: 'longshore_worker_restarts_total',
    help: 'Worker threads of a model with workers: N (a code model\'s, or an ONNX model\'s session threads) replaced, by reason: deadline (terminated: a call ran past its deadline), exit (the thread exited), error (an error thrown outside a call ended it), memory (the thread ran out of memory_limit_mb).',
    labelNames: ['model', 'reason'],
    registers: [this.registry],
  });
  readonly loadFailures = new Counter({
    name: 'longshore_model_load_failures_total',
    help: 'Loads of a model through the repository API or a config reload (SIGHUP, file watch) that failed to load or self-test; what served the model before keeps serving, and the repository index says why.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly evictions = new Counter({
    name: 'longshore_model_evictions_total',
    help: 'Models evicted to stay within server.max_loaded_models (the least recently used, drained then unloaded); each loads again on its next call.',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly heapLimit = new Gauge({
    name: 'longshore_heap_size_limit_bytes',
    help: "The main thread's V8 heap limit (v8.getHeapStatistics().heap_size_limit); compare with nodejs_heap_size_used_bytes. Readiness fails past server.max_heap_ratio of it.",
    registers: [this.registry],
    collect: () => {
      this.heapLimit.set(getHeapStatistics().heap_size_limit);
    },
  });

  /** An error thrown outside any call on the main thread (`kind`: uncaught_exception or unhandled_rejection). */
  uncaughtError(model: string | undefined, kind: 'uncaught_exception' | 'unhandled_rejection'): void {
    this.uncaughtErrors.inc(this.#modelLabels ? { model: model ?? 'unknown', kind } : { kind });
  }

  /** A worker thread of `model` was replaced. */
  workerRestarted(model: string, reason: string): void {
    this.workerRestarts.inc(this.#modelLabels ? { model, reason } : { reason });
  }

  /** A repository load or reload of `model` failed. */
  loadFailed(model: string): void {
    this.loadFailures.inc(this.#modelLabels ? { model } : {});
  }

  /** `model` was evicted (server.max_loaded_models). */
  modelEvicted(model: string): void {
    this.evictions.inc(this.#modelLabels ? { model } : {});
  }

  /** The batcher's observer for one model, with its label values bound now. */
  observerFor(model: string, version: string): BatchObserver {
    const labels = this.#labelsOf(model, version);
    const batchSize = this.batchSize.child(labels);
    const queueDuration = this.queueDuration.child(labels);
    const inferenceDuration = this.inferenceDuration.child(labels);
    const depth = { labels, rows: 0 };
    this.#depths.set(`${model}\u0000${version}`, depth);
    const reasons: Record<RejectionReason, Counter.Internal> = {
      queue_full: this.rejections.labels({ ...labels, reason: 'queue_full' }),
      deadline: this.rejections.labels({ ...labels, reason: 'deadline' }),
      cancelled: this.rejections.labels({ ...labels, reason: 'cancelled' }),
      stuck: this.rejections.labels({ ...labels, reason: 'stuck' }),
    };
    const stuckCalls = this.stuckCalls.labels(labels);
    stuckCalls.inc(0);
    let stuck = 0;
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
      stuck: (batches) => {
        stuckCalls.inc(batches - stuck);
        stuck = batches;
      },
    };
  }
}
