/**
 * A graph is served like any model: listed by GET /api/models, with its OpenAPI path and components, callable through
 * the Open Inference Protocol (the record view of its schemas), and counted in the per-model metrics (its members
 * count the calls the graph makes to them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseExposition, valueOf } from '../metrics/exposition.ts';
import { member, predict, serveModels, type Harness } from './graph-harness.ts';

describe('a graph served like any model', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      `  - class_path: ${member('LinearRegressor')}`,
      '    qualified_name: line_a',
      '    configuration: {slope: 2, intercept: 1, tag: a}',
      `  - class_path: ${member('LinearRegressor')}`,
      '    qualified_name: line_b',
      '    configuration: {slope: -1, intercept: 4, tag: b}',
      '  - qualified_name: mean_line',
      '    version: "3"',
      '    graph: {kind: ensemble, combine: mean, members: [{model: line_a, weight: 1}, {model: line_b, weight: 2}]}',
    ]);
  });
  after(() => harness.close());

  it('is listed with its members by GET /api/models', async () => {
    const listing = (await harness.app.inject({ method: 'GET', url: '/api/models' })).json();
    const names = listing.models.map((model: { qualified_name: string }) => model.qualified_name);
    assert.deepEqual(names, ['line_a', 'line_b', 'mean_line']);
    const graph = listing.models[2];
    assert.equal(graph.status, 'ready');
    assert.equal(graph.version, '3');
    assert.equal(graph.description, 'Ensemble of line_a, line_b (mean of numeric fields)');
  });

  it('answers V2 infer with JSON tensors like its REST route', async () => {
    const xs = [0, 1.5, -2];
    const response = await harness.app.inject({
      method: 'POST',
      url: '/v2/models/mean_line/infer',
      payload: { id: 'g1', inputs: [{ name: 'x', datatype: 'FP64', shape: [xs.length], data: xs }] },
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.model_name, 'mean_line');
    assert.equal(body.id, 'g1');
    const outputs = new Map<string, { shape: number[]; data: unknown[] }>(body.outputs.map((output: { name: string }) => [output.name, output]));
    const rest = await Promise.all(xs.map(async (x) => (await predict(harness, 'mean_line', { x })).json()));
    // Independent of the REST answers: (1 * (2x + 1) + 2 * (4 - x)) / 3 = 3.
    assert.deepEqual(rest.map((answer) => answer.y), [3, 3, 3]);
    assert.deepEqual(outputs.get('y')?.data, rest.map((answer) => answer.y));
    assert.deepEqual(outputs.get('vector')?.shape, [3, 2]);
    assert.deepEqual(outputs.get('vector')?.data, rest.flatMap((answer) => answer.vector));
    assert.deepEqual(outputs.get('tag')?.data, ['a', 'a', 'a']);

    const metadata = (await harness.app.inject({ method: 'GET', url: '/v2/models/mean_line' })).json();
    assert.deepEqual(metadata.inputs, [{ name: 'x', datatype: 'FP64', shape: [-1] }]);
  });

  it('has its prediction path and components in the OpenAPI document', async () => {
    const document = (await harness.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.ok(document.paths['/api/models/mean_line/prediction']?.post);
    assert.deepEqual(Object.keys(document.components.schemas.mean_line_input.properties), ['x']);
    assert.deepEqual(Object.keys(document.components.schemas.mean_line_output.properties), ['y', 'vector', 'tag']);
  });

  it('is counted in the per-model metrics, and its members count its calls to them', async () => {
    const scrape = async () => parseExposition((await harness.app.inject({ method: 'GET', url: '/metrics' })).body);
    const before = await scrape();
    const count = (metrics: typeof before, model: string, version: string) =>
      valueOf(metrics, 'longshore_requests_total', { model, version, operation: 'predict' }) ?? 0;
    for (const x of [1, 2, 3, 4]) assert.equal((await predict(harness, 'mean_line', { x })).statusCode, 200);
    assert.equal((await predict(harness, 'line_a', { x: 1 })).statusCode, 200);
    const after = await scrape();
    assert.equal(count(after, 'mean_line', '3') - count(before, 'mean_line', '3'), 4);
    assert.equal(count(after, 'line_a', '1') - count(before, 'line_a', '1'), 5);
    assert.equal(count(after, 'line_b', '1') - count(before, 'line_b', '1'), 4);
    assert.equal(valueOf(after, 'longshore_model_ready', { model: 'mean_line', version: '3' }), 1);
  });
});
