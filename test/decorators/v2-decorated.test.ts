/**
 * The Open Inference Protocol on a decorated model: its tensor view is the record view of the outermost schemas, so
 * V2 metadata lists the prediction_id output, infer runs the same chain per row (cache hits included) and answers the
 * decorated outputs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { inferJson, okJson } from '../v2/v2-helpers.ts';
import { fixturePath, predict, scrape, UUID } from './decorator-helpers.ts';

describe('V2 infer on a model with prediction_id and cache', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveYaml(
      [
        'models:',
        `  - class_path: ${fixturePath('counter-model.ts', 'CounterModel')}`,
        '    decorators:',
        '      - class_path: longshore:prediction_id',
        '      - class_path: longshore:cache',
      ].join('\n'),
    );
  });
  after(() => harness.close());

  it('lists the decorated outputs in the V2 metadata', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/v2/models/counter' });
    assert.equal(response.statusCode, 200, response.body);
    const metadata = response.json<{ inputs: { name: string }[]; outputs: { name: string; datatype: string; shape: number[] }[] }>();
    assert.deepEqual(metadata.inputs.map((i) => i.name), ['a', 'b', 'flaky']);
    assert.deepEqual(metadata.outputs, [
      { name: 'sum', datatype: 'FP64', shape: [-1] },
      { name: 'call', datatype: 'INT64', shape: [-1] },
      { name: 'prediction_id', datatype: 'BYTES', shape: [-1] },
    ]);
  });

  it('runs the chain per row: identical rows share one model call, each row gets its own prediction id', async () => {
    const body = okJson(
      await inferJson(harness.app, 'counter', {
        inputs: [
          { name: 'a', datatype: 'FP64', shape: [3], data: [1, 1, 2] },
          { name: 'b', datatype: 'FP64', shape: [3], data: [10, 10, 20] },
        ],
      }),
    );
    const byName = Object.fromEntries(body.outputs.map((output) => [output.name, output]));
    assert.deepEqual(Object.keys(byName), ['sum', 'call', 'prediction_id']);
    assert.deepEqual(byName.sum?.data, [11, 11, 22]);
    const calls = byName.call?.data as number[];
    assert.equal(calls[0], calls[1], 'the two identical rows were one model call (the cache)');
    assert.notEqual(calls[2], calls[0]);
    const ids = byName.prediction_id?.data as string[];
    assert.equal(byName.prediction_id?.datatype, 'BYTES');
    assert.deepEqual(byName.prediction_id?.shape, [3]);
    for (const id of ids) assert.match(id, UUID);
    assert.equal(new Set(ids).size, 3, 'prediction_id is outside the cache: a new id per row');

    // REST shares the cache with V2: the same record is a hit, with the call number V2 saw.
    const rest = await predict(harness, 'counter', { b: 20, a: 2 });
    assert.equal(rest.json<{ call: number }>().call, calls[2]);
    assert.equal(await scrape(harness, 'longshore_cache_requests_total', { model: 'counter', version: '1', result: 'hit' }), 2);
    assert.equal(await scrape(harness, 'longshore_cache_requests_total', { model: 'counter', version: '1', result: 'miss' }), 2);
  });

  it('asks for one output by name and gets only the decorated one', async () => {
    const body = okJson(
      await inferJson(harness.app, 'counter', {
        inputs: [
          { name: 'a', datatype: 'FP64', shape: [1], data: [5] },
          { name: 'b', datatype: 'FP64', shape: [1], data: [6] },
        ],
        outputs: [{ name: 'prediction_id' }],
      }),
    );
    assert.deepEqual(body.outputs.map((o) => o.name), ['prediction_id']);
    assert.match((body.outputs[0]?.data as string[])[0] ?? '', UUID);
  });
});
