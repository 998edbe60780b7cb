/**
 * `longshore:cache`: an LRU cache of outputs keyed by the input, for models that answer the same input the same way.
 * A hit answers without calling the layers inside (the model is not called); identical misses at the same time share
 * one call.
 */
import type { Registry } from 'prom-client';
import { DeadlineExceededError, RequestCancelledError } from '../../errors.js';
import type { CallContext, Decorator, DecoratorSetup } from '../../model/contract.js';
import { FastCounter, FastGauge, type ValueChild } from '../../metrics/fast-histogram.js';
import { integerSetting, isPlainObject, onlyKeys, type Configuration } from './settings.js';

const NAME = 'longshore:cache';

interface Entry {
  readonly output: unknown;
  /** performance.now() after which the entry is stale; Infinity when ttl_ms is 0. */
  readonly expires: number;
}

interface CacheMetrics {
  readonly requests: FastCounter;
  readonly entries: FastGauge;
}

/** One pair of metrics per server registry, shared by every cached model of that server (registered once). */
const metricsByRegistry = new WeakMap<Registry, CacheMetrics>();

function metricsOf(registry: Registry): CacheMetrics {
  let metrics = metricsByRegistry.get(registry);
  if (!metrics) {
    metrics = {
      requests: new FastCounter('longshore_cache_requests_total', 'Requests to a longshore:cache decorator, by result: hit (answered from the cache) or miss (the model was called).', registry),
      entries: new FastGauge('longshore_cache_entries', 'Outputs held by a longshore:cache decorator (expired ones until they are looked up or evicted).', registry),
    };
    metricsByRegistry.set(registry, metrics);
  }
  return metrics;
}

export class CacheDecorator implements Decorator {
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  /** Map order is recency order: a hit moves its entry to the end, eviction takes the first. */
  readonly #entries = new Map<string, Entry>();
  readonly #inFlight = new Map<string, Promise<unknown>>();
  // Children bound once here: prom-client would hash the label values on every request.
  readonly #hits: ValueChild;
  readonly #misses: ValueChild;
  readonly #size: ValueChild;

  constructor(configuration: Configuration, setup: DecoratorSetup) {
    onlyKeys(configuration, NAME, ['max_entries', 'ttl_ms']);
    this.#maxEntries = integerSetting(configuration, 'max_entries', 1, 1024);
    this.#ttlMs = integerSetting(configuration, 'ttl_ms', 0, 60_000);
    const metrics = metricsOf(setup.metrics);
    const labels: Record<string, string> = setup.modelLabels ? { model: setup.model, version: setup.version } : {};
    this.#hits = metrics.requests.child({ ...labels, result: 'hit' });
    this.#misses = metrics.requests.child({ ...labels, result: 'miss' });
    this.#size = metrics.entries.child(labels);
  }

  async predict(input: unknown, next: (input: unknown) => Promise<unknown>, context?: CallContext): Promise<unknown> {
    // A self-test must reach the model, or the deep readiness probe would only test the cache; the server's route warmup
    // must reach it too (it warms the model), and count in none of the cache's metrics.
    if (context?.selfTest === true || context?.warmup === true) return next(input);
    const key = canonicalJson(input);
    const entry = this.#lookup(key);
    if (entry) {
      this.#hits.value++;
      return shallowCopy(entry.output);
    }
    const pending = this.#inFlight.get(key);
    if (pending) {
      this.#hits.value++;
      try {
        return shallowCopy(await pending);
      } catch (error) {
        // The shared call failed for a reason of its own caller's (it left, or its deadline was shorter): try ours.
        if (!(error instanceof RequestCancelledError || error instanceof DeadlineExceededError)) throw error;
        return shallowCopy(await next(input));
      }
    }
    this.#misses.value++;
    const call = next(input);
    this.#inFlight.set(key, call);
    try {
      const output = await call;
      this.#store(key, output);
      // The stored output is never handed out: outer layers may change what they get.
      return shallowCopy(output);
    } finally {
      // A failure is not cached: the next identical request calls the model again.
      this.#inFlight.delete(key);
    }
  }

  unload(): void {
    this.#size.value -= this.#entries.size;
    this.#entries.clear();
  }

  #lookup(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= performance.now()) {
      this.#size.value--;
      return undefined;
    }
    this.#entries.set(key, entry);
    return entry;
  }

  #store(key: string, output: unknown): void {
    if (this.#entries.delete(key)) this.#size.value--;
    this.#entries.set(key, { output, expires: this.#ttlMs === 0 ? Infinity : performance.now() + this.#ttlMs });
    this.#size.value++;
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
      this.#size.value--;
    }
  }
}

function shallowCopy(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (isPlainObject(value)) return { ...value };
  return value;
}

/**
 * JSON with object keys sorted at every depth, so `{a, b}` and `{b, a}` share an entry. Inputs are JSON values (REST
 * bodies, V2 records); a bigint gets a tag of its own so it never equals the string of its digits.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return `{"$bigint":"${value}"}`;
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    return `[${Array.from(value as ArrayLike<unknown>, canonicalJson).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const fields = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${fields.join(',')}}`;
}
