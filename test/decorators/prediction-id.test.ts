/**
 * longshore:prediction_id: every output record gets a new random UUID (as a new object), the output schema and so the
 * OpenAPI document gain the field as required, a custom field name works, and an output that is not a record is a 500
 * that says why.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PredictionIdDecorator } from '../../src/decorators/builtin/prediction-id.ts';
import { InferenceError } from '../../src/errors.ts';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { fixturePath, predict, testSetup, UUID } from './decorator-helpers.ts';

describe('PredictionIdDecorator (class)', () => {
  it('returns a new object with a UUID, leaving the inner output as it was', async () => {
    const decorator = new PredictionIdDecorator({}, testSetup());
    const inner = Object.freeze({ y: 1 });
    const output = (await decorator.predict({}, async () => inner)) as Record<string, unknown>;
    assert.deepEqual(inner, { y: 1 });
    assert.equal(output.y, 1);
    assert.match(String(output.prediction_id), UUID);
  });

  it('adds the field to the output schema as required, once per inner schema object', () => {
    const decorator = new PredictionIdDecorator({ field: 'trace_id' }, testSetup());
    const inner = { type: 'object', properties: { y: { type: 'number' } }, required: ['y'], additionalProperties: false };
    const outer = decorator.outputSchema(inner);
    assert.deepEqual(outer.required, ['y', 'trace_id']);
    assert.deepEqual((outer.properties as Record<string, { type: string; format: string }>).trace_id?.format, 'uuid');
    assert.equal(outer.additionalProperties, false);
    assert.deepEqual(inner.required, ['y'], 'the inner schema is not changed');
    assert.equal(decorator.outputSchema(inner), outer, 'the same inner object gives the same outer object');
    assert.notEqual(decorator.outputSchema({ ...inner }), outer, 'another inner object gives another outer object');
  });

  it('refuses an output that is not a record, and a bad field setting', async () => {
    const decorator = new PredictionIdDecorator({}, testSetup());
    await assert.rejects(Promise.resolve(decorator.predict({}, async () => [1, 2])), (error: unknown) => {
      assert.ok(error instanceof InferenceError);
      assert.match(error.message, /longshore:prediction_id needs object outputs .*; the model answered an array/);
      return true;
    });
    assert.throws(() => new PredictionIdDecorator({ field: 3 }, testSetup()), /field must be a non-empty string, got 3/);
  });
});

describe('longshore:prediction_id over HTTP', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveYaml(
      [
        'models:',
        `  - class_path: ${fixturePath('counter-model.ts', 'CounterModel')}`,
        '    decorators:',
        '      - class_path: longshore:prediction_id',
        `  - class_path: ${fixturePath('counter-model.ts', 'CounterModel')}`,
        '    qualified_name: named_id',
        '    decorators:',
        '      - class_path: longshore:prediction_id',
        '        configuration: {field: request_uuid}',
        `  - class_path: ${fixturePath('counter-model.ts', 'BareNumberModel')}`,
        '    decorators:',
        '      - class_path: longshore:prediction_id',
      ].join('\n'),
    );
  });
  after(() => harness.close());

  it('adds a different UUID to each output, next to the model fields', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const response = await predict(harness, 'counter', { a: 1, b: i });
      assert.equal(response.statusCode, 200, response.body);
      const body = response.json<{ sum: number; call: number; prediction_id: string }>();
      assert.deepEqual(Object.keys(body).sort(), ['call', 'prediction_id', 'sum']);
      assert.equal(body.sum, 1 + i);
      assert.match(body.prediction_id, UUID);
      ids.add(body.prediction_id);
    }
    assert.equal(ids.size, 3);
    const batch = await harness.app.inject({ method: 'POST', url: '/api/models/named_id/predictions', payload: [{ a: 1, b: 1 }, { a: 1, b: 1 }] });
    const [first, second] = batch.json<{ request_uuid: string; sum: number }[]>();
    assert.match(first?.request_uuid ?? '', UUID);
    assert.match(second?.request_uuid ?? '', UUID);
    assert.notEqual(first?.request_uuid, second?.request_uuid, 'one id per record');
  });

  it('shows the field, required, in the OpenAPI output component; the input component is the model’s', async () => {
    const document = (await harness.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ components: { schemas: Record<string, Record<string, unknown>> } }>();
    const output = document.components.schemas.counter_output ?? {};
    assert.deepEqual(Object.keys(output.properties as object).sort(), ['call', 'prediction_id', 'sum']);
    assert.deepEqual((output.properties as Record<string, unknown>).prediction_id, {
      type: 'string',
      format: 'uuid',
      description: 'A random UUID that identifies this prediction (longshore:prediction_id).',
    });
    assert.deepEqual(output.required, ['sum', 'call', 'prediction_id']);
    assert.deepEqual(Object.keys(document.components.schemas.counter_input?.properties as object), ['a', 'b', 'flaky']);
    assert.ok((document.components.schemas.named_id_output?.required as string[]).includes('request_uuid'));
  });

  it('answers 500 naming the decorator when the model’s output is not a record', async () => {
    const response = await predict(harness, 'bare_number', { a: 1, b: 2 });
    assert.equal(response.statusCode, 500, response.body);
    const body = response.json<{ type: string; message: string }>();
    assert.equal(body.type, 'InferenceError');
    assert.match(body.message, /longshore:prediction_id needs object outputs/);
  });
});
