/**
 * Pipeline graphs through HTTP: each output feeds the next member, renamed by its `map` and cut to the fields its input
 * schema lists; the graph takes the first member's input schema and answers the last member's output; a graph can be a
 * member of a graph defined below it; members with create_endpoint: false are reachable only through the graph.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { member, predict, serveModels, type Harness } from './graph-harness.ts';

describe('pipeline', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      `  - class_path: ${member('Scaler')}`,
      '    qualified_name: triple',
      '    configuration: {factor: 3}',
      `  - class_path: ${member('Scaler')}`,
      '    qualified_name: halve',
      '    create_endpoint: false',
      '    configuration: {factor: 0.5}',
      `  - class_path: ${member('Threshold')}`,
      '    qualified_name: threshold',
      '    create_endpoint: false',
      '    configuration: {threshold: 10}',
      '  - qualified_name: chain',
      '    graph: {kind: pipeline, members: [triple, {model: threshold, map: {scaled: value}}]}',
      '  - qualified_name: long_chain',
      '    graph:',
      '      kind: pipeline',
      '      members: [triple, {model: halve, map: {scaled: x}}, {model: threshold, map: {scaled: value}}]',
      '  - qualified_name: chain_of_chain',
      '    graph: {kind: pipeline, members: [chain, {model: halve, map: {value: x}}]}',
    ]);
  });
  after(() => harness.close());

  it("renames the previous output's field into the next member's input and drops fields it does not take", async () => {
    // triple answers {scaled, note}; threshold takes exactly {value} (additionalProperties: false).
    const high = await predict(harness, 'chain', { x: 4 });
    assert.equal(high.statusCode, 200, high.body);
    assert.deepEqual(high.json(), { label: 'high', value: 12 });
    const low = await predict(harness, 'chain', { x: 3 });
    assert.deepEqual(low.json(), { label: 'low', value: 9 });
  });

  it('runs every member in order', async () => {
    // 7 * 3 = 21, halved 10.5 (high); 6 * 3 = 18, halved 9 (low).
    assert.deepEqual((await predict(harness, 'long_chain', { x: 7 })).json(), { label: 'high', value: 10.5 });
    assert.deepEqual((await predict(harness, 'long_chain', { x: 6 })).json(), { label: 'low', value: 9 });
  });

  it('takes a graph defined above it as a member', async () => {
    const response = await predict(harness, 'chain_of_chain', { x: 5 });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { scaled: 7.5, note: 'times 0.5' });
  });

  it("has the first member's input schema and the last member's output schema", async () => {
    const meta = (await harness.app.inject({ method: 'GET', url: '/api/models/long_chain/metadata' })).json();
    assert.deepEqual(Object.keys(meta.input_schema.properties), ['x']);
    assert.deepEqual(meta.output_schema.properties.label.enum, ['high', 'low']);
    const invalid = await predict(harness, 'chain', { x: 'four' });
    assert.equal(invalid.statusCode, 400);
    assert.match(invalid.json().message, /input does not match the input schema of model 'chain'/);
  });

  it('serves members without an endpoint only through the graph', async () => {
    const direct = await predict(harness, 'threshold', { value: 12 });
    assert.equal(direct.statusCode, 404, direct.body);
    assert.equal((await predict(harness, 'chain', { x: 5 })).statusCode, 200);
  });
});
