/**
 * TypeScript record models through the Open Inference Protocol: one tensor column per top-level field. The iris example
 * answers V2 exactly as it answers the REST route; record-schema violations are 400; every column kind (INT64, BOOL,
 * BYTES, fixed-size arrays, optional fields as JSON text) round-trips; a batch is one predictBatch call.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildServiceFromFile, configYaml, EXAMPLE_CONFIG, buildService, type TestService } from '../helpers/service.ts';
import { readFixture } from '../runtimes/onnx-harness.ts';
import type { ColumnsModel } from './fixtures/column-models.ts';
import {
  assertError,
  bytesElements,
  decodeFramedResponse,
  elementsOf,
  framedRequest,
  inferFramed,
  inferJson,
  okJson,
  toBytes,
  type V2Tensor,
} from './v2-helpers.ts';

const FIELDS = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'] as const;
const IRIS = readFixture('iris_logreg');
const ROWS = Array.from({ length: 5 }, (_, row) => (IRIS.inputs.input?.data as number[]).slice(row * 4, row * 4 + 4));
const COLUMN_MODELS = join(import.meta.dirname, 'fixtures/column-models.ts');

/** The four FP64 columns of `rows`. */
function irisColumns(rows: number[][]): V2Tensor[] {
  return FIELDS.map((name, j) => ({ name, datatype: 'FP64', shape: [rows.length], data: rows.map((row) => row[j]) }));
}

interface IrisOutput {
  species: string;
  label: number;
  probabilities: number[];
}

describe('V2 over the TypeScript iris example', () => {
  let service: TestService;
  let rest: IrisOutput[];
  before(async () => {
    service = await buildServiceFromFile(EXAMPLE_CONFIG);
    const records = ROWS.map((row) => Object.fromEntries(FIELDS.map((name, j) => [name, row[j]])));
    const response = await service.app.inject({ method: 'POST', url: '/api/models/iris_model/predictions', payload: records });
    assert.equal(response.statusCode, 200, response.body);
    rest = response.json<IrisOutput[]>();
  });
  after(() => service.close());

  it('four FP64 columns of 5 rows give species (BYTES), label (INT64) and probabilities (FP64 [5,3]) equal to the REST outputs', async () => {
    const body = okJson(await inferJson(service.app, 'iris_model', { id: 'iris', inputs: irisColumns(ROWS) }));
    assert.equal(body.model_name, 'iris_model');
    assert.equal(body.model_version, '1.0.0');
    assert.equal(body.id, 'iris');
    assert.deepEqual(
      body.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      [
        { name: 'species', datatype: 'BYTES', shape: [5] },
        { name: 'label', datatype: 'INT64', shape: [5] },
        { name: 'probabilities', datatype: 'FP64', shape: [5, 3] },
      ],
    );
    const [species, label, probabilities] = body.outputs;
    assert.deepEqual(species?.data, rest.map((r) => r.species));
    assert.deepEqual(label?.data, rest.map((r) => r.label));
    assert.deepEqual(probabilities?.data, rest.flatMap((r) => r.probabilities));
    assert.deepEqual(label?.data, IRIS.outputs.label?.data, 'the same labels as the ONNX export');
  });

  it('binary columns in, binary outputs out: the same values', async () => {
    const inputs = FIELDS.map((name, j) => ({ name, datatype: 'FP64', shape: [5], bytes: toBytes('FP64', ROWS.map((row) => row[j])) }));
    const response = await inferFramed(service.app, 'iris_model', framedRequest({ parameters: { binary_data_output: true } }, inputs));
    const { outputs } = decodeFramedResponse(response);
    assert.deepEqual(elementsOf(outputs.get('species')), rest.map((r) => r.species));
    assert.deepEqual(outputs.get('species')?.bytes, bytesElements(rest.map((r) => r.species)), 'BYTES output length-prefixed');
    assert.deepEqual(elementsOf(outputs.get('label')), rest.map((r) => BigInt(r.label)));
    assert.deepEqual(elementsOf(outputs.get('probabilities')), rest.flatMap((r) => r.probabilities));
  });

  it('requested outputs choose the columns and their order', async () => {
    const body = okJson(await inferJson(service.app, 'iris_model', { inputs: irisColumns(ROWS), outputs: [{ name: 'label' }, { name: 'species' }] }));
    assert.deepEqual(body.outputs.map((o) => o.name), ['label', 'species']);
    assert.deepEqual(body.outputs[1]?.data, rest.map((r) => r.species));
  });

  it('a value failing the record schema (a negative measurement, minimum 0) is a 400 naming the record and field', async () => {
    const rows = ROWS.map((row) => [...row]);
    (rows[3] as number[])[0] = -1;
    const message = assertError(await inferJson(service.app, 'iris_model', { inputs: irisColumns(rows) }), 400);
    assert.match(message, /^input does not match the input schema of model 'iris_model': /);
    assert.match(message, /\/3\/sepal_length/);
    assert.match(message, />= 0/);
    const tooBig = ROWS.map((row) => [...row]);
    (tooBig[0] as number[])[3] = 101;
    assertError(await inferJson(service.app, 'iris_model', { inputs: irisColumns(tooBig) }), 400, /\/0\/petal_width.*<= 100/);
  });

  it('columns are checked against the record signature: datatype, missing column, unknown column, row counts', async () => {
    const [a, b, c, d] = irisColumns(ROWS) as [V2Tensor, V2Tensor, V2Tensor, V2Tensor];
    assertError(await inferJson(service.app, 'iris_model', { inputs: [{ ...a, datatype: 'FP32' }, b, c, d] }), 400, "input 'sepal_length': expected FP64 [-1], got FP32 [5]");
    assertError(await inferJson(service.app, 'iris_model', { inputs: [a, b, c] }), 400, "missing input 'petal_width' (FP64 [-1])");
    assertError(
      await inferJson(service.app, 'iris_model', { inputs: [a, b, c, d, { name: 'colour', datatype: 'BYTES', shape: [5], data: ['', '', '', '', ''] }] }),
      400,
      "unknown input 'colour'; model 'iris_model' takes: sepal_length, sepal_width, petal_length, petal_width",
    );
    assertError(
      await inferJson(service.app, 'iris_model', { inputs: [a, b, c, { ...d, shape: [4], data: d.data?.slice(0, 4) }] }),
      400,
      "inputs disagree on the batch dimension: 'sepal_length' has 5 rows, 'petal_width' has 4",
    );
    assertError(await inferJson(service.app, 'iris_model', { inputs: [a, b, c, { ...d, shape: [5, 1] }] }), 400, "input 'petal_width': expected FP64 [-1], got FP64 [5,1]");
  });

  it('the ONNX export of the same classifier gives the same labels through V2', async () => {
    const body = okJson(await inferJson(service.app, 'iris_onnx', { inputs: [{ name: 'input', datatype: 'FP32', shape: [5, 4], data: ROWS.flat() }] }));
    assert.deepEqual(body.outputs[0]?.data, rest.map((r) => r.label));
  });
});

describe('V2 over record models with every column kind', () => {
  let service: TestService;
  let model: ColumnsModel;
  before(async () => {
    service = await buildService(configYaml([{ class_path: `${COLUMN_MODELS}#ColumnsModel` }]));
    model = service.registry.require('columns').model as ColumnsModel;
  });
  after(() => service.close());

  const inputs = (rows = 2): V2Tensor[] => [
    { name: 'n', datatype: 'INT64', shape: [rows], data: [3, -(2 ** 40)].slice(0, rows) },
    { name: 'flag', datatype: 'BOOL', shape: [rows], data: [true, false].slice(0, rows) },
    { name: 'tag', datatype: 'BYTES', shape: [rows], data: ['a', 'ünï'].slice(0, rows) },
    { name: 'pair', datatype: 'FP64', shape: [rows, 2], data: [1.5, 2.5, -1, 0].slice(0, rows * 2) },
  ];

  it('metadata: INT64, BOOL, BYTES, FP64 [-1,2] and the optional field as a BYTES (JSON) column', async () => {
    const metadata = (await service.app.inject({ url: '/v2/models/columns/versions/3' })).json();
    assert.deepEqual(metadata, {
      name: 'columns',
      versions: ['3'],
      platform: 'longshore_records',
      inputs: [
        { name: 'n', datatype: 'INT64', shape: [-1] },
        { name: 'flag', datatype: 'BOOL', shape: [-1] },
        { name: 'tag', datatype: 'BYTES', shape: [-1] },
        { name: 'pair', datatype: 'FP64', shape: [-1, 2] },
        { name: 'extra', datatype: 'BYTES', shape: [-1] },
      ],
      outputs: [
        { name: 'doubled', datatype: 'INT64', shape: [-1] },
        { name: 'flag', datatype: 'BOOL', shape: [-1] },
        { name: 'tag', datatype: 'BYTES', shape: [-1] },
        { name: 'swapped', datatype: 'FP64', shape: [-1, 2] },
        { name: 'extra', datatype: 'BYTES', shape: [-1] },
      ],
    });
  });

  it('every column kind round-trips, the optional column left out, in one predictBatch call', async () => {
    model.batches.length = 0;
    const body = okJson(await inferJson(service.app, 'columns', { inputs: inputs() }));
    assert.deepEqual(body.outputs, [
      { name: 'doubled', datatype: 'INT64', shape: [2], data: [6, -(2 ** 41)] },
      { name: 'flag', datatype: 'BOOL', shape: [2], data: [false, true] },
      { name: 'tag', datatype: 'BYTES', shape: [2], data: ['a!', 'ünï!'] },
      { name: 'swapped', datatype: 'FP64', shape: [2, 2], data: [2.5, 1.5, 0, -1] },
      { name: 'extra', datatype: 'BYTES', shape: [2], data: ['null', 'null'] },
    ]);
    assert.deepEqual(model.batches, [2], 'the rows are predicted as one batch');
  });

  it('the optional column carries JSON text per row', async () => {
    const extra = { name: 'extra', datatype: 'BYTES', shape: [2], data: ['{"k":[1,2]}', '"text"'] };
    const body = okJson(await inferJson(service.app, 'columns', { inputs: [...inputs(), extra], outputs: [{ name: 'extra' }] }));
    assert.deepEqual(body.outputs, [{ name: 'extra', datatype: 'BYTES', shape: [2], data: ['{"k":[1,2]}', '"text"'] }]);
    const bad = { ...extra, data: ['{"k":', '1'] };
    assertError(
      await inferJson(service.app, 'columns', { inputs: [...inputs(), bad] }),
      400,
      `input 'extra', row 0: a BYTES column of this model holds JSON text, got "{\\"k\\":"`,
    );
  });

  it('binary columns, including INT64 beyond 2^53 which the integer schema then refuses with a 400', async () => {
    const binary = [
      { name: 'n', datatype: 'INT64', shape: [2], bytes: toBytes('INT64', [7n, -8n]) },
      { name: 'flag', datatype: 'BOOL', shape: [2], bytes: toBytes('BOOL', [false, true]) },
      { name: 'tag', datatype: 'BYTES', shape: [2], bytes: bytesElements(['x', '']) },
      { name: 'pair', datatype: 'FP64', shape: [2, 2], bytes: toBytes('FP64', [0.25, 0.5, 0.75, 1]) },
    ];
    const response = await inferFramed(service.app, 'columns', framedRequest({ parameters: { binary_data_output: true } }, binary));
    const { outputs } = decodeFramedResponse(response);
    assert.deepEqual(elementsOf(outputs.get('doubled')), [14n, -16n]);
    assert.deepEqual(elementsOf(outputs.get('flag')), [true, false]);
    assert.deepEqual(elementsOf(outputs.get('tag')), ['x!', '!']);
    assert.deepEqual(elementsOf(outputs.get('swapped')), [0.5, 0.25, 1, 0.75]);

    const huge = [{ ...binary[0], bytes: toBytes('INT64', [2n ** 60n, 1n]) }, ...binary.slice(1)] as typeof binary;
    assertError(await inferFramed(service.app, 'columns', framedRequest({}, huge)), 400, /^input does not match the input schema of model 'columns': .*\/0\/n/);
  });

  it('zero rows give zero-row columns', async () => {
    const empty: V2Tensor[] = [
      { name: 'n', datatype: 'INT64', shape: [0], data: [] },
      { name: 'flag', datatype: 'BOOL', shape: [0], data: [] },
      { name: 'tag', datatype: 'BYTES', shape: [0], data: [] },
      { name: 'pair', datatype: 'FP64', shape: [0, 2], data: [] },
    ];
    const body = okJson(await inferJson(service.app, 'columns', { inputs: empty, outputs: [{ name: 'doubled' }, { name: 'swapped' }] }));
    assert.deepEqual(body.outputs, [
      { name: 'doubled', datatype: 'INT64', shape: [0], data: [] },
      { name: 'swapped', datatype: 'FP64', shape: [0, 2], data: [] },
    ]);
  });
});
