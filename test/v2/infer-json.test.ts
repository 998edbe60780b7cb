/**
 * JSON inference through `/v2/models/{name}/infer`: nested and flat data give the same result, the request `id` is
 * echoed, requested outputs choose the subset and the order, the versioned route answers the same, and the body is
 * read as JSON whatever its Content-Type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { configYaml } from '../helpers/service.ts';
import { FIXTURES, readFixture, serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { assertMatches, inferJson, nest, okJson, postJson, type V2Response } from './v2-helpers.ts';

const IRIS = readFixture('iris_logreg');
const MNIST = readFixture('mnist_cnn');
const MULTI = readFixture('multi_input');

function fixtureInputs(fixture: typeof IRIS, nested: boolean) {
  return Object.entries(fixture.inputs).map(([name, tensor]) => ({
    name,
    datatype: tensor.datatype,
    shape: tensor.shape,
    data: nested ? nest(tensor.data, tensor.shape) : tensor.data,
  }));
}

describe('V2 JSON inference', () => {
  let harness: Harness;
  let app: Harness['app'];
  before(async () => {
    harness = await serveYaml(
      configYaml([
        { model_path: `${FIXTURES}iris_logreg.onnx` },
        { model_path: `${FIXTURES}mnist_cnn.onnx` },
        { model_path: `${FIXTURES}multi_input.onnx`, version: '2024-01' },
      ]),
    );
    app = harness.app;
  });
  after(() => harness.close());

  it('answers model_name, model_version and every output with name, datatype, shape and flat data', async () => {
    const body = okJson(await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, false) }));
    assert.equal(body.model_name, 'iris_logreg');
    assert.equal(body.model_version, '1');
    assert.equal('id' in body, false, 'no id when the request has none');
    assert.deepEqual(
      body.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
      [
        { name: 'label', datatype: 'INT64', shape: [5] },
        { name: 'probabilities', datatype: 'FP32', shape: [5, 3] },
      ],
    );
    assert.deepEqual(body.outputs[0]?.data, IRIS.outputs.label?.data);
    assertMatches(body.outputs[1]?.data ?? [], IRIS.outputs.probabilities?.data ?? [], 'FP32', 'probabilities');
  });

  it('nested and flat data give the same response', async () => {
    const flat = okJson(await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, false) }));
    const nested = okJson(await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, true) }));
    assert.deepEqual(nested, flat);
    const flat4d = await inferJson(app, 'mnist_cnn', { inputs: fixtureInputs(MNIST, false) });
    const nested4d = await inferJson(app, 'mnist_cnn', { inputs: fixtureInputs(MNIST, true) });
    assert.equal(nested4d.body, flat4d.body, 'a [5,1,28,28] tensor nested four deep equals its flat form byte for byte');
    const partly = fixtureInputs(MULTI, false).map((input, i) => (i === 0 ? { ...input, data: nest(input.data, input.shape) } : input));
    assert.deepEqual(
      okJson(await postJson(app, '/v2/models/multi_input/infer', { inputs: partly })),
      okJson(await postJson(app, '/v2/models/multi_input/infer', { inputs: fixtureInputs(MULTI, false) })),
    );
  });

  it('echoes the request id', async () => {
    const response = await inferJson(app, 'iris_logreg', { id: 'request-42 ✓', inputs: fixtureInputs(IRIS, false) });
    const body = okJson(response);
    assert.equal(body.id, 'request-42 ✓');
    assert.deepEqual(Object.keys(body), ['model_name', 'model_version', 'id', 'outputs']);
    assert.equal(okJson(await inferJson(app, 'iris_logreg', { id: '', inputs: fixtureInputs(IRIS, false) })).id, '');
  });

  it('requested outputs choose the subset and the order', async () => {
    const names = async (outputs: unknown) =>
      okJson(await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, false), outputs })).outputs.map((output) => output.name);
    assert.deepEqual(await names([{ name: 'probabilities' }]), ['probabilities']);
    assert.deepEqual(await names([{ name: 'label' }]), ['label']);
    assert.deepEqual(await names([{ name: 'probabilities' }, { name: 'label' }]), ['probabilities', 'label']);
    assert.deepEqual(await names([{ name: 'label' }, { name: 'probabilities' }]), ['label', 'probabilities']);
    assert.deepEqual(await names([]), ['label', 'probabilities'], 'an empty list means every output');
    assert.deepEqual(await names(undefined), ['label', 'probabilities']);

    const all = okJson(await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, false) }));
    const reordered = okJson(await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, false), outputs: [{ name: 'probabilities' }, { name: 'label' }] }));
    assert.deepEqual(reordered.outputs, [all.outputs[1], all.outputs[0]], 'the same tensors, reordered');
    const withParameters = okJson(
      await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, false), outputs: [{ name: 'label', parameters: { binary_data: false, other: 1 } }] }),
    );
    assert.deepEqual(withParameters.outputs, [all.outputs[0]]);
  });

  it('the versioned route answers like the plain one and reports the version', async () => {
    const request = { id: 'v', inputs: fixtureInputs(MULTI, false) };
    const plain = okJson(await postJson(app, '/v2/models/multi_input/infer', request));
    const versioned = okJson(await postJson(app, '/v2/models/multi_input/versions/2024-01/infer', request));
    assert.deepEqual(versioned, plain);
    assert.equal(versioned.model_version, '2024-01');
    assertMatches(versioned.outputs[0]?.data ?? [], MULTI.outputs.sum?.data ?? [], 'FP32', 'sum');
  });

  it('takes inputs in any order', async () => {
    const [a, b] = fixtureInputs(MULTI, false);
    const forward = okJson(await postJson(app, '/v2/models/multi_input/infer', { inputs: [a, b] }));
    const backward = okJson(await postJson(app, '/v2/models/multi_input/infer', { inputs: [b, a] }));
    assert.deepEqual(backward, forward);
  });

  it('reads the body as JSON with a JSON or octet-stream Content-Type, or none', async () => {
    const payload = JSON.stringify({ inputs: fixtureInputs(IRIS, false) });
    const expected = okJson(await inferJson(app, 'iris_logreg', JSON.parse(payload)));
    for (const headers of [{}, { 'content-type': 'application/json; charset=utf-8' }, { 'content-type': 'application/octet-stream' }]) {
      const response = await app.inject({ method: 'POST', url: '/v2/models/iris_logreg/infer', payload, headers });
      assert.deepEqual(okJson(response), expected, JSON.stringify(headers));
    }
  });

  it('a batch of zero rows gives empty outputs', async () => {
    const body = okJson(await inferJson(app, 'iris_logreg', { inputs: [{ name: 'input', datatype: 'FP32', shape: [0, 4], data: [] }] }));
    assert.deepEqual(
      body.outputs,
      [
        { name: 'label', datatype: 'INT64', shape: [0], data: [] },
        { name: 'probabilities', datatype: 'FP32', shape: [0, 3], data: [] },
      ] satisfies V2Response['outputs'],
    );
  });

  it('rows are independent: each row of a batch matches that row sent alone (floats within tolerance: kernels differ by batch size)', async () => {
    const batch = okJson(await inferJson(app, 'iris_logreg', { inputs: fixtureInputs(IRIS, false) }));
    const input = IRIS.inputs.input?.data ?? [];
    for (let row = 0; row < 5; row++) {
      const single = okJson(await inferJson(app, 'iris_logreg', { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: input.slice(row * 4, row * 4 + 4) }] }));
      assert.deepEqual(single.outputs[0]?.data, [batch.outputs[0]?.data?.[row]]);
      assertMatches(single.outputs[1]?.data ?? [], batch.outputs[1]?.data?.slice(row * 3, row * 3 + 3) ?? [], 'FP32', `row ${row}`);
    }
  });
});
