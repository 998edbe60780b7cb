/**
 * Metrics for the per-request hot path. prom-client's metrics hash the label values on every observe(), which measured
 * as the largest single cost of a queued request (4% of an in-process predict loop); here each label set is bound once
 * to plain counters (`child(labels)`), and prom-client's registry reads them in its own format when scraped.
 */
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

interface MetricValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

/** What every bound metric shares: one child per label set, registration, and the registry's get()/reset(). */
abstract class BoundMetric<Child extends { readonly labels: Labels }> {
  abstract readonly type: string;
  readonly aggregator = 'sum';
  readonly #children = new Map<string, Child>();

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** The child for these label values, created once and kept. */
  child(labels: Labels): Child {
    const key = JSON.stringify(labels);
    let child = this.#children.get(key);
    if (!child) {
      child = this.create(labels);
      this.#children.set(key, child);
    }
    return child;
  }

  /** What prom-client's registry formats. */
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const child of this.#children.values()) values.push(...this.valuesOf(child));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client calls reset() on registry.resetMetrics(). */
  reset(): void {
    for (const child of this.#children.values()) this.zero(child);
  }

  protected abstract create(labels: Labels): Child;
  protected abstract valuesOf(child: Child): MetricValue[];
  protected abstract zero(child: Child): void;
}

/** One label set's counts: `observe` is a loop over the bounds and two additions. */
export class HistogramChild {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
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

export class FastHistogram extends BoundMetric<HistogramChild> {
  readonly type = 'histogram';

  constructor(name: string, help: string, private readonly bounds: readonly number[], registry: Registry) {
    super(name, help, registry);
  }

  protected create(labels: Labels): HistogramChild {
    return new HistogramChild(labels, this.bounds);
  }

  /** Cumulative buckets (with +Inf), sum and count. */
  protected valuesOf(child: HistogramChild): MetricValue[] {
    const values: MetricValue[] = [];
    let cumulative = 0;
    this.bounds.forEach((bound, index) => {
      cumulative += child.counts[index] as number;
      values.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le: bound }, value: cumulative });
    });
    values.push({ metricName: `${this.name}_bucket`, labels: { ...child.labels, le: '+Inf' }, value: child.count });
    values.push({ metricName: `${this.name}_sum`, labels: { ...child.labels }, value: child.sum });
    values.push({ metricName: `${this.name}_count`, labels: { ...child.labels }, value: child.count });
    return values;
  }

  protected zero(child: HistogramChild): void {
    child.counts.fill(0);
    child.sum = 0;
    child.count = 0;
  }
}

/** One label set of a counter or gauge: `child.value++` on the hot path. */
export class ValueChild {
  value = 0;

  constructor(readonly labels: Labels) {}
}

/** A counter (`child(labels).value++`), or with type 'gauge' a gauge (requests in progress). */
class FastValue extends BoundMetric<ValueChild> {
  protected create(labels: Labels): ValueChild {
    return new ValueChild(labels);
  }

  protected valuesOf(child: ValueChild): MetricValue[] {
    return [{ metricName: this.name, labels: { ...child.labels }, value: child.value }];
  }

  protected zero(child: ValueChild): void {
    child.value = 0;
  }

  readonly type: string = 'counter';
}

export class FastCounter extends FastValue {
  override readonly type = 'counter';
}

export class FastGauge extends FastValue {
  override readonly type = 'gauge';
}

/** One label set of a summary: a count and a sum, nothing else. */
export class SummaryChild {
  sum = 0;
  count = 0;

  constructor(readonly labels: Labels) {}

  observe(value: number): void {
    this.sum += value;
    this.count++;
  }
}

/**
 * A summary without quantiles (what prometheus_client's Summary exposes: `_sum` and `_count`), with the same binding:
 * `child(labels).observe(v)` on the hot path is two additions.
 */
export class FastSummary extends BoundMetric<SummaryChild> {
  readonly type = 'summary';

  protected create(labels: Labels): SummaryChild {
    return new SummaryChild(labels);
  }

  protected valuesOf(child: SummaryChild): MetricValue[] {
    return [
      { metricName: `${this.name}_sum`, labels: { ...child.labels }, value: child.sum },
      { metricName: `${this.name}_count`, labels: { ...child.labels }, value: child.count },
    ];
  }

  protected zero(child: SummaryChild): void {
    child.sum = 0;
    child.count = 0;
  }
}
