/**
 * Every reference fixture model returns the outputs Python onnxruntime computed, through `/v2/models/{name}/infer`, in
 * JSON and in binary (FP within atol 1e-5 + rtol 1e-4, integers exactly). iris_logreg_zipmap serves its label only
 * (its seq(map) probabilities are not a tensor).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configYaml } from '../helpers/service.ts';
import { FIXTURES, readFixture, serveYaml, type Fixture, type Harness } from '../runtimes/onnx-harness.ts';
import { assertMatches, decodeFramedResponse, elementsOf, framedRequest, inferFramed, inferJson, okJson, toBytes, type V2Response } from './v2-helpers.ts';

const MODELS = ['iris_logreg', 'digits_mlp', 'diabetes_gbr', 'mlp_heavy', 'mnist_cnn', 'text_clf', 'multi_input', 'iris_logreg_zipmap'];

/** The fixture's tensor outputs (those with a datatype). */
function tensorOutputs(fixture: Fixture) {
  return Object.entries(fixture.outputs).filter(([, tensor]) => tensor.datatype !== null);
}

function jsonInputs(fixture: Fixture) {
  return Object.entries(fixture.inputs).map(([name, tensor]) => ({ name, datatype: tensor.datatype, shape: tensor.shape, data: tensor.data }));
}

function binaryInputs(fixture: Fixture) {
  return Object.entries(fixture.inputs).map(([name, tensor]) => ({
    name,
    datatype: tensor.datatype as string,
    shape: tensor.shape,
    bytes: toBytes(tensor.datatype as string, tensor.data),
  }));
}

/** 64-bit integers come back from binary as bigints; the fixtures hold numbers. */
function comparable(values: unknown[], datatype: string): unknown[] {
  return datatype === 'INT64' || datatype === 'UINT64' ? values.map((value) => Number(value)) : values;
}

function checkOutputs(header: V2Response, elements: (name: string) => unknown[], fixture: Fixture, where: string): void {
  const expected = tensorOutputs(fixture);
  assert.deepEqual(header.outputs.map((output) => output.name), expected.map(([name]) => name), `${where}: output names`);
  for (const [name, tensor] of expected) {
    const output = header.outputs.find((o) => o.name === name);
    assert.equal(output?.datatype, tensor.datatype, `${where} ${name}: datatype`);
    assert.deepEqual(output?.shape, tensor.shape, `${where} ${name}: shape`);
    assertMatches(comparable(elements(name), tensor.datatype as string), tensor.data, tensor.datatype as string, `${where} ${name}`);
  }
}

describe('V2 inference of the reference fixtures matches Python onnxruntime', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveYaml(configYaml(MODELS.map((name) => ({ model_path: `${FIXTURES}${name}.onnx` }))));
  });
  after(() => harness.close());

  for (const name of MODELS) {
    const fixture = readFixture(name);

    it(`${name}: metadata lists the fixture's tensors`, async () => {
      const metadata = (await harness.app.inject({ url: `/v2/models/${name}` })).json<{ inputs: V2Response['outputs']; outputs: V2Response['outputs'] }>();
      assert.deepEqual(metadata.inputs.map((input) => [input.name, input.datatype]), Object.entries(fixture.inputs).map(([n, t]) => [n, t.datatype]));
      assert.deepEqual(metadata.outputs.map((output) => [output.name, output.datatype]), tensorOutputs(fixture).map(([n, t]) => [n, t.datatype]));
      for (const input of metadata.inputs) assert.equal(input.shape[0], -1, `${name} ${input.name}: a dynamic batch dimension`);
    });

    it(`${name}: JSON inputs, JSON outputs`, async () => {
      const body = okJson(await inferJson(harness.app, name, { id: name, inputs: jsonInputs(fixture) }));
      assert.equal(body.id, name);
      checkOutputs(body, (output) => body.outputs.find((o) => o.name === output)?.data ?? [], fixture, `${name} JSON`);
    });

    it(`${name}: binary inputs, binary outputs`, async () => {
      const response = await inferFramed(harness.app, name, framedRequest({ parameters: { binary_data_output: true } }, binaryInputs(fixture)));
      const { header, outputs } = decodeFramedResponse(response);
      for (const output of header.outputs) assert.ok(outputs.get(output.name)?.bytes, `${name} ${output.name} is binary`);
      checkOutputs(header, (output) => elementsOf(outputs.get(output)), fixture, `${name} binary`);
    });
  }
});
