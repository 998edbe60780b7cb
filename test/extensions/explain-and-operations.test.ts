/**
 * explain (REST and V2) and custom operations: answers computed by the model's own methods, validation of their inputs
 * and outputs, 501 for a model without explain (code and ONNX), 404 for an unknown operation, and their OpenAPI paths.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { serveYaml, FIXTURES, type Harness } from '../runtimes/onnx-harness.ts';

const LINEAR = `
const weights = { a: 2, b: 3 };
export class Linear {
  qualified_name = 'linear';
  display_name = 'Linear';
  description = 'y = 2a + 3b + 1';
  version = '1';
  input_schema = { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'], additionalProperties: false };
  output_schema = { type: 'object', properties: { y: { type: 'number' } }, required: ['y'] };
  operations = {
    coefficients: {
      description: 'The weights and the intercept.',
      input_schema: { type: 'object', additionalProperties: false },
      output_schema: { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' }, intercept: { type: 'number' } }, required: ['a', 'b', 'intercept'] },
      run: () => ({ ...weights, intercept: 1 }),
    },
    solve_for_a: {
      description: 'The a that gives y, for a given b.',
      input_schema: { type: 'object', properties: { y: { type: 'number' }, b: { type: 'number' } }, required: ['y', 'b'] },
      output_schema: { type: 'object', properties: { a: { type: 'number' } }, required: ['a'] },
      run: (input) => ({ a: (input.y - 1 - weights.b * input.b) / weights.a }),
    },
    broken: {
      input_schema: { type: 'object' },
      output_schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
      run: () => ({ ok: 'yes' }),
    },
    throws: {
      input_schema: { type: 'object' },
      output_schema: { type: 'object' },
      run: () => { throw new Error('operation exploded'); },
    },
  };
  predict(input) { return { y: weights.a * input.a + weights.b * input.b + 1 }; }
  explain(input) { return { contributions: { a: weights.a * input.a, b: weights.b * input.b }, intercept: 1 }; }
}

export class Plain {
  qualified_name = 'plain';
  display_name = 'Plain';
  description = 'No explain, no operations.';
  version = '1';
  input_schema = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] };
  output_schema = { type: 'object', properties: { y: { type: 'number' } }, required: ['y'] };
  predict(input) { return { y: input.x }; }
}
`;

describe('explain and custom operations', () => {
  let harness: Harness;

  before(async () => {
    harness = await serveYaml(
      `
models:
  - class_path: ./linear.ts#Linear
  - class_path: ./linear.ts#Plain
  - model_path: ${JSON.stringify(join(FIXTURES, 'iris_logreg.onnx'))}
    qualified_name: iris_onnx
`,
      { 'linear.ts': LINEAR },
    );
  });
  after(() => harness.close());

  const post = (url: string, payload: unknown) => harness.app.inject({ method: 'POST', url, payload: payload as object });

  it('POST /api/models/{name}/explain returns what the model explain() computes for the record', async () => {
    const response = await post('/api/models/linear/explain', { a: 1.5, b: -2 });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { contributions: { a: 3, b: -6 }, intercept: 1 });
  });

  it('explain checks the input against the model schema first (400 naming the field)', async () => {
    const response = await post('/api/models/linear/explain', { a: 'one', b: 2 });
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().type, 'SchemaValidationError');
    assert.match(response.json().message, /\/a/);
  });

  it('explain on a model without explain() answers 501 NotImplementedError, for code and ONNX models', async () => {
    for (const [name, body] of [
      ['plain', { x: 1 }],
      ['iris_onnx', { input: [5.1, 3.5, 1.4, 0.2] }],
    ] as const) {
      const response = await post(`/api/models/${name}/explain`, body);
      assert.equal(response.statusCode, 501, name);
      assert.equal(response.json().type, 'NotImplementedError');
      assert.match(response.json().message, new RegExp(`model '${name}' does not implement explain`));
    }
  });

  it('POST /v2/models/{name}/explain explains each row and returns the explanations as JSON in a BYTES output', async () => {
    const response = await post('/v2/models/linear/explain', {
      id: 'e1',
      inputs: [
        { name: 'a', datatype: 'FP64', shape: [2], data: [1, 0] },
        { name: 'b', datatype: 'FP64', shape: [2], data: [0, 1] },
      ],
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.model_name, 'linear');
    assert.equal(body.id, 'e1');
    assert.equal(body.outputs.length, 1);
    assert.equal(body.outputs[0].name, 'explanation');
    assert.equal(body.outputs[0].datatype, 'BYTES');
    assert.deepEqual(body.outputs[0].shape, [2]);
    assert.deepEqual(body.outputs[0].data.map((text: string) => JSON.parse(text)), [
      { contributions: { a: 2, b: 0 }, intercept: 1 },
      { contributions: { a: 0, b: 3 }, intercept: 1 },
    ]);
  });

  it('V2 explain on a model without explain() answers 501 in the protocol error shape', async () => {
    const response = await post('/v2/models/plain/explain', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1] }] });
    assert.equal(response.statusCode, 501);
    assert.match(response.json().error, /does not implement explain/);
  });

  it('a custom operation runs the model method with its validated input', async () => {
    const coefficients = await post('/api/models/linear/operations/coefficients', {});
    assert.equal(coefficients.statusCode, 200);
    assert.deepEqual(coefficients.json(), { a: 2, b: 3, intercept: 1 });
    const solved = await post('/api/models/linear/operations/solve_for_a', { y: 11, b: 2 });
    assert.equal(solved.statusCode, 200);
    assert.deepEqual(solved.json(), { a: 2 });
    const check = await post('/api/models/linear/prediction', { a: solved.json().a, b: 2 });
    assert.equal(check.json().y, 11);
  });

  it('an operation input that fails its schema is a 400 naming the operation; a bad output or a throw is a 500', async () => {
    const bad = await post('/api/models/linear/operations/solve_for_a', { y: 1 });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /operation 'solve_for_a' of model 'linear'.*b/);
    const broken = await post('/api/models/linear/operations/broken', {});
    assert.equal(broken.statusCode, 500);
    assert.equal(broken.json().type, 'InferenceError');
    assert.match(broken.json().message, /operation 'broken' of model 'linear' returned output that does not match its output schema/);
    const throws = await post('/api/models/linear/operations/throws', {});
    assert.equal(throws.statusCode, 500);
    assert.match(throws.json().message, /operation 'throws' of model 'linear' failed: operation exploded/);
  });

  it('an unknown operation is a 404 that lists the operations the model has', async () => {
    const response = await post('/api/models/linear/operations/nope', {});
    assert.equal(response.statusCode, 404);
    assert.match(response.json().message, /no operation 'nope'; its operations: coefficients, solve_for_a, broken, throws/);
    const none = await post('/api/models/plain/operations/anything', {});
    assert.equal(none.statusCode, 404);
    assert.match(none.json().message, /its operations: none/);
  });

  it('the metadata lists explain and the operations; OpenAPI documents their paths with their schemas', async () => {
    const metadata = (await harness.app.inject('/api/models/linear/metadata')).json();
    assert.equal(metadata.explain, true);
    assert.deepEqual(
      metadata.operations.map((op: { name: string }) => op.name),
      ['coefficients', 'solve_for_a', 'broken', 'throws'],
    );
    assert.equal((await harness.app.inject('/api/models/plain/metadata')).json().explain, false);
    const document = (await harness.app.inject('/openapi.json')).json();
    await SwaggerParser.validate(structuredClone(document));
    assert.ok(document.paths['/api/models/linear/explain']?.post);
    assert.equal(document.paths['/api/models/plain/explain'], undefined);
    const solve = document.paths['/api/models/linear/operations/solve_for_a']?.post;
    assert.ok(solve);
    assert.equal(solve.summary, 'Linear: The a that gives y, for a given b.');
    assert.deepEqual(solve.requestBody.content['application/json'].schema.required, ['y', 'b']);
    assert.deepEqual(Object.keys(solve.responses['200'].content['application/json'].schema.properties), ['a']);
  });
});
