/**
 * GET /metrics for the whole cluster. A worker's /metrics asks the primary (worker-ipc.ts); the primary asks every
 * worker that joined for its registry's getMetricsAsJSON(), and sums them with prom-client's
 * AggregatorRegistry.aggregate(): each metric by its `aggregator` (counters, histograms and longshore's fast metrics:
 * sum per label set; prom-client's process metrics: their own defaults, e.g. the start time omitted, the Node version
 * first, event loop lag averaged).
 *
 * Not prom-client's clusterMetrics(): it asks every connected worker, and a worker still starting (no listener yet)
 * would hold every scrape for its 5 s timeout and fail it. Here only workers that have joined are asked.
 */
import type { Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { MetricsCollect, MetricsJson, MetricsPart } from './messages.js';

/** How long the primary waits for every worker's part before failing the scrape (a partial sum would look like a reset). */
export const COLLECT_TIMEOUT_MS = 5000;

interface Collection {
  readonly waiting: Set<Worker>;
  readonly parts: MetricsJson[];
  readonly resolve: (text: string) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** The primary's side: one collection per scrape, settled when every asked worker answered (or exited). */
export class MetricsCollector {
  #nextId = 0;
  readonly #pending = new Map<number, Collection>();

  constructor(
    /** Sends to a worker; false when it could not be sent (the worker is not waited for). */
    private readonly send: (worker: Worker, message: MetricsCollect) => boolean,
    private readonly timeoutMs = COLLECT_TIMEOUT_MS,
  ) {}

  /** The metrics of `workers` summed, in the Prometheus text format. */
  collect(workers: readonly Worker[]): Promise<string> {
    const id = this.#nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        const collection = this.#pending.get(id);
        this.#pending.delete(id);
        const late = collection ? [...collection.waiting].map((worker) => worker.process.pid).join(', ') : '';
        reject(new Error(`worker process(es) ${late} did not send their metrics within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.#pending.set(id, { waiting: new Set(workers), parts: [], resolve, reject, timer });
      for (const worker of workers) {
        if (!this.send(worker, { type: 'longshore:metrics-collect', id })) this.#pending.get(id)?.waiting.delete(worker);
      }
      this.#settle(id);
    });
  }

  /** A worker's answer. */
  received(worker: Worker, part: MetricsPart): void {
    const collection = this.#pending.get(part.id);
    if (!collection?.waiting.has(worker)) return;
    if (part.error !== undefined || part.metrics === undefined) {
      this.#finish(part.id, collection);
      collection.reject(new Error(`worker process ${worker.process.pid} could not read its metrics: ${part.error ?? 'no metrics sent'}`));
      return;
    }
    collection.parts.push(part.metrics);
    collection.waiting.delete(worker);
    this.#settle(part.id);
  }

  /** A worker exited: its part is not waited for (its counters are gone with it). */
  exited(worker: Worker): void {
    for (const [id, collection] of this.#pending) {
      if (collection.waiting.delete(worker)) this.#settle(id);
    }
  }

  #settle(id: number): void {
    const collection = this.#pending.get(id);
    if (!collection || collection.waiting.size > 0) return;
    this.#finish(id, collection);
    aggregateMetrics(collection.parts).then(collection.resolve, collection.reject);
  }

  #finish(id: number, collection: Collection): void {
    clearTimeout(collection.timer);
    this.#pending.delete(id);
  }
}

/** Registries' getMetricsAsJSON() summed by prom-client, as Prometheus text. */
export async function aggregateMetrics(parts: readonly MetricsJson[]): Promise<string> {
  return AggregatorRegistry.aggregate(parts as MetricsJson[]).metrics();
}

/** The worker's side: answers the primary's MetricsCollect with `registry`'s metrics. */
export function metricsPartOf(registry: Registry): (request: MetricsCollect) => Promise<MetricsPart> {
  return async ({ id }) => {
    try {
      return { type: 'longshore:metrics-part', id, metrics: await registry.getMetricsAsJSON() };
    } catch (error) {
      return { type: 'longshore:metrics-part', id, error: (error as Error).message };
    }
  };
}
