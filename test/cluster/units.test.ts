/**
 * The cluster's parts that need no processes: metrics summed across registries (longshore's fast metrics included,
 * after a JSON round trip as over IPC), the primary's metrics collection, the readiness board and view, the restart
 * backoff.
 */
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import type { ClusterViewMessage, MetricsCollect, MetricsJson } from '../../src/cluster/messages.ts';
import { aggregateMetrics, MetricsCollector, metricsPartOf } from '../../src/cluster/metrics-aggregate.ts';
import { ClusterReadinessView, ReadinessBoard, reportReadiness } from '../../src/cluster/readiness.ts';
import { RestartBackoff } from '../../src/cluster/restart-backoff.ts';
import { WorkerChannel } from '../../src/cluster/worker-ipc.ts';
import { FastCounter, FastHistogram, FastSummary } from '../../src/metrics/fast-histogram.ts';
import { silentLogger } from '../helpers/service.ts';

/** One worker's registry: longshore's fast metrics and prom-client's own, with `n` observations each. */
function workerRegistry(observations: readonly number[]): Registry {
  const registry = new Registry();
  const fastHistogram = new FastHistogram('fast_seconds', 'fast', [0.1, 1], registry);
  const fastCounter = new FastCounter('fast_total', 'fast', registry);
  const fastSummary = new FastSummary('fast_summary', 'fast', registry);
  const histogram = new Histogram({ name: 'prom_seconds', help: 'prom', buckets: [0.1, 1], labelNames: ['model'], registers: [registry] });
  const counter = new Counter({ name: 'prom_total', help: 'prom', labelNames: ['model'], registers: [registry] });
  for (const value of observations) {
    fastHistogram.child({ model: 'a' }).observe(value);
    fastCounter.child({ model: 'a' }).value++;
    fastSummary.child({ model: 'a' }).observe(value);
    histogram.observe({ model: 'a' }, value);
    counter.inc({ model: 'a' });
  }
  return registry;
}

/** What a registry's metrics look like after the IPC channel's JSON serialization. */
async function overIpc(registry: Registry): Promise<MetricsJson> {
  return JSON.parse(JSON.stringify(await registry.getMetricsAsJSON())) as MetricsJson;
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  assert.ok(line, `no ${series} in\n${text}`);
  return Number(line.slice(series.length + 1));
}

function fakeWorker(pid: number): Worker {
  return { process: { pid } } as unknown as Worker;
}

describe('cluster metrics aggregation', () => {
  it('sums fast histograms, counters and summaries by label set, as prom-client sums its own', async () => {
    const text = await aggregateMetrics([await overIpc(workerRegistry([0.05, 0.5, 5])), await overIpc(workerRegistry([0.05, 2]))]);
    // The same counts whichever kind of metric: longshore's fast ones (labels first, then le) and prom-client's (sorted).
    const buckets = (le: string) => [sample(text, `fast_seconds_bucket{model="a",le="${le}"}`), sample(text, `prom_seconds_bucket{le="${le}",model="a"}`)];
    assert.deepEqual(buckets('0.1'), [2, 2]);
    assert.deepEqual(buckets('1'), [3, 3]);
    assert.deepEqual(buckets('+Inf'), [5, 5]);
    for (const prefix of ['fast', 'prom']) {
      assert.equal(sample(text, `${prefix}_seconds_count{model="a"}`), 5);
      assert.ok(Math.abs(sample(text, `${prefix}_seconds_sum{model="a"}`) - 7.6) < 1e-9);
      assert.equal(sample(text, `${prefix}_total{model="a"}`), 5);
    }
    assert.equal(sample(text, 'fast_summary_count{model="a"}'), 5);
    assert.match(text, /# TYPE fast_seconds histogram/);
  });

  it('collects every asked worker, skips one that exits, and fails on an error or a timeout', async () => {
    const sent: { pid: number; message: MetricsCollect }[] = [];
    const collector = new MetricsCollector((worker, message) => {
      sent.push({ pid: worker.process.pid ?? 0, message });
      return true;
    }, 200);
    const [one, two] = [fakeWorker(1), fakeWorker(2)];
    const partOf = metricsPartOf(workerRegistry([0.5]));

    const both = collector.collect([one, two]);
    assert.deepEqual(sent.map((s) => s.pid), [1, 2]);
    collector.received(one, await partOf(sent[0]!.message));
    collector.received(two, await partOf(sent[1]!.message));
    assert.equal(sample(await both, 'fast_total{model="a"}'), 2);

    const withExit = collector.collect([one, two]);
    collector.received(one, await partOf(sent[2]!.message));
    collector.exited(two);
    assert.equal(sample(await withExit, 'fast_total{model="a"}'), 1);

    const failing = collector.collect([one]);
    collector.received(one, { type: 'longshore:metrics-part', id: sent[4]!.message.id, error: 'boom' });
    await assert.rejects(failing, /worker process 1 could not read its metrics: boom/);

    await assert.rejects(collector.collect([one, two]), /worker process\(es\) 1, 2 did not send their metrics within 200 ms/);
  });
});

describe("a worker's channel to the primary", () => {
  it('answers a metrics request with the text the primary sends, and fails one it answers with an error or not in time', async () => {
    // No IPC channel in the test process: what the worker sends goes nowhere; the primary's answers are emitted here.
    const channel = new WorkerChannel({ view: () => {}, collect: async ({ id }) => ({ type: 'longshore:metrics-part', id }) });
    const answer = (message: Record<string, unknown>) => process.emit('message', { type: 'longshore:metrics-response', ...message }, undefined);

    const answered = channel.requestMetrics(1000);
    answer({ id: 0, text: 'fast_total 3\n' });
    assert.equal(await answered, 'fast_total 3\n');

    const failed = channel.requestMetrics(1000);
    answer({ id: 1, error: 'worker process(es) 7 did not send their metrics within 5000 ms' });
    await assert.rejects(failed, /^Error: cluster metrics: worker process\(es\) 7 did not send their metrics within 5000 ms$/);

    await assert.rejects(channel.requestMetrics(20), /the cluster primary did not answer the metrics request within 20 ms/);
    answer({ id: 2, text: 'too late' }); // a late answer is dropped
  });
});

describe('cluster readiness', () => {
  it('the board publishes every change and the view needs every worker running and ready', () => {
    const views: ClusterViewMessage[] = [];
    const board = new ReadinessBoard(2, (view) => views.push(view), silentLogger());
    const self = new ClusterReadinessView();
    const last = () => {
      self.update(views.at(-1)!);
      return self.problems();
    };
    assert.deepEqual(new ClusterReadinessView().problems(), ['waiting for the cluster primary to report the other worker processes']);
    board.added(10);
    assert.deepEqual(last(), ['1 of 2 worker processes are not running', 'worker process 10 is not ready']);
    board.added(11);
    assert.deepEqual(last(), ['worker process 10 is not ready', 'worker process 11 is not ready']);
    board.reported(10, true);
    assert.deepEqual(last(), ['worker process 11 is not ready']);
    board.reported(11, true);
    assert.deepEqual(last(), []);
    board.reported(12, true); // not a worker of this board: ignored
    board.removed(11);
    assert.deepEqual(last(), ['1 of 2 worker processes are not running']);
    board.stopping();
    assert.deepEqual(last(), ['the cluster is shutting down']);
  });

  it('a worker reports its readiness at once and then only its changes', async () => {
    let ready = false;
    const sent: boolean[] = [];
    const stop = reportReadiness(() => ready, (message) => sent.push(message.ready), 5);
    assert.deepEqual(sent, [false]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    ready = true;
    await new Promise((resolve) => setTimeout(resolve, 20));
    stop();
    assert.deepEqual(sent, [false, true]);
  });
});

describe('restart backoff', () => {
  it('doubles from 100 ms to 10 s, and starts over after a worker stayed up 30 s', () => {
    const backoff = new RestartBackoff();
    const delays = Array.from({ length: 9 }, () => backoff.next(50));
    assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
    assert.equal(backoff.next(30_000), 100);
    assert.equal(backoff.next(10), 200);
  });
});
