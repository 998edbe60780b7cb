/**
 * Every fixture model onnxruntime-node can run, served with no code, returns the reference outputs computed by Python
 * onnxruntime, through both the single-record and the batch route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { flat, inputRecords, readFixture, rowOf, serveYaml, FIXTURES, type Fixture, type Harness } from './onnx-harness.ts';

const MODELS = ['iris_logreg', 'digits_mlp', 'diabetes_gbr', 'mlp_heavy', 'mnist_cnn', 'text_clf', 'multi_input'];

/** FP within atol 1e-5 / rtol 1e-4, integer labels exactly. */
function assertMatches(actual: unknown, expected: unknown, datatype: string, where: string): void {
  const got = flat(actual);
  const want = flat(expected);
  assert.equal(got.length, want.length, `${where}: element count`);
  got.forEach((value, i) => {
    const reference = want[i];
    if (datatype.startsWith('FP')) {
      const diff = Math.abs((value as number) - (reference as number));
      assert.ok(diff <= 1e-5 + 1e-4 * Math.abs(reference as number), `${where}[${i}]: got ${String(value)}, want ${String(reference)}`);
    } else {
      assert.equal(value, reference, `${where}[${i}]`);
    }
  });
}

function checkOutputs(record: Record<string, unknown>, fixture: Fixture, row: number, where: string): void {
  for (const [name, tensor] of Object.entries(fixture.outputs)) {
    if (tensor.datatype === null) continue;
    assert.ok(name in record, `${where}: output '${name}' missing`);
    assertMatches(record[name], rowOf(tensor, row), tensor.datatype, `${where} ${name}`);
  }
  assert.deepEqual(Object.keys(record).sort(), Object.keys(fixture.outputs).filter((n) => fixture.outputs[n]?.datatype !== null).sort());
}

// workers: 1 runs each session in a worker thread: the answers must not change.
for (const workers of [0, 1]) describe(`ONNX fixtures served through REST match the Python onnxruntime reference (workers: ${workers})`, () => {
  let harness: Harness;
  before(async () => {
    const models = [...MODELS, 'iris_logreg_zipmap'].map((name) => `  - model_path: ${FIXTURES}${name}.onnx\n    workers: ${workers}`).join('\n');
    harness = await serveYaml(`models:\n${models}\n`);
  });
  after(() => harness.close());

  for (const name of [...MODELS, 'iris_logreg_zipmap']) {
    it(`${name}: every reference row through /prediction equals the reference`, async () => {
      const fixture = readFixture(name);
      const records = inputRecords(fixture);
      for (const [row, record] of records.entries()) {
        const response = await harness.app.inject({ method: 'POST', url: `/api/models/${name}/prediction`, payload: record });
        assert.equal(response.statusCode, 200, response.body);
        checkOutputs(response.json(), fixture, row, `${name} row ${row}`);
      }
    });

    it(`${name}: all reference rows through /predictions come back in order and equal the reference`, async () => {
      const fixture = readFixture(name);
      const records = inputRecords(fixture);
      const response = await harness.app.inject({ method: 'POST', url: `/api/models/${name}/predictions`, payload: records });
      assert.equal(response.statusCode, 200, response.body);
      const outputs = response.json<Record<string, unknown>[]>();
      assert.equal(outputs.length, records.length);
      outputs.forEach((output, row) => checkOutputs(output, fixture, row, `${name} batch row ${row}`));
    });
  }

  it('names each ONNX model after its file, with version "1" and every model ready', async () => {
    const response = await harness.app.inject({ method: 'GET', url: '/api/models' });
    const models = response.json<{ models: { qualified_name: string; version: string; status: string }[] }>().models;
    assert.deepEqual(
      models.map((m) => [m.qualified_name, m.version, m.status]),
      [...MODELS, 'iris_logreg_zipmap'].map((name) => [name, '1', 'ready']),
    );
  });
});
