/**
 * Non-finite ONNX outputs (issue 14, item 1): a schema-valid input that drives a graph to NaN or ±Infinity (the iris
 * logistic regression on `[0, 0, 2.987e38, 0]`) answers 200 with `null` on REST `/prediction`, `/predictions` and
 * `/score`, the same values as V2 JSON, IEEE values in V2 binary outputs, and an output schema that allows the null.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordSchema, type GraphTensor } from '../../src/runtimes/onnx-signature.ts';
import { datatypeInfo, type Datatype, type DatatypeInfo } from '../../src/tensors/datatypes.ts';
import { decodeFramedResponse, fromBytes, inferJson, okJson } from '../v2/v2-helpers.ts';
import { serveYaml, FIXTURES, type Harness } from './onnx-harness.ts';

const OVERFLOWING = [0, 0, 2.987e38, 0];
const SETOSA = [5.1, 3.5, 1.4, 0.2];
const json = { 'content-type': 'application/json' };

interface IrisRecord {
  label: number;
  probabilities: (number | null)[];
}

describe('ONNX outputs that are NaN or ±Infinity (iris_logreg)', () => {
  let harness: Harness;

  before(async () => {
    harness = await serveYaml(`models:\n  - model_path: ${FIXTURES}iris_logreg.onnx\n`);
  });

  after(() => harness.close());

  const post = (url: string, payload: unknown) => harness.app.inject({ method: 'POST', url, headers: json, payload: JSON.stringify(payload) });
  const v2 = (rows: number[][], parameters?: Record<string, unknown>) =>
    inferJson(harness.app, 'iris_logreg', {
      inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }],
      ...(parameters ? { parameters } : {}),
    });

  it('answers /prediction 200 with null probabilities, the values V2 JSON answers', async () => {
    const rest = await post('/api/models/iris_logreg/prediction', { input: OVERFLOWING });
    assert.equal(rest.statusCode, 200, rest.body);
    const record = rest.json<IrisRecord>();
    assert.deepEqual(record.probabilities, [null, null, null]);
    assert.ok(Number.isInteger(record.label));
    const outputs = okJson(await v2([OVERFLOWING])).outputs;
    assert.deepEqual(outputs, [
      { name: 'label', datatype: 'INT64', shape: [1], data: [record.label] },
      { name: 'probabilities', datatype: 'FP32', shape: [1, 3], data: record.probabilities },
    ]);
  });

  it('answers /predictions 200 with nulls only in the row that overflowed, the other rows as V2 answers them', async () => {
    const rest = await post('/api/models/iris_logreg/predictions', [{ input: SETOSA }, { input: OVERFLOWING }, { input: SETOSA }]);
    assert.equal(rest.statusCode, 200, rest.body);
    const records = rest.json<IrisRecord[]>();
    assert.deepEqual(records[1]?.probabilities, [null, null, null]);
    assert.equal(records[0]?.label, 0);
    assert.ok(records[0]?.probabilities.every((p) => typeof p === 'number' && p >= 0 && p <= 1));
    assert.deepEqual(records[2], records[0]);
    const outputs = okJson(await v2([SETOSA, OVERFLOWING, SETOSA])).outputs;
    assert.deepEqual(outputs[0]?.data, records.map((r) => r.label));
    assert.deepEqual(outputs[1]?.data, records.flatMap((r) => r.probabilities));
  });

  it('answers /score 200, the overflowing example counted like any other (its label is an integer)', async () => {
    const response = await post('/api/models/iris_logreg/score', {
      examples: [
        { input: { input: SETOSA }, expected: 0 },
        { input: { input: OVERFLOWING }, expected: 0 },
      ],
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json<{ metrics: Record<string, number>; task: string; target: string }>();
    assert.equal(body.task, 'classification');
    assert.equal(body.target, 'label');
    assert.equal(body.metrics.count, 2);
    assert.ok(Object.values(body.metrics).every((value) => Number.isFinite(value)), response.body);
  });

  it('carries the IEEE values unchanged in V2 binary outputs', async () => {
    const { outputs } = decodeFramedResponse(await v2([OVERFLOWING, SETOSA], { binary_data_output: true }));
    const values = fromBytes('FP32', outputs.get('probabilities')?.bytes as Buffer) as number[];
    assert.equal(values.length, 6);
    assert.ok(values.slice(0, 3).every((value) => !Number.isFinite(value)), `expected NaN or ±Infinity, got ${values.join(', ')}`);
    assert.ok(values.slice(3).every((value) => Number.isFinite(value)));
  });

  it('publishes float outputs as number-or-null in its metadata, integers and inputs as they were', async () => {
    const metadata = (await harness.app.inject({ url: '/api/models/iris_logreg/metadata' })).json();
    const outputs = metadata.output_schema.properties;
    assert.deepEqual(outputs.probabilities.items.type, ['number', 'null']);
    assert.deepEqual(outputs.label.type, ['integer', 'string']);
    assert.equal(metadata.input_schema.properties.input.items.type, 'number');
  });
});

describe('recordSchema (the output schema generated from the graph)', () => {
  const tensor = (name: string, datatype: Datatype, instanceShape: number[]): GraphTensor => ({
    name,
    datatype,
    info: datatypeInfo(datatype) as DatatypeInfo,
    shape: [-1, ...instanceShape],
    instanceShape,
  });

  it('declares every float output element nullable, whatever the shape', () => {
    const schema = recordSchema([tensor('p', 'FP32', [3]), tensor('h', 'FP16', []), tensor('d', 'FP64', [2, 2])], 'output');
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual((properties.p?.items as { type: unknown }).type, ['number', 'null']);
    assert.deepEqual(properties.h?.type, ['number', 'null']);
    assert.deepEqual(((properties.d?.items as { items: { type: unknown } }).items).type, ['number', 'null']);
    assert.match(String(properties.p?.description), /NaN or ±Infinity is null/);
  });

  it('leaves integer, boolean and string outputs, and float inputs, without null', () => {
    const outputs = recordSchema([tensor('i', 'INT32', []), tensor('b', 'BOOL', []), tensor('s', 'BYTES', [])], 'output').properties as Record<string, { type: unknown }>;
    assert.deepEqual([outputs.i?.type, outputs.b?.type, outputs.s?.type], ['integer', 'boolean', 'string']);
    const input = recordSchema([tensor('x', 'FP32', [])], 'input').properties as Record<string, { type: unknown }>;
    assert.equal(input.x?.type, 'number');
  });
});
