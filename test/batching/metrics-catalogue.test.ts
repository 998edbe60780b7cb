/**
 * The metrics catalogue of the queue: what a batcher's observer records comes out of the registry in Prometheus text
 * format, per model, with cumulative buckets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetricsCatalogue } from '../../src/metrics/catalogue.ts';

describe('the metrics catalogue', () => {
  it('exposes batch sizes, queue and inference durations, queue depth and rejections per model in Prometheus text', async () => {
    const catalogue = new MetricsCatalogue();
    const iris = catalogue.observerFor('iris', '1');
    const other = catalogue.observerFor('other', '2');
    iris.ran(3, 0.002);
    iris.ran(64, 0.004);
    iris.waited(0.0003);
    iris.waited(2);
    iris.queueDepth(5);
    iris.queueDepth(7);
    iris.rejected('queue_full');
    iris.rejected('deadline');
    iris.rejected('deadline');
    other.ran(1, 0.0001);
    const text = await catalogue.registry.metrics();
    const line = (name: string) => {
      const found = text.split('\n').find((row) => row.startsWith(`${name} `));
      assert.ok(found, `missing ${name} in:\n${text}`);
      return Number(found.slice(name.length + 1));
    };
    assert.match(text, /# TYPE longshore_batch_size histogram/);
    assert.equal(line('longshore_batch_size_bucket{model="iris",version="1",le="2"}'), 0);
    assert.equal(line('longshore_batch_size_bucket{model="iris",version="1",le="4"}'), 1);
    assert.equal(line('longshore_batch_size_bucket{model="iris",version="1",le="64"}'), 2);
    assert.equal(line('longshore_batch_size_bucket{model="iris",version="1",le="+Inf"}'), 2);
    assert.equal(line('longshore_batch_size_sum{model="iris",version="1"}'), 67);
    assert.equal(line('longshore_batch_size_count{model="iris",version="1"}'), 2);
    assert.equal(line('longshore_batch_size_count{model="other",version="2"}'), 1);
    assert.equal(line('longshore_queue_duration_seconds_bucket{model="iris",version="1",le="0.0005"}'), 1);
    assert.equal(line('longshore_queue_duration_seconds_bucket{model="iris",version="1",le="1"}'), 1);
    assert.equal(line('longshore_queue_duration_seconds_bucket{model="iris",version="1",le="2.5"}'), 2);
    assert.equal(line('longshore_inference_duration_seconds_count{model="iris",version="1"}'), 2);
    assert.equal(line('longshore_queue_depth{model="iris",version="1"}'), 7);
    assert.equal(line('longshore_rejected_requests_total{model="iris",version="1",reason="deadline"}'), 2);
    assert.equal(line('longshore_rejected_requests_total{model="iris",version="1",reason="queue_full"}'), 1);
    assert.equal(line('longshore_rejected_requests_total{model="iris",version="1",reason="cancelled"}'), 0);
  });

  it('counts stuck calls per model, and without model labels sums them over models in one series (0 with no models)', async () => {
    const stuckCalls = async (catalogue: MetricsCatalogue) =>
      ((await catalogue.registry.getSingleMetric('longshore_stuck_calls')?.get())?.values ?? []).map(({ labels, value }) => ({ labels, value }));

    const labelled = new MetricsCatalogue();
    const a = labelled.observerFor('a', '1');
    labelled.observerFor('b', '1');
    a.stuck?.(2);
    a.stuck?.(1);
    assert.deepEqual(await stuckCalls(labelled), [
      { labels: { model: 'a', version: '1' }, value: 1 },
      { labels: { model: 'b', version: '1' }, value: 0 },
    ]);

    const summed = new MetricsCatalogue({ modelLabels: false });
    assert.deepEqual(await stuckCalls(summed), [{ labels: {}, value: 0 }]);
    const x = summed.observerFor('x', '1');
    const y = summed.observerFor('y', '1');
    x.stuck?.(2);
    y.stuck?.(1);
    assert.deepEqual(await stuckCalls(summed), [{ labels: {}, value: 3 }]);
    x.stuck?.(0);
    assert.deepEqual(await stuckCalls(summed), [{ labels: {}, value: 1 }]);
  });
});
