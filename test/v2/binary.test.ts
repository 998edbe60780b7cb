/**
 * The binary tensor data extension: inputs in the binary tail (alone or mixed with JSON inputs), outputs in binary for
 * the whole response (`binary_data_output`) or per output (`binary_data`), BYTES length-prefixed both ways, and the raw
 * form (`Inference-Header-Content-Length: 0`). Requests are framed and responses decoded by the tests' own codec.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { identityModel } from '../fixtures/onnx/build-model.ts';
import { configYaml, REPO_ROOT } from '../helpers/service.ts';
import { FIXTURES, readFixture, serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import {
  assertMatches,
  bytesElements,
  decodeFramedResponse,
  elementsOf,
  framed,
  framedRequest,
  fromBytes,
  inferFramed,
  inferJson,
  okJson,
  readBytesElements,
  toBytes,
  type V2Tensor,
} from './v2-helpers.ts';

const IRIS = readFixture('iris_logreg');
const MULTI = readFixture('multi_input');
const TEXT = readFixture('text_clf');
const IRIS_INPUT = IRIS.inputs.input?.data as number[];

const irisJson = (): V2Tensor => ({ name: 'input', datatype: 'FP32', shape: [5, 4], data: IRIS_INPUT });
const irisBinary = () => ({ name: 'input', datatype: 'FP32', shape: [5, 4], bytes: toBytes('FP32', IRIS_INPUT) });

/**
 * Strings that exercise the length prefix: empty, multi-byte UTF-8, astral characters, quotes, a length over 255.
 * (No NUL: onnxruntime-node's string tensors end at the first NUL, so an Identity model would not echo it.)
 */
const STRINGS = ['', 'plain', 'ünïcødé', '🌧️ rain', '"quoted" \\ and\nnewline', 'x'.repeat(300)];

describe('V2 binary tensor data extension', () => {
  let harness: Harness;
  let app: Harness['app'];
  before(async () => {
    harness = await serveYaml(
      configYaml([
        { model_path: join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx'), qualified_name: 'iris_onnx' },
        { model_path: join(REPO_ROOT, 'examples/onnx/text_clf.onnx'), qualified_name: 'topic' },
        { model_path: `${FIXTURES}multi_input.onnx` },
        { model_path: './strings.onnx' },
        { model_path: './pair.onnx' },
      ]),
      {
        'strings.onnx': identityModel([{ name: 'x', type: 'string', shape: ['N'] }], [{ name: 'y', type: 'string', shape: ['N'] }]),
        'pair.onnx': identityModel(
          [
            { name: 'f', type: 'float32', shape: ['N', 2] },
            { name: 's', type: 'string', shape: ['N'] },
          ],
          [
            { name: 'f_out', type: 'float32', shape: ['N', 2] },
            { name: 's_out', type: 'string', shape: ['N'] },
          ],
        ),
      },
    );
    app = harness.app;
  });
  after(() => harness.close());

  describe('binary inputs', () => {
    it('a binary input gives the same response as the same tensor in JSON (and a JSON response by default)', async () => {
      const json = okJson(await inferJson(app, 'iris_onnx', { id: 'j', inputs: [irisJson()] }));
      const response = await inferFramed(app, 'iris_onnx', framedRequest({ id: 'j' }, [irisBinary()]));
      assert.deepEqual(okJson(response), json);
      assert.deepEqual(json.outputs[0]?.data, IRIS.outputs.label?.data);
    });

    it('mixes binary and JSON inputs in either order', async () => {
      const a = MULTI.inputs.a as { shape: number[]; data: number[] };
      const b = MULTI.inputs.b as { shape: number[]; data: number[] };
      const aJson = { name: 'a', datatype: 'FP32', shape: a.shape, data: a.data };
      const bJson = { name: 'b', datatype: 'INT64', shape: b.shape, data: b.data };
      const aBinary = { name: 'a', datatype: 'FP32', shape: a.shape, bytes: toBytes('FP32', a.data) };
      const bBinary = { name: 'b', datatype: 'INT64', shape: b.shape, bytes: toBytes('INT64', b.data) };
      const expected = okJson(await inferJson(app, 'multi_input', { inputs: [aJson, bJson] }));
      assertMatches(expected.outputs[0]?.data ?? [], MULTI.outputs.sum?.data ?? [], 'FP32', 'sum');
      for (const inputs of [[aBinary, bJson], [aJson, bBinary], [bJson, aBinary], [bBinary, aBinary], [aBinary, bBinary]]) {
        const response = await inferFramed(app, 'multi_input', framedRequest({}, inputs));
        assert.deepEqual(okJson(response), expected, inputs.map((input) => `${input.name}:${'bytes' in input ? 'binary' : 'json'}`).join(' '));
      }
    });

    it('an announced header length with no binary input is plain JSON in a frame', async () => {
      const expected = okJson(await inferJson(app, 'iris_onnx', { inputs: [irisJson()] }));
      assert.deepEqual(okJson(await inferFramed(app, 'iris_onnx', framed({ inputs: [irisJson()] }, Buffer.alloc(0)))), expected);
    });

    it('the binary tail is read from the header length, whatever the JSON header contains (multi-byte text, spaces)', async () => {
      const header = Buffer.from(`  {"id": "ünï ✓", "inputs": [{"name": "input", "datatype": "FP32", "shape": [5, 4], "parameters": {"binary_data_size": 80}}]}  `, 'utf8');
      const payload = Buffer.concat([header, toBytes('FP32', IRIS_INPUT)]);
      const response = await app.inject({
        method: 'POST',
        url: '/v2/models/iris_onnx/infer',
        payload,
        headers: { 'inference-header-content-length': String(header.length), 'content-type': 'application/octet-stream' },
      });
      const body = okJson(response);
      assert.equal(body.id, 'ünï ✓');
      assert.deepEqual(body.outputs[0]?.data, IRIS.outputs.label?.data);
    });
  });

  describe('binary outputs', () => {
    it('binary_data_output: true sends every output as binary, in a frame whose header announces each size', async () => {
      const json = okJson(await inferJson(app, 'iris_onnx', { inputs: [irisJson()] }));
      const response = await inferJson(app, 'iris_onnx', { id: 'b', inputs: [irisJson()], parameters: { binary_data_output: true } });
      const { header, outputs } = decodeFramedResponse(response);
      assert.equal(header.model_name, 'iris_onnx');
      assert.equal(header.id, 'b');
      assert.deepEqual(header.outputs, [
        { name: 'label', datatype: 'INT64', shape: [5], parameters: { binary_data_size: 40 } },
        { name: 'probabilities', datatype: 'FP32', shape: [5, 3], parameters: { binary_data_size: 60 } },
      ]);
      assert.deepEqual(elementsOf(outputs.get('label')), IRIS.outputs.label?.data.map((v) => BigInt(v as number)));
      assert.deepEqual(elementsOf(outputs.get('probabilities')), json.outputs[1]?.data, 'binary floats equal the JSON floats exactly');
      assertMatches(elementsOf(outputs.get('probabilities')), IRIS.outputs.probabilities?.data ?? [], 'FP32', 'probabilities');
    });

    it('binary input, binary output', async () => {
      const response = await inferFramed(app, 'iris_onnx', framedRequest({ parameters: { binary_data_output: true } }, [irisBinary()]));
      const { outputs } = decodeFramedResponse(response);
      assert.deepEqual(elementsOf(outputs.get('label')), IRIS.outputs.label?.data.map((v) => BigInt(v as number)));
      assertMatches(elementsOf(outputs.get('probabilities')), IRIS.outputs.probabilities?.data ?? [], 'FP32', 'probabilities');
    });

    it('per output binary_data: true sends just that output as binary, the rest as JSON, in the requested order', async () => {
      const json = okJson(await inferJson(app, 'iris_onnx', { inputs: [irisJson()] }));
      for (const [request, binaryName] of [
        [[{ name: 'probabilities', parameters: { binary_data: true } }, { name: 'label' }], 'probabilities'],
        [[{ name: 'label', parameters: { binary_data: true } }, { name: 'probabilities', parameters: { binary_data: false } }], 'label'],
      ] as const) {
        const response = await inferJson(app, 'iris_onnx', { inputs: [irisJson()], outputs: request });
        const { header, outputs } = decodeFramedResponse(response);
        assert.deepEqual(header.outputs.map((output) => output.name), request.map((output) => output.name));
        for (const output of header.outputs) {
          const reference = json.outputs.find((o) => o.name === output.name);
          if (output.name === binaryName) {
            assert.ok(outputs.get(output.name)?.bytes, `${output.name} is binary`);
            const elements = elementsOf(outputs.get(output.name));
            assert.deepEqual(output.datatype === 'INT64' ? elements.map(Number) : elements, reference?.data);
          } else {
            assert.deepEqual(output, reference, `${output.name} stays JSON`);
          }
        }
      }
    });

    it('binary_data_output with a subset of outputs sends only those', async () => {
      const response = await inferJson(app, 'iris_onnx', { inputs: [irisJson()], outputs: [{ name: 'label' }], parameters: { binary_data_output: true } });
      const { header, outputs } = decodeFramedResponse(response);
      assert.deepEqual(header.outputs.map((output) => output.name), ['label']);
      assert.deepEqual(elementsOf(outputs.get('label')).map(Number), IRIS.outputs.label?.data);
    });

    it('binary_data_output: false, or a binary request without it, gives a JSON response', async () => {
      okJson(await inferJson(app, 'iris_onnx', { inputs: [irisJson()], parameters: { binary_data_output: false } }));
      okJson(await inferFramed(app, 'iris_onnx', framedRequest({}, [irisBinary()])));
    });
  });

  describe('BYTES', () => {
    it('topic: BYTES inputs length-prefixed in the binary tail classify like the JSON strings', async () => {
      const texts = TEXT.inputs.input?.data as string[];
      const json = okJson(await inferJson(app, 'topic', { inputs: [{ name: 'input', datatype: 'BYTES', shape: [5, 1], data: texts }] }));
      assert.deepEqual(json.outputs[0]?.data, TEXT.outputs.label?.data);
      const binary = await inferFramed(app, 'topic', framedRequest({}, [{ name: 'input', datatype: 'BYTES', shape: [5, 1], bytes: bytesElements(texts) }]));
      assert.deepEqual(okJson(binary), json);
      const both = decodeFramedResponse(
        await inferFramed(app, 'topic', framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'input', datatype: 'BYTES', shape: [5, 1], bytes: bytesElements(texts) }])),
      );
      assert.deepEqual(elementsOf(both.outputs.get('label')).map(Number), TEXT.outputs.label?.data);
      assertMatches(elementsOf(both.outputs.get('probabilities')), TEXT.outputs.probabilities?.data ?? [], 'FP32', 'probabilities');
    });

    it('an identity string model returns BYTES length-prefixed: each element a 4-byte LE length and its UTF-8 bytes', async () => {
      const bytes = bytesElements(STRINGS);
      const response = await inferFramed(
        app,
        'strings',
        framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'BYTES', shape: [STRINGS.length], bytes }]),
      );
      const { header, outputs } = decodeFramedResponse(response);
      assert.deepEqual(header.outputs, [{ name: 'y', datatype: 'BYTES', shape: [STRINGS.length], parameters: { binary_data_size: bytes.length } }]);
      const out = outputs.get('y')?.bytes as Buffer;
      assert.ok(out.equals(bytes), 'the output bytes are the input bytes');
      assert.equal(out.readUInt32LE(0), 0, 'the empty string is a zero length');
      assert.equal(out.readUInt32LE(4), 5);
      assert.equal(out.toString('utf8', 8, 13), 'plain');
      assert.deepEqual(readBytesElements(out), STRINGS);
    });

    it('BYTES: JSON in, binary out, and binary in, JSON out', async () => {
      const jsonIn = await inferJson(app, 'strings', { inputs: [{ name: 'x', datatype: 'BYTES', shape: [STRINGS.length], data: STRINGS }], parameters: { binary_data_output: true } });
      assert.deepEqual(elementsOf(decodeFramedResponse(jsonIn).outputs.get('y')), STRINGS);
      const binaryIn = await inferFramed(app, 'strings', framedRequest({}, [{ name: 'x', datatype: 'BYTES', shape: [STRINGS.length], bytes: bytesElements(STRINGS) }]));
      assert.deepEqual(okJson(binaryIn).outputs[0]?.data, STRINGS);
    });

    it('several binary outputs of mixed element types follow each other in the tail, in order', async () => {
      const floats = [1.5, -2.25, 3, 0.125];
      const strings = ['a', 'ßß'];
      const response = await inferFramed(
        app,
        'pair',
        framedRequest({ parameters: { binary_data_output: true } }, [
          { name: 's', datatype: 'BYTES', shape: [2], bytes: bytesElements(strings) },
          { name: 'f', datatype: 'FP32', shape: [2, 2], bytes: toBytes('FP32', floats) },
        ]),
      );
      const { header, outputs } = decodeFramedResponse(response);
      assert.deepEqual(header.outputs.map((o) => [o.name, o.parameters?.binary_data_size]), [['f_out', 16], ['s_out', 4 + 1 + 4 + 4]]);
      assert.deepEqual(elementsOf(outputs.get('f_out')), floats);
      assert.deepEqual(elementsOf(outputs.get('s_out')), strings);
    });
  });

  describe('raw form (Inference-Header-Content-Length: 0)', () => {
    const raw = (url: string, payload: Buffer) =>
      app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' } });

    it('the body is the raw FP32 bytes of N rows of the single input; the response is JSON', async () => {
      const expected = okJson(await inferJson(app, 'iris_onnx', { inputs: [irisJson()] }));
      const body = okJson(await raw('/v2/models/iris_onnx/infer', toBytes('FP32', IRIS_INPUT)));
      assert.deepEqual(body, expected);
      assert.deepEqual(body.outputs.map((o) => o.shape), [[5], [5, 3]], 'N is the byte count over the row size');
      const one = okJson(await raw('/v2/models/iris_onnx/versions/1/infer', toBytes('FP32', IRIS_INPUT.slice(0, 4))));
      assert.deepEqual(one.outputs[0]?.data, [IRIS.outputs.label?.data[0]]);
    });

    it('raw bytes are little-endian FP32 exactly as a binary input would carry them', async () => {
      const bytes = toBytes('FP32', IRIS_INPUT);
      assert.deepEqual(fromBytes('FP32', bytes), IRIS_INPUT, 'the fixture values are exact FP32');
      const framedBody = okJson(await inferFramed(app, 'iris_onnx', framedRequest({}, [irisBinary()])));
      assert.deepEqual(okJson(await raw('/v2/models/iris_onnx/infer', bytes)), framedBody);
    });
  });
});
