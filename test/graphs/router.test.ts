/**
 * Router graphs through HTTP: the routing header picks the member (by header_value or by the member's name) and the
 * answer says which (`routed_to`, also in the OpenAPI output component); an unknown value is a 400 listing the accepted
 * ones; without the header, traffic splits by weight; the members get the request's headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { member, predict, serveModels, type Harness } from './graph-harness.ts';

describe('router', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      `  - class_path: ${member('HeaderEcho')}`,
      '    qualified_name: control',
      '    configuration: {label: control}',
      `  - class_path: ${member('HeaderEcho')}`,
      '    qualified_name: candidate',
      '    configuration: {label: candidate}',
      '  - qualified_name: ab',
      '    graph:',
      '      kind: router',
      '      header: X-Variant',
      '      members: [{model: control, weight: 1}, {model: candidate, weight: 3, header_value: canary}]',
      '  - qualified_name: split',
      '    graph: {kind: router, members: [control, {model: candidate, weight: 3}]}',
    ]);
  });
  after(() => harness.close());

  it('sends a request to the member its header names and says so in routed_to', async () => {
    for (let i = 0; i < 5; i++) {
      const canary = await predict(harness, 'ab', { x: i }, { 'x-variant': 'canary' });
      assert.equal(canary.statusCode, 200, canary.body);
      assert.deepEqual(canary.json(), { label: 'candidate', seen: 'canary', routed_to: 'candidate' });
      const control = await predict(harness, 'ab', { x: i }, { 'x-variant': 'control' });
      assert.deepEqual(control.json(), { label: 'control', seen: 'control', routed_to: 'control' });
    }
  });

  it('answers 400 for a header value that picks no member, listing the accepted values', async () => {
    const response = await predict(harness, 'ab', { x: 1 }, { 'x-variant': 'candidate' });
    assert.equal(response.statusCode, 400, response.body);
    const body = response.json();
    assert.equal(body.type, 'SchemaValidationError');
    assert.match(body.message, /router 'ab': header x-variant is "candidate", which picks no member; accepted values: control, canary/);
    assert.equal(body.details[0].path, 'headers/x-variant');
  });

  it('splits traffic by weight when the request has no routing header', async () => {
    for (const graph of ['ab', 'split']) {
      const counts: Record<string, number> = { control: 0, candidate: 0 };
      const responses = await Promise.all(Array.from({ length: 300 }, (_, x) => predict(harness, graph, { x })));
      for (const response of responses) {
        assert.equal(response.statusCode, 200, response.body);
        const body = response.json();
        assert.equal(body.label, body.routed_to);
        counts[body.routed_to] = (counts[body.routed_to] ?? 0) + 1;
      }
      // Expected 75 : 225 (standard deviation 7.5): bounds of more than five deviations.
      assert.ok((counts.control as number) >= 35 && (counts.control as number) <= 115, `${graph}: ${JSON.stringify(counts)}`);
      assert.equal((counts.control as number) + (counts.candidate as number), 300);
    }
  });

  it('routes V2 infer by the header too, with routed_to as an output tensor', async () => {
    const response = await harness.app.inject({
      method: 'POST',
      url: '/v2/models/ab/infer',
      headers: { 'x-variant': 'canary' },
      payload: { inputs: [{ name: 'x', datatype: 'FP64', shape: [2], data: [1, 2] }] },
    });
    assert.equal(response.statusCode, 200, response.body);
    const outputs = new Map<string, { datatype: string; data: unknown[] }>(response.json().outputs.map((output: { name: string }) => [output.name, output]));
    assert.deepEqual(outputs.get('routed_to'), { name: 'routed_to', datatype: 'BYTES', shape: [2], data: ['candidate', 'candidate'] });
    // The member saw the header; `seen` may be null, so its column carries JSON text.
    assert.deepEqual(outputs.get('seen')?.data, ['"canary"', '"canary"']);
  });

  it('documents routed_to in the OpenAPI output component', async () => {
    const document = (await harness.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    await SwaggerParser.validate(structuredClone(document));
    assert.ok(document.paths['/api/models/ab/prediction'], 'the router has its prediction path');
    const output = document.components.schemas.ab_output;
    assert.deepEqual(output.properties.routed_to.enum, ['control', 'candidate']);
    assert.ok(output.required.includes('routed_to'));
    assert.ok(output.properties.label, "the first member's output fields are kept");
  });
});
