/**
 * `longshore bench` reads where the time went from the `Server-Timing` header in longshore's agreed format, and, from a
 * server that does not send it, from the deltas of /metrics' histograms: both parsers on literal text.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramAverages, modelHistograms } from '../../src/loadtest/prometheus.ts';
import { parseServerTiming, requestTiming, TimingAverages } from '../../src/loadtest/server-timing.ts';
import { sampleOf, v2Body, v2RecordBody } from '../../src/loadtest/bodies.ts';
import { machine, machineLine, startForeignCpu } from '../../src/loadtest/machine.ts';

const AGREED = 'decode;dur=0.041, queue;dur=0.120, model;dur=0.530, encode;dur=0.022, batch;desc="id=17 size=8", total;dur=0.750';

describe('Server-Timing as longshore bench reads it', () => {
  it('reads every entry of the agreed format, in milliseconds, and the batch size from its desc', () => {
    assert.deepEqual(parseServerTiming(AGREED), [
      { name: 'decode', dur: 0.041 },
      { name: 'queue', dur: 0.12 },
      { name: 'model', dur: 0.53 },
      { name: 'encode', dur: 0.022 },
      { name: 'batch', desc: 'id=17 size=8' },
      { name: 'total', dur: 0.75 },
    ]);
    assert.deepEqual(requestTiming(AGREED), { decode: 0.041, queue: 0.12, model: 0.53, encode: 0.022, batchSize: 8, total: 0.75 });
  });

  it('takes entries left out (a request refused before the queue), several headers, and foreign entries', () => {
    assert.deepEqual(requestTiming('decode;dur=0.5, total;dur=0.9'), { decode: 0.5, total: 0.9 });
    assert.deepEqual(requestTiming(['cdn-cache;desc=HIT', 'model;dur=2, total;dur=3']), { model: 2, total: 3 });
    assert.deepEqual(parseServerTiming('miss, db;dur=53;desc="a, b; c", app;dur=47.2'), [
      { name: 'miss' },
      { name: 'db', dur: 53, desc: 'a, b; c' },
      { name: 'app', dur: 47.2 },
    ]);
  });

  it('is undefined for a server that sends none of longshore entries, and skips malformed parts', () => {
    assert.equal(requestTiming(undefined), undefined);
    assert.equal(requestTiming(''), undefined);
    assert.equal(requestTiming('cdn;dur=3'), undefined);
    assert.deepEqual(parseServerTiming('bad name;dur=1, queue;dur=abc, model;dur=1;dur=2'), [{ name: 'queue' }, { name: 'model', dur: 1 }]);
  });

  it('averages each entry over the responses that had it', () => {
    const averages = new TimingAverages();
    averages.add(requestTiming('queue;dur=1, batch;desc="id=1 size=2", total;dur=4'));
    averages.add(requestTiming('queue;dur=3, batch;desc="id=2 size=6", total;dur=6'));
    averages.add(requestTiming('decode;dur=1'));
    averages.add(undefined);
    assert.equal(averages.responses, 3);
    assert.deepEqual(averages.mean(), { decode: 1, queue: 2, total: 5, batchSize: 4 });
  });
});

describe('the /metrics fallback', () => {
  const scrape = (queue: [number, number], model: [number, number], batch: [number, number]) => [
    '# HELP longshore_queue_duration_seconds x',
    '# TYPE longshore_queue_duration_seconds histogram',
    `longshore_queue_duration_seconds_bucket{le="0.001",model="iris",version="1"} 3`,
    `longshore_queue_duration_seconds_sum{model="iris",version="1"} ${queue[0]}`,
    `longshore_queue_duration_seconds_count{model="iris",version="1"} ${queue[1]}`,
    `longshore_queue_duration_seconds_sum{model="other",version="1"} 99`,
    `longshore_queue_duration_seconds_count{model="other",version="1"} 99`,
    `longshore_inference_duration_seconds_sum{model="iris",version="1"} ${model[0]}`,
    `longshore_inference_duration_seconds_count{model="iris",version="1"} ${model[1]}`,
    `longshore_batch_size_sum{model="iris",version="1"} ${batch[0]}`,
    `longshore_batch_size_count{model="iris",version="1"} ${batch[1]}`,
  ].join('\n');

  it("reads one model's sums and counts and averages their deltas (ms, rows)", () => {
    const before = modelHistograms(scrape([0.5, 10], [0.2, 5], [10, 5]), 'iris');
    assert.deepEqual(before.queue, { sum: 0.5, count: 10 });
    const after = modelHistograms(scrape([0.7, 110], [0.3, 55], [110, 55]), 'iris');
    const averages = histogramAverages(before, after);
    assert.ok(Math.abs((averages.queueMs ?? 0) - 2) < 1e-9);
    assert.ok(Math.abs((averages.modelMs ?? 0) - 2) < 1e-9);
    assert.equal(averages.batchSize, 2);
  });

  it('gives nothing for a model without calls in between, and counts series with no model label for every model', () => {
    const text = scrape([1, 1], [1, 1], [1, 1]);
    assert.deepEqual(histogramAverages(modelHistograms(text, 'iris'), modelHistograms(text, 'iris')), {});
    assert.deepEqual(modelHistograms('longshore_batch_size_sum 4\nlongshore_batch_size_count 2\n', 'any').batch, { sum: 4, count: 2 });
  });
});

describe('generated request bodies', () => {
  it('makes a record the schema accepts, as small as it allows', () => {
    const schema = {
      type: 'object',
      properties: { input: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 }, label: { type: 'string', enum: ['x', 'y'] } },
      required: ['input'],
    };
    assert.deepEqual(sampleOf(schema), { input: [0, 0, 0, 0] });
    assert.deepEqual(sampleOf({ type: 'integer', minimum: 3 }), 3);
  });

  it('takes const, examples, default and enum first, the first option of a union, and each JSON type', () => {
    assert.equal(sampleOf({ const: 7 }), 7);
    assert.equal(sampleOf({ type: 'string', examples: ['hello'] }), 'hello');
    assert.equal(sampleOf({ type: 'number', default: 2.5 }), 2.5);
    assert.equal(sampleOf({ enum: ['a', 'b'] }), 'a');
    assert.equal(sampleOf({ anyOf: [{ type: 'boolean' }, { type: 'string' }] }), false);
    assert.equal(sampleOf({ type: ['null', 'string'], minLength: 3 }), 'aaa');
    assert.equal(sampleOf({ type: 'number', exclusiveMinimum: 1, maximum: 10 }), 2);
    assert.equal(sampleOf({ type: 'number', minimum: -5 }), 0);
    assert.deepEqual(sampleOf({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }] }), ['a', 0]);
    assert.deepEqual(sampleOf({ type: 'object', properties: { a: { type: 'boolean' } } }), { a: false });
    assert.equal(sampleOf({ type: 'unknown-type' }), null);
    assert.equal(sampleOf('not a schema'), null);
  });

  it('makes V2 tensors of zeros with -1 dimensions as 1, as JSON or with the binary extension', () => {
    const inputs = [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }, { name: 't', datatype: 'BYTES', shape: [-1] }];
    const json = v2Body(inputs, false);
    assert.equal(json.rows, 1);
    assert.deepEqual(JSON.parse(json.body.toString()), {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: [0, 0, 0, 0] }, { name: 't', datatype: 'BYTES', shape: [1], data: ['a'] }],
    });
    const binary = v2Body(inputs, true);
    const headerLength = Number(binary.headers['inference-header-content-length']);
    assert.equal(binary.body.length, headerLength + 16 + 5);
  });
});

describe('V2 bodies from records', () => {
  it("makes a one-row request of an example record, leaving out the inputs it does not have, JSON text for a BYTES object", () => {
    const inputs = [
      { name: 'text', datatype: 'BYTES', shape: [-1] },
      { name: 'text_pair', datatype: 'BYTES', shape: [-1] },
      { name: 'meta', datatype: 'BYTES', shape: [-1] },
      { name: 'x', datatype: 'FP32', shape: [-1, 2, 2] },
    ];
    const body = v2RecordBody({ text: 'hi', meta: { a: 1 }, x: [[1, 2], [3, 4]] }, inputs, 'example');
    assert.ok(body);
    assert.deepEqual(JSON.parse(body.body.toString()), {
      inputs: [
        { name: 'text', datatype: 'BYTES', shape: [1], data: ['hi'] },
        { name: 'meta', datatype: 'BYTES', shape: [1], data: ['{"a":1}'] },
        { name: 'x', datatype: 'FP32', shape: [1, 2, 2], data: [1, 2, 3, 4] },
      ],
    });
  });

  it('gives nothing for a record with a field the model has no input for', () => {
    assert.equal(v2RecordBody({ other: 1 }, [{ name: 'x', datatype: 'FP32', shape: [-1] }], 'example'), undefined);
  });
});

describe('the machine line and the CPU of other processes', () => {
  it('describes the machine, and measures other processes besides the given ones (gone ones count nothing)', async () => {
    const host = machine();
    assert.ok(host.cores >= 1 && host.memoryGiB >= 0 && host.node === process.version);
    assert.match(machineLine(host), /^Machine: .*, \d+ cores, .*; Node v\d+.*; load average [\d.]+$/);
    const stop = startForeignCpu(() => [process.pid, 2 ** 22 + 12345]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const used = stop();
    if (process.platform === 'linux') {
      assert.ok(used && used.otherCores >= 0 && used.stealCores >= 0, JSON.stringify(used));
    } else {
      assert.equal(used, undefined);
    }
    const byDefault = startForeignCpu();
    assert.equal(typeof byDefault, 'function');
  });
});
