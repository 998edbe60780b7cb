/**
 * NaN and ±Infinity from code (TypeScript) models (issue 14, items 1 and 11): a non-finite number where the model's own
 * output schema says `number` is a 500 InferenceError naming the field, never a 200 `{"y": null}` that breaks the
 * schema; a schema that allows `null` gets null in JSON and NaN in binary tensors; and ajv's strictNumbers changes
 * nothing for JSON bodies, while a NaN arriving in a binary tensor is a 400 naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSchemaCompiler } from '../../src/model/validation.ts';
import { columnsOf, columnsToRecords, recordsToColumns } from '../../src/tensors/record-columns.ts';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';
import { assertError, decodeFramedResponse, framedRequest, fromBytes, inferFramed, inferJson, okJson, toBytes } from '../v2/v2-helpers.ts';

const json = { 'content-type': 'application/json' };

describe('a code model whose output is not finite', () => {
  let service: TestService;

  before(async () => {
    service = await buildService(
      configYaml([{ class_path: fixture('non-finite.ts', 'LogModel') }, { class_path: fixture('non-finite.ts', 'NullableLogModel') }]),
    );
  });

  after(async () => {
    await service.close();
    await service.registry.unloadAll();
  });

  const post = (url: string, payload: unknown) => service.app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(payload) });

  it('answers 500 InferenceError naming the field when predict() returns NaN where the schema says number', async () => {
    const response = await post('/api/models/log/prediction', { x: -1 });
    assert.equal(response.statusCode, 500, response.body);
    const body = response.json();
    assert.equal(body.type, 'InferenceError');
    assert.equal(body.message, "model 'log' returned output that does not match its output schema: /y must be a finite number (got NaN)");
    assert.deepEqual(body.details, [{ path: '/y', message: 'must be a finite number (got NaN)' }]);
  });

  it('answers 500 for -Infinity too, and 200 for a finite value', async () => {
    const infinite = await post('/api/models/log/prediction', { x: 0 });
    assert.equal(infinite.statusCode, 500, infinite.body);
    assert.deepEqual(infinite.json().details, [{ path: '/y', message: 'must be a finite number (got -Infinity)' }]);
    const finite = await post('/api/models/log/prediction', { x: 1 });
    assert.equal(finite.statusCode, 200, finite.body);
    assert.deepEqual(finite.json(), { y: 0 });
  });

  it('names the record in a batch: /predictions with one NaN row is a 500 with the path /1/y', async () => {
    const response = await post('/api/models/log/predictions', [{ x: 1 }, { x: -2 }, { x: Math.E }]);
    assert.equal(response.statusCode, 500, response.body);
    assert.deepEqual(response.json().details, [{ path: '/1/y', message: 'must be a finite number (got NaN)' }]);
  });

  it('answers 500 over V2 as well, never a 200 with null', async () => {
    const response = await inferJson(service.app, 'log', { inputs: [{ name: 'x', datatype: 'FP64', shape: [2], data: [1, -1] }] });
    assertError(response, 500, /\/1\/y must be a finite number \(got NaN\)/);
  });

  it('answers null where the schema allows it ({"type": ["number", "null"]}), on REST and V2 JSON', async () => {
    const rest = await post('/api/models/nullable_log/predictions', [{ x: 1 }, { x: 0 }]);
    assert.equal(rest.statusCode, 200, rest.body);
    assert.deepEqual(rest.json(), [{ y: 0 }, { y: null }]);
    const v2 = okJson(await inferJson(service.app, 'nullable_log', { inputs: [{ name: 'x', datatype: 'FP64', shape: [2], data: [1, 0] }] }));
    assert.deepEqual(v2.outputs, [{ name: 'y', datatype: 'FP64', shape: [2], data: [0, null] }]);
  });

  it('sends such a null as NaN in a binary V2 output (a nullable number is an FP64 column)', async () => {
    const meta = await service.app.inject({ url: '/v2/models/nullable_log' });
    assert.deepEqual(meta.json().outputs, [{ name: 'y', datatype: 'FP64', shape: [-1] }]);
    const request = framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'FP64', shape: [2], bytes: toBytes('FP64', [1, 0]) }]);
    const { outputs } = decodeFramedResponse(await inferFramed(service.app, 'nullable_log', request));
    const values = fromBytes('FP64', outputs.get('y')?.bytes as Buffer) as number[];
    assert.equal(values[0], 0);
    assert.ok(Number.isNaN(values[1]), `expected NaN, got ${values[1]}`);
  });

  it('refuses a NaN sent in a binary V2 input where the input schema says number: 400 naming the field', async () => {
    const request = framedRequest({}, [{ name: 'x', datatype: 'FP64', shape: [2], bytes: toBytes('FP64', [1, Number.NaN]) }]);
    assertError(await inferFramed(service.app, 'log', request), 400, /\/1\/x must be a finite number \(got NaN\)/);
  });

  it('validates JSON bodies exactly as before (JSON has no NaN): numbers pass, other types fail with the usual message', async () => {
    const ok = await post('/api/models/log/prediction', { x: 1e308 });
    assert.equal(ok.statusCode, 200, ok.body);
    const huge = await service.app.inject({ method: 'POST', url: '/api/models/log/prediction', headers: json, payload: '{"x": 1e999}' });
    assert.equal(huge.statusCode, 400, huge.body);
    assert.deepEqual(huge.json().details, [{ path: '/x', message: 'must be a finite number (got Infinity)' }]);
    const text = await post('/api/models/log/prediction', { x: '1' });
    assert.equal(text.statusCode, 400, text.body);
    assert.deepEqual(text.json().details, [{ path: '/x', message: 'must be number' }]);
  });
});

describe('strictNumbers in the schema compiler', () => {
  const validate = createSchemaCompiler()({
    type: 'object',
    properties: { n: { type: 'number' }, i: { type: 'integer' }, m: { type: ['number', 'null'] }, free: {} },
  });

  it('rejects NaN and ±Infinity where a schema says number or integer, saying what was got', () => {
    assert.deepEqual(validate({ n: Number.NaN, i: Number.POSITIVE_INFINITY, m: Number.NEGATIVE_INFINITY }), [
      { path: '/n', message: 'must be a finite number (got NaN)' },
      { path: '/i', message: 'must be a finite integer (got Infinity)' },
      { path: '/m', message: 'must be a finite number or null (got -Infinity)' },
    ]);
  });

  it('accepts every finite number, null where allowed, and anything where no type is given', () => {
    assert.equal(validate({ n: -1.5e308, i: 3, m: null, free: Number.NaN }), undefined);
  });
});

describe('nullable number columns (the tensor view of {"type": ["number", "null"]})', () => {
  const columns = columnsOf({
    type: 'object',
    properties: { y: { type: ['null', 'number'] }, v: { type: 'array', items: { type: ['number', 'null'] }, minItems: 2, maxItems: 2 } },
    required: ['y', 'v'],
  });

  it('are typed FP64 columns marked nullable', () => {
    assert.deepEqual(
      columns.map(({ name, kind, datatype, shape, nullable }) => ({ name, kind, datatype, shape, nullable })),
      [
        { name: 'y', kind: 'typed', datatype: 'FP64', shape: [-1], nullable: true },
        { name: 'v', kind: 'typed', datatype: 'FP64', shape: [-1, 2], nullable: true },
      ],
    );
  });

  it('write null as NaN and read NaN and ±Infinity back as null', () => {
    const tensors = recordsToColumns(columns, [{ y: null, v: [1, null] }, { y: 2, v: [null, 3] }]);
    assert.deepEqual(tensors.map((t) => [t.name, [...(t.data as Float64Array)]]), [
      ['y', [Number.NaN, 2]],
      ['v', [1, Number.NaN, Number.NaN, 3]],
    ]);
    const input = new Map([
      ['y', { name: 'y', datatype: 'FP64' as const, shape: [2], data: new Float64Array([Number.POSITIVE_INFINITY, 4]) }],
      ['v', { name: 'v', datatype: 'FP64' as const, shape: [2, 2], data: new Float64Array([Number.NaN, 1, 2, Number.NEGATIVE_INFINITY]) }],
    ]);
    assert.deepEqual(columnsToRecords(columns, input), [
      { y: null, v: [null, 1] },
      { y: 4, v: [2, null] },
    ]);
  });
});
