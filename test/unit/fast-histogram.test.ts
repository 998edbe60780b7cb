/**
 * The bound per-request metrics (src/metrics/fast-histogram.ts): one child per label set, buckets counted with `le`
 * inclusive, the values prom-client's registry reads (cumulative buckets, +Inf, sum, count), its text exposition,
 * and reset.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { FastCounter, FastGauge, FastHistogram, FastSummary } from '../../src/metrics/fast-histogram.ts';

describe('FastHistogram', () => {
  it('binds each label set to one child, created once', () => {
    const histogram = new FastHistogram('h_seconds', 'help', [0.1, 1], new Registry());
    const a = histogram.child({ model: 'iris' });
    assert.equal(histogram.child({ model: 'iris' }), a);
    assert.notEqual(histogram.child({ model: 'mnist' }), a);
  });

  it('counts each value in the first bucket whose bound it does not exceed (le is inclusive), above every bound only in +Inf', () => {
    const histogram = new FastHistogram('h_seconds', 'help', [0.1, 1, 5], new Registry());
    const child = histogram.child({ model: 'iris' });
    for (const value of [0.05, 0.1, 0.5, 1, 7]) child.observe(value);
    assert.deepEqual(Array.from(child.counts), [2, 2, 0]);
    assert.equal(child.count, 5);
    assert.equal(child.sum, 8.65);
  });

  it('reports cumulative buckets with +Inf, then sum and count, per child', () => {
    const histogram = new FastHistogram('h_seconds', 'help text', [0.1, 1], new Registry());
    const child = histogram.child({ model: 'iris' });
    child.observe(0.05);
    child.observe(0.5);
    child.observe(3);
    assert.deepEqual(histogram.get(), {
      name: 'h_seconds',
      help: 'help text',
      type: 'histogram',
      aggregator: 'sum',
      values: [
        { metricName: 'h_seconds_bucket', labels: { model: 'iris', le: 0.1 }, value: 1 },
        { metricName: 'h_seconds_bucket', labels: { model: 'iris', le: 1 }, value: 2 },
        { metricName: 'h_seconds_bucket', labels: { model: 'iris', le: '+Inf' }, value: 3 },
        { metricName: 'h_seconds_sum', labels: { model: 'iris' }, value: 3.55 },
        { metricName: 'h_seconds_count', labels: { model: 'iris' }, value: 3 },
      ],
    });
  });

  it("is exposed by prom-client's registry in the text format", async () => {
    const registry = new Registry();
    const histogram = new FastHistogram('h_seconds', 'How long.', [0.5], registry);
    histogram.child({ model: 'iris' }).observe(0.25);
    histogram.child({ model: 'mnist' }).observe(2);
    assert.equal(
      await registry.metrics(),
      [
        '# HELP h_seconds How long.',
        '# TYPE h_seconds histogram',
        'h_seconds_bucket{model="iris",le="0.5"} 1',
        'h_seconds_bucket{model="iris",le="+Inf"} 1',
        'h_seconds_sum{model="iris"} 0.25',
        'h_seconds_count{model="iris"} 1',
        'h_seconds_bucket{model="mnist",le="0.5"} 0',
        'h_seconds_bucket{model="mnist",le="+Inf"} 1',
        'h_seconds_sum{model="mnist"} 2',
        'h_seconds_count{model="mnist"} 1',
        '',
      ].join('\n'),
    );
  });

  it("zeroes every child on the registry's resetMetrics(), keeping the children bound", () => {
    const registry = new Registry();
    const histogram = new FastHistogram('h_seconds', 'help', [1], registry);
    const child = histogram.child({});
    child.observe(0.5);
    registry.resetMetrics();
    assert.deepEqual([Array.from(child.counts), child.sum, child.count], [[0], 0, 0]);
    assert.equal(histogram.child({}), child);
    assert.equal(histogram.get().values.find((v) => v.metricName === 'h_seconds_count')?.value, 0);
  });

  it('reports nothing before any child is bound', () => {
    assert.deepEqual(new FastHistogram('h', 'help', [1], new Registry()).get().values, []);
  });
});

describe('FastCounter, FastGauge and FastSummary', () => {
  it('report one value per label set, typed counter or gauge', () => {
    const registry = new Registry();
    const counter = new FastCounter('calls_total', 'Calls.', registry);
    const gauge = new FastGauge('in_progress', 'In progress.', registry);
    counter.child({ code: '200' }).value += 3;
    counter.child({ code: '500' }).value++;
    const inProgress = gauge.child({});
    inProgress.value++;
    inProgress.value++;
    inProgress.value--;
    assert.equal(counter.get().type, 'counter');
    assert.deepEqual(counter.get().values, [
      { metricName: 'calls_total', labels: { code: '200' }, value: 3 },
      { metricName: 'calls_total', labels: { code: '500' }, value: 1 },
    ]);
    assert.equal(gauge.get().type, 'gauge');
    assert.deepEqual(gauge.get().values, [{ metricName: 'in_progress', labels: {}, value: 1 }]);
  });

  it('summary: a sum and a count without quantiles, reset to zero', () => {
    const registry = new Registry();
    const summary = new FastSummary('size_bytes', 'Sizes.', registry);
    const child = summary.child({ handler: '/x' });
    child.observe(100);
    child.observe(28);
    assert.equal(summary.get().type, 'summary');
    assert.deepEqual(summary.get().values, [
      { metricName: 'size_bytes_sum', labels: { handler: '/x' }, value: 128 },
      { metricName: 'size_bytes_count', labels: { handler: '/x' }, value: 2 },
    ]);
    registry.resetMetrics();
    assert.deepEqual([child.sum, child.count], [0, 0]);
  });

  it('are exposed by the registry next to each other', async () => {
    const registry = new Registry();
    new FastCounter('a_total', 'A.', registry).child({ x: '1' }).value = 2;
    new FastSummary('b', 'B.', registry).child({}).observe(1.5);
    assert.equal(await registry.metrics(), '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n\n# HELP b B.\n# TYPE b summary\nb_sum 1.5\nb_count 1\n');
  });
});
