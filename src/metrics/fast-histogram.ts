/**
 * A histogram for the per-request hot path. prom-client's Histogram hashes the label values on every observe(), which
 * measured as the largest single cost of a queued request (4% of an in-process predict loop); here each label set is
 * bound once to plain bucket counters, and the registry reads them in prom-client's own format when scraped.
 */
import type { Registry } from 'prom-client';

/** One label set's counts: `observe` is a loop over the bounds and two additions. */
export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>, private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= (bounds[i] as number)) {
        (this.counts[i] as number)++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

interface MetricValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

export class FastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #children = new Map<string, HistogramChild>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The child for these label values, created once and kept. */
  child(labels: Readonly<Record<string, string>>): HistogramChild {
    const key = JSON.stringify(labels);
    let child = this.#children.get(key);
    if (!child) {
      child = new HistogramChild(labels, this.bounds);
      this.#children.set(key, child);
    }
    return child;
  }

  /** What prom-client's registry formats: cumulative buckets (with +Inf), sum and count per label set. */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const child of this.#children.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, index) => {
        cumulative += child.counts[index] as number;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le: '+Inf' }, value: child.count });
      values.push({ metricName: `${this.name}_sum`, labels: { ...child.labels }, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...child.labels }, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client calls reset() on registry.resetMetrics(). */
  reset(): void {
    for (const child of this.#children.values()) {
      child.counts.fill(0);
      child.sum = 0;
      child.count = 0;
    }
  }
}

/** A counter with the same binding: `child(labels).value++` on the hot path, read by the registry when scraped. */
export class FastCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #children = new Map<string, { labels: Readonly<Record<string, string>>; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  child(labels: Readonly<Record<string, string>>): { value: number } {
    const key = JSON.stringify(labels);
    let child = this.#children.get(key);
    if (!child) {
      child = { labels, value: 0 };
      this.#children.set(key, child);
    }
    return child;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values = [...this.#children.values()].map((child) => ({ metricName: this.name, labels: { ...child.labels }, value: child.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const child of this.#children.values()) child.value = 0;
  }
}

/** One label set of a summary: a count and a sum, nothing else. */
export class SummaryChild {
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  observe(value: number): void {
    this.sum += value;
    this.count++;
  }
}

/**
 * A summary without quantiles (what prometheus_client's Summary exposes: `_sum` and `_count`), with the same binding:
 * `child(labels).observe(v)` on the hot path is two additions.
 */
export class FastSummary {
  readonly type = 'summary';
  readonly aggregator = 'sum';
  readonly #children = new Map<string, SummaryChild>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  child(labels: Readonly<Record<string, string>>): SummaryChild {
    const key = JSON.stringify(labels);
    let child = this.#children.get(key);
    if (!child) {
      child = new SummaryChild(labels);
      this.#children.set(key, child);
    }
    return child;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const child of this.#children.values()) {
      values.push({ metricName: `${this.name}_sum`, labels: { ...child.labels }, value: child.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...child.labels }, value: child.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const child of this.#children.values()) {
      child.sum = 0;
      child.count = 0;
    }
  }
}

/** A gauge with the same binding: `child(labels).value += 1` on the hot path (requests in progress). */
export class FastGauge {
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  readonly #children = new Map<string, { labels: Readonly<Record<string, string>>; value: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  child(labels: Readonly<Record<string, string>>): { value: number } {
    const key = JSON.stringify(labels);
    let child = this.#children.get(key);
    if (!child) {
      child = { labels, value: 0 };
      this.#children.set(key, child);
    }
    return child;
  }

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values = [...this.#children.values()].map((child) => ({ metricName: this.name, labels: { ...child.labels }, value: child.value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    for (const child of this.#children.values()) child.value = 0;
  }
}
