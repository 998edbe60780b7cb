/**
 * Which outputs come back as binary (issue 14, item 7), by the binary tensor extension's rule: an output's own
 * `parameters.binary_data` wins over the request's `parameters.binary_data_output`, which is the default for the rest.
 * Either parameter must be a boolean: `"yes"`, `1` or `null` is a 400 naming it, never read as false. The
 * classification extension, which longshore does not implement, is refused rather than ignored.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildService, configYaml, REPO_ROOT, type TestService } from '../helpers/service.ts';
import { readFixture } from '../runtimes/onnx-harness.ts';
import { assertError, decodeFramedResponse, elementsOf, framedRequest, inferFramed, inferJson, okJson, toBytes, type V2Tensor } from './v2-helpers.ts';

const IRIS = readFixture('iris_logreg');
const IRIS_INPUT = IRIS.inputs.input?.data as number[];
const LABELS = IRIS.outputs.label?.data as number[];
const input = (): V2Tensor => ({ name: 'input', datatype: 'FP32', shape: [5, 4], data: IRIS_INPUT });

describe('V2 binary output parameters', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(configYaml([{ model_path: join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx'), qualified_name: 'iris' }]));
  });
  after(() => service.close());

  it('an output with binary_data: false stays JSON under binary_data_output: true; the others go binary', async () => {
    const response = await inferJson(service.app, 'iris', {
      inputs: [input()],
      outputs: [{ name: 'label', parameters: { binary_data: false } }, { name: 'probabilities' }],
      parameters: { binary_data_output: true },
    });
    const { outputs } = decodeFramedResponse(response);
    const label = outputs.get('label');
    assert.equal(label?.bytes, undefined, 'label was asked for as JSON');
    assert.deepEqual(label?.tensor.data, LABELS);
    const probabilities = outputs.get('probabilities');
    assert.ok(probabilities?.bytes, 'probabilities follow binary_data_output');
    assert.equal(elementsOf(probabilities).length, 15);
  });

  it('every output with binary_data: false gives a plain JSON response despite binary_data_output: true', async () => {
    const body = okJson(
      await inferJson(service.app, 'iris', {
        inputs: [input()],
        outputs: [
          { name: 'label', parameters: { binary_data: false } },
          { name: 'probabilities', parameters: { binary_data: false } },
        ],
        parameters: { binary_data_output: true },
      }),
    );
    assert.deepEqual(body.outputs[0]?.data, LABELS);
  });

  it('binary_data: true on one output makes only that one binary when binary_data_output is false or absent', async () => {
    for (const parameters of [{ binary_data_output: false }, {}]) {
      const response = await inferJson(service.app, 'iris', {
        inputs: [input()],
        outputs: [{ name: 'label', parameters: { binary_data: true } }, { name: 'probabilities' }],
        parameters,
      });
      const { outputs } = decodeFramedResponse(response);
      assert.deepEqual(elementsOf(outputs.get('label')).map(Number), LABELS);
      assert.ok(outputs.get('label')?.bytes);
      assert.equal(outputs.get('probabilities')?.bytes, undefined, JSON.stringify(parameters));
    }
  });

  it('the per-output rule holds for a framed binary request too', async () => {
    const request = framedRequest(
      { outputs: [{ name: 'label', parameters: { binary_data: false } }], parameters: { binary_data_output: true } },
      [{ name: 'input', datatype: 'FP32', shape: [5, 4], bytes: toBytes('FP32', IRIS_INPUT) }],
    );
    assert.deepEqual(okJson(await inferFramed(service.app, 'iris', request)).outputs[0]?.data, LABELS);
  });

  it('a non-boolean binary_data_output is a 400 naming the parameter (was: silently false)', async () => {
    for (const [value, quoted] of [['yes', '"yes"'], [1, '1'], [null, 'null'], ['true', '"true"'], [[true], '[true]']] as const) {
      const response = await inferJson(service.app, 'iris', { inputs: [input()], parameters: { binary_data_output: value } });
      assertError(response, 400, `parameters.binary_data_output must be true or false, got ${quoted}`);
    }
  });

  it("a non-boolean output binary_data is a 400 naming the output's parameter", async () => {
    for (const [value, quoted] of [['yes', '"yes"'], [0, '0'], [null, 'null']] as const) {
      const response = await inferJson(service.app, 'iris', {
        inputs: [input()],
        outputs: [{ name: 'label' }, { name: 'probabilities', parameters: { binary_data: value } }],
      });
      assertError(response, 400, `outputs[1].parameters.binary_data must be true or false, got ${quoted}`);
    }
  });

  it('parameters that are not a JSON object are a 400, at the request and at an output', async () => {
    assertError(await inferJson(service.app, 'iris', { inputs: [input()], parameters: [true] }), 400, 'parameters must be a JSON object, got [true]');
    assertError(
      await inferJson(service.app, 'iris', { inputs: [input()], outputs: [{ name: 'label', parameters: 'binary' }] }),
      400,
      'outputs[0].parameters must be a JSON object, got "binary"',
    );
  });

  it('the classification extension is refused, not ignored (it would answer the raw tensor)', async () => {
    const response = await inferJson(service.app, 'iris', { inputs: [input()], outputs: [{ name: 'probabilities', parameters: { classification: 2 } }] });
    assertError(response, 400, /^output 'probabilities': the classification extension is not supported/);
  });
});
