/**
 * The prediction log's parts alone: sampling, settings merge, serialization of tensors and code-model values, backoff,
 * and the buffer/batcher against a fake destination (batches, overflow, unserializable records, partial writes,
 * shutdown).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { backoffDelay } from '../../src/monitoring/backoff.ts';
import { DestinationWriteError, type Destination } from '../../src/monitoring/destination.ts';
import { PredictionLogMetrics } from '../../src/monitoring/metrics.ts';
import { PredictionLog } from '../../src/monitoring/prediction-log.ts';
import { createSampler } from '../../src/monitoring/sampler.ts';
import { serializeEvent } from '../../src/monitoring/serialize.ts';
import { resolveMonitoring, type MonitoringConfig } from '../../src/config/monitoring-defaults.ts';
import { predictionLogSettings, type PredictionLogSettings } from '../../src/monitoring/settings.ts';

/** The settings of a model's log: its entry's keys over the server's (as the config loader merges them), then the log's own. */
function resolvePredictionLog(server: MonitoringConfig | undefined, model: MonitoringConfig | undefined, configDir: string): PredictionLogSettings | undefined {
  return predictionLogSettings(resolveMonitoring(server, model), configDir);
}
import type { PredictionEvent } from '../../src/monitoring/events.ts';
import { sleep, waitFor } from '../batching-http/http-harness.ts';
import { silentLogger } from '../helpers/service.ts';

function event(i: number, extra: Partial<PredictionEvent> = {}): PredictionEvent {
  return { timestamp: 1_700_000_000_000 + i, requestId: `r${i}`, model: 'm', version: '1', operation: 'predict', inputs: { i }, outputs: { o: i }, latencyUs: 1500.4, ...extra };
}

describe('sampling', () => {
  it('sample_every N takes exactly one call in N, starting with the first', () => {
    const sample = createSampler({ every: 4 });
    assert.deepEqual(Array.from({ length: 9 }, () => sample()), [true, false, false, false, true, false, false, false, true]);
  });

  it('sample_rate draws at random; 0 and 1 are exact', () => {
    const values = [0.1, 0.6, 0.49, 0.5];
    const sample = createSampler({ rate: 0.5 }, () => values.shift() ?? 0);
    assert.deepEqual([sample(), sample(), sample(), sample()], [true, false, true, false]);
    assert.equal(createSampler({ rate: 0 })(), false);
    assert.equal(createSampler({ rate: 1 }, () => 0.999)(), true);
  });
});

describe('settings', () => {
  it('is off unless enabled; a model overrides key by key, the destination as a whole, relative paths from the config dir', () => {
    assert.equal(resolvePredictionLog({}, undefined, '/cfg'), undefined);
    assert.equal(resolvePredictionLog({ enabled: true }, { enabled: false }, '/cfg'), undefined);
    assert.deepEqual(resolvePredictionLog({ enabled: true }, undefined, '/cfg'), {
      sampling: { rate: 1 },
      batchSize: 100,
      flushIntervalMs: 1000,
      maxBuffer: 10000,
      include: 'both',
      destination: { type: 'stdout' },
    });
    const merged = resolvePredictionLog(
      { enabled: true, sample_every: 5, batch_size: 7, include: 'inputs', destination: { type: 'file', path: 'a.jsonl', max_files: 9 } },
      { sample_rate: 0.25, destination: { type: 'file', path: 'logs/b.jsonl' } },
      '/cfg',
    );
    assert.deepEqual(merged?.sampling, { rate: 0.25 });
    assert.equal(merged?.batchSize, 7);
    assert.equal(merged?.include, 'inputs');
    assert.deepEqual(merged?.destination, { type: 'file', path: '/cfg/logs/b.jsonl', maxBytes: 100 * 1024 * 1024, maxFiles: 5 });
    const http = resolvePredictionLog(undefined, { enabled: true, destination: { type: 'http', url: 'http://x/y' } }, '/cfg');
    assert.deepEqual(http?.destination, { type: 'http', url: 'http://x/y', headers: {}, timeoutMs: 5000 });
  });
});

describe('serialization', () => {
  it('writes the record fields, ISO timestamp, integer microseconds and honours include', () => {
    const line = JSON.parse(serializeEvent(event(1, { metrics: { score: 0.5 } }), 'both')) as Record<string, unknown>;
    assert.deepEqual(line, {
      timestamp: new Date(1_700_000_000_001).toISOString(),
      request_id: 'r1',
      model: 'm',
      version: '1',
      operation: 'predict',
      inputs: { i: 1 },
      outputs: { o: 1 },
      latency_us: 1500,
      metrics: { score: 0.5 },
    });
    assert.deepEqual(Object.keys(JSON.parse(serializeEvent(event(1), 'inputs'))), ['timestamp', 'request_id', 'model', 'version', 'operation', 'inputs', 'latency_us']);
    assert.deepEqual(Object.keys(JSON.parse(serializeEvent(event(1), 'outputs'))), ['timestamp', 'request_id', 'model', 'version', 'operation', 'outputs', 'latency_us']);
    const failed = JSON.parse(serializeEvent(event(2, { outputs: undefined, error: { type: 'InferenceError', message: 'boom' }, requestId: undefined }), 'both'));
    assert.deepEqual(failed.error, { type: 'InferenceError', message: 'boom' });
    assert.equal(failed.request_id, null);
    assert.ok(!('outputs' in failed));
    assert.equal(JSON.parse(serializeEvent(event(3, { latencyUs: 0.2 }), 'both')).latency_us, 1, 'never 0');
    assert.equal(JSON.parse(serializeEvent(event(3, { latencyUs: 12_345_678.6 }), 'both')).latency_us, 12_345_679, 'seconds are not truncated');
  });

  it('turns tensors into plain JSON: typed arrays, INT64 (exact strings beyond 2^53), BOOL, FP16, BYTES, non-finite floats', () => {
    const big = 2n ** 60n;
    const inputs = [
      { name: 'ids', datatype: 'INT64', shape: [3], data: BigInt64Array.from([1n, -5n, big]) },
      { name: 'u', datatype: 'UINT64', shape: [1], data: BigUint64Array.from([7n]) },
      { name: 'flags', datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
      { name: 'half', datatype: 'FP16', shape: [1], data: Uint16Array.from([0x3c00]) },
      { name: 'text', datatype: 'BYTES', shape: [1], data: ['héllo "x"'] },
      { name: 'f', datatype: 'FP32', shape: [2, 1], data: Float32Array.from([0.5, Number.NaN]) },
    ];
    const line = JSON.parse(serializeEvent(event(1, { operation: 'infer', inputs, outputs: [] }), 'both'));
    assert.deepEqual(line.inputs, [
      { name: 'ids', datatype: 'INT64', shape: [3], data: [1, -5, big.toString()] },
      { name: 'u', datatype: 'UINT64', shape: [1], data: [7] },
      { name: 'flags', datatype: 'BOOL', shape: [2], data: [true, false] },
      { name: 'half', datatype: 'FP16', shape: [1], data: [1] },
      { name: 'text', datatype: 'BYTES', shape: [1], data: ['héllo "x"'] },
      { name: 'f', datatype: 'FP32', shape: [2, 1], data: [0.5, null] },
    ]);
  });

  it("converts bigints and typed arrays in a code model's records; throws on a value JSON cannot carry", () => {
    const line = JSON.parse(serializeEvent(event(1, { outputs: { n: 3n, huge: -(2n ** 62n), v: Float64Array.from([1.5]), w: BigInt64Array.from([2n]) } }), 'both'));
    assert.deepEqual(line.outputs, { n: 3, huge: (-(2n ** 62n)).toString(), v: [1.5], w: [2] });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => serializeEvent(event(1, { outputs: cyclic }), 'both'));
  });
});

describe('backoff', () => {
  it('doubles from 100 ms to a 10 s cap, with jitter in the upper half of each step', () => {
    assert.equal(backoffDelay(1, undefined, () => 0), 50);
    assert.equal(backoffDelay(1, undefined, () => 1), 100);
    assert.equal(backoffDelay(4, undefined, () => 1), 800);
    assert.equal(backoffDelay(40, undefined, () => 1), 10_000);
    assert.equal(backoffDelay(40, undefined, () => 0), 5_000);
  });
});

/** A destination whose writes succeed, fail, or hang as told. */
class FakeDestination implements Destination {
  readonly type = 'http';
  readonly batches: string[][] = [];
  mode: 'ok' | 'fail' | 'partial' = 'ok';
  closed = false;
  async write(records: readonly string[]): Promise<void> {
    await sleep(1);
    if (this.mode === 'fail') throw new Error('down');
    if (this.mode === 'partial') {
      this.batches.push(records.slice(0, 2));
      this.mode = 'fail';
      throw new DestinationWriteError('half', 2);
    }
    this.batches.push([...records]);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  ids(): string[] {
    return this.batches.flat().map((text) => (JSON.parse(text) as { request_id: string }).request_id);
  }
}

function makeLog(destination: Destination, settings: Partial<PredictionLogSettings> = {}) {
  const registry = new Registry();
  const metrics = new PredictionLogMetrics(registry);
  const counters = metrics.countersFor('m', 'http');
  const log = new PredictionLog({
    model: 'm',
    settings: { sampling: { rate: 1 }, batchSize: 5, flushIntervalMs: 30, maxBuffer: 12, include: 'both', destination: { type: 'stdout' }, ...settings },
    destination,
    counters,
    logger: silentLogger(),
    backoff: { initialMs: 10, maxMs: 40 },
  });
  return { log, counters };
}

describe('buffer and batches', () => {
  it('writes full batches at once and the rest after flush_interval_ms; record() never writes synchronously', async () => {
    const destination = new FakeDestination();
    const { log, counters } = makeLog(destination);
    for (let i = 0; i < 7; i++) log.record(event(i));
    assert.equal(destination.batches.length, 0, 'nothing written inside record()');
    await waitFor(() => destination.batches.length === 1, 1000, 'the full batch');
    assert.equal(destination.batches[0]?.length, 5);
    await waitFor(() => destination.ids().length === 7, 1000, 'the rest after the interval');
    assert.deepEqual(destination.ids(), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    assert.equal(counters.written.value, 7);
    await log.close(1000);
    assert.ok(destination.closed);
  });

  it('keeps failed batches (up to max_buffer, then drops new records and counts them), resumes without duplicates', async () => {
    const destination = new FakeDestination();
    destination.mode = 'partial';
    const { log, counters } = makeLog(destination);
    for (let i = 0; i < 20; i++) log.record(event(i));
    assert.equal(counters.dropped.buffer_full.value, 8);
    await waitFor(() => counters.failures.value >= 3, 2000, 'retries');
    destination.mode = 'ok';
    await waitFor(() => destination.ids().length === 12, 2000, 'the buffered records');
    assert.deepEqual(destination.ids(), Array.from({ length: 12 }, (_, i) => `r${i}`));
    assert.equal(counters.written.value, 12);
    assert.equal(log.buffered, 0);
    await log.close(1000);
  });

  it('drops a record JSON cannot carry (counted) without holding back the others', async () => {
    const destination = new FakeDestination();
    const { log, counters } = makeLog(destination);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.record(event(0));
    log.record(event(1, { outputs: cyclic }));
    log.record(event(2));
    await log.close(1000);
    assert.deepEqual(destination.ids(), ['r0', 'r2']);
    assert.equal(counters.dropped.serialization_error.value, 1);
  });

  it('close() writes what is buffered; with a failing destination it gives up after the wait and counts the rest', async () => {
    const destination = new FakeDestination();
    const { log } = makeLog(destination, { batchSize: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 3; i++) log.record(event(i));
    await log.close(1000);
    assert.deepEqual(destination.ids(), ['r0', 'r1', 'r2']);
    assert.equal(log.wants(), false, 'no sampling after close');

    const failing = new FakeDestination();
    failing.mode = 'fail';
    const second = makeLog(failing, { batchSize: 100, flushIntervalMs: 60_000 });
    for (let i = 0; i < 4; i++) second.log.record(event(i));
    const started = performance.now();
    await second.log.close(200);
    assert.ok(performance.now() - started < 1000);
    assert.equal(second.counters.dropped.shutdown.value, 4);
    second.log.record(event(9));
    assert.equal(second.counters.dropped.shutdown.value, 5);
  });
});

describe('destinations', () => {
  it('stdout writes one JSON line per record; models naming the same file share one writer', async () => {
    const { PassThrough } = await import('node:stream');
    const { StdoutDestination } = await import('../../src/monitoring/stdout-destination.ts');
    const { DestinationPool } = await import('../../src/monitoring/destination.ts');
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    await new StdoutDestination(stream).write(['{"a":1}', '{"b":2}']);
    assert.equal(text, '{"a":1}\n{"b":2}\n');

    const pool = new DestinationPool();
    const file = { type: 'file', path: '/tmp/never-written.jsonl', maxBytes: 10, maxFiles: 1 } as const;
    const first = pool.open(file);
    const second = pool.open(file);
    await first.close();
    await second.close();
    await second.close();
  });
});
