/**
 * Every way `/v2/models/{name}/infer` refuses a request: each is `{"error": message}` with the right status and a
 * message naming the tensor and what was expected. Covers JSON decoding, the signature check, binary framing, the raw
 * form, 404/503/500 and the body limit.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { identityModel, squareModel } from '../fixtures/onnx/build-model.ts';
import { configYaml, fixture } from '../helpers/service.ts';
import { FIXTURES, serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { PREDICT_FAILURE } from './fixtures/column-models.ts';
import { assertError, bytesElements, framed, framedRequest, inferFramed, inferJson, okJson, postJson, toBytes } from './v2-helpers.ts';

const COLUMN_MODELS = join(import.meta.dirname, 'fixtures/column-models.ts');
const DATATYPES = 'BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES';

/** An iris_logreg request with one input (FP32 [-1,4] unless overridden). */
function iris(input: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { ...extra, inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2], ...input }] };
}

const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];

describe('V2 infer errors', () => {
  let harness: Harness;
  let app: Harness['app'];
  before(async () => {
    harness = await serveYaml(
      configYaml([
        { model_path: `${FIXTURES}iris_logreg.onnx` },
        { model_path: `${FIXTURES}multi_input.onnx` },
        { model_path: `${FIXTURES}text_clf.onnx` },
        { model_path: './square_int64.onnx' },
        { model_path: './u8.onnx' },
        { model_path: './u64.onnx' },
        { model_path: './ragged.onnx' },
        { model_path: `${FIXTURES}iris_logreg.onnx`, qualified_name: 'hidden', create_endpoint: false },
        { class_path: fixture('failing-load.ts', 'FailingLoadModel'), required: false },
        { class_path: fixture('throwing-predict.ts', 'ThrowingPredictModel') },
        { class_path: `${COLUMN_MODELS}#ThrowingColumnsModel` },
        { class_path: `${COLUMN_MODELS}#WrongOutputModel` },
      ]),
      {
        'square_int64.onnx': squareModel('int64', ['N']),
        'u8.onnx': identityModel([{ name: 'x', type: 'uint8', shape: ['N'] }], [{ name: 'y', type: 'uint8', shape: ['N'] }]),
        'u64.onnx': identityModel([{ name: 'x', type: 'uint64', shape: ['N'] }], [{ name: 'y', type: 'uint64', shape: ['N'] }]),
        'ragged.onnx': identityModel([{ name: 'x', type: 'float32', shape: ['N', 'M'] }], [{ name: 'y', type: 'float32', shape: ['N', 'M'] }]),
      },
    );
    app = harness.app;
  });
  after(() => harness.close());

  it('a valid request to the same models succeeds (the baseline the errors below depart from)', async () => {
    okJson(await inferJson(app, 'iris_logreg', iris({})));
    okJson(await inferFramed(app, 'iris_logreg', framedRequest({}, [{ name: 'input', datatype: 'FP32', shape: [1, 4], bytes: toBytes('FP32', IRIS_ROW) }])));
  });

  describe('400: the tensors against the model signature', () => {
    it('wrong datatype or shape names the input, the expected and the given datatype and shape', async () => {
      const input = { datatype: 'FP64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] };
      assertError(await inferJson(app, 'iris_logreg', iris(input)), 400, "input 'input': expected FP32 [-1,4], got FP64 [2,3]");
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [2, 2], data: [1, 2, 3, 4] })), 400, "input 'input': expected FP32 [-1,4], got FP32 [2,2]");
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [4], data: IRIS_ROW })), 400, "input 'input': expected FP32 [-1,4], got FP32 [4]");
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [1, 1, 4], data: IRIS_ROW })), 400, "input 'input': expected FP32 [-1,4], got FP32 [1,1,4]");
    });

    it('the element count must match the shape, nested or flat', async () => {
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [2, 4], data: [1, 2, 3, 4, 5, 6] })), 400, "input 'input': shape [2,4] needs 8 elements, data has 6");
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [1, 4], data: [[1, 2, 3, 4, 5]] })), 400, "input 'input': data[0] has 5 elements but the shape [1,4] needs 4 in dimension 1: data must be flat (row-major) or nested exactly as the shape [1,4]");
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [2, 4], data: [[1, 2, 3, 4], [5, 6, 7, 8], [9]] })), 400, "input 'input': data has 3 elements but the shape [2,4] needs 2 in dimension 0: data must be flat (row-major) or nested exactly as the shape [2,4]");
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [0, 4], data: [1] })), 400, "input 'input': shape [0,4] needs 0 elements, data has 1");
    });

    it('a shape far larger than its data is a 400 naming the input and the shape, not a 500', async () => {
      // Was a bug at 8071988 (src/tensors/v2-json.ts decodeJsonTensor): the typed array for the shape was allocated
      // before the data was counted, so [100000,100000] threw RangeError (500) and [100000000,4] allocated 1.6 GB.
      // Past limits.predict.max_tensor_elements the shape alone is refused (413, test/limits/sizes.test.ts); under it,
      // the decoder counts the data before allocating.
      for (const datatype of ['FP32', 'BYTES']) {
        const response = await inferJson(app, 'iris_logreg', iris({ datatype, shape: [4000, 4000], data: [] }));
        assertError(response, 400, /^input 'input': .*shape \[4000,4000\].* 16000000 elements/);
        assertError(await inferJson(app, 'iris_logreg', iris({ datatype, shape: [100000, 100000], data: [] })), 413, /10000000000 tensor elements/);
      }
    });

    it('every element must be of the datatype', async () => {
      assertError(await inferJson(app, 'iris_logreg', iris({ data: [1, 2, 'x', 4] })), 400, `input 'input': element 2 is "x", expected a number for FP32`);
      assertError(await inferJson(app, 'iris_logreg', iris({ data: [[1, 2, 3, null]] })), 400, "input 'input': element 3 is null, expected a number for FP32");
      assertError(await inferJson(app, 'iris_logreg', iris({ data: [true, 2, 3, 4] })), 400, "input 'input': element 0 is true, expected a number for FP32");
      assertError(await inferJson(app, 'iris_logreg', iris({ data: [1, 2, {}, 4] })), 400, "input 'input': element 2 is {}, expected a number for FP32");
      const text = { inputs: [{ name: 'input', datatype: 'BYTES', shape: [2, 1], data: ['fine', 7] }] };
      assertError(await inferJson(app, 'text_clf', text), 400, "input 'input': element 1 is 7, expected a string for BYTES");
    });

    it('integers must be integers within the datatype range', async () => {
      const u8 = (data: unknown[]) => ({ inputs: [{ name: 'x', datatype: 'UINT8', shape: [data.length], data }] });
      assertError(await inferJson(app, 'u8', u8([0, 256])), 400, "input 'x': element 1 is 256, expected an integer from 0 to 255 for UINT8");
      assertError(await inferJson(app, 'u8', u8([-1])), 400, "input 'x': element 0 is -1, expected an integer from 0 to 255 for UINT8");
      assertError(await inferJson(app, 'u8', u8([1.5])), 400, "input 'x': element 0 is 1.5, expected an integer from 0 to 255 for UINT8");
      assertError(await inferJson(app, 'u8', u8(['1'])), 400, `input 'x': element 0 is "1", expected an integer from 0 to 255 for UINT8`);
      const b = { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }, { name: 'b', datatype: 'INT64', shape: [1, 1], data: [0.5] }] };
      assertError(await inferJson(app, 'multi_input', b), 400, /^input 'b': element 0 is 0\.5, expected an integer from -9007199254740991 to 9007199254740991 for INT64$/);
    });

    it('a JSON INT64 beyond ±(2^53−1) is a 400 that suggests binary; the limits themselves are accepted', async () => {
      const x = (value: number) => ({ inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: [value] }] });
      assertError(
        await inferJson(app, 'square_int64', x(2 ** 53)),
        400,
        "input 'x': element 0 (9007199254740992) is beyond ±(2^53−1), which JSON cannot carry exactly; send INT64 tensors in binary",
      );
      assertError(await inferJson(app, 'square_int64', x(-(2 ** 53))), 400, /element 0 \(-9007199254740992\) is beyond ±\(2\^53−1\).*send INT64 tensors in binary/);
      // Written as text so JSON.parse rounds it: the server cannot tell 2^53+1 from 2^53, so it must refuse both.
      const text = '{"inputs":[{"name":"x","datatype":"INT64","shape":[1],"data":[9007199254740993]}]}';
      assertError(await postJson(app, '/v2/models/square_int64/infer', text), 400, /beyond ±\(2\^53−1\)/);
      const limits = { inputs: [{ name: 'a', datatype: 'FP32', shape: [2, 3], data: [0, 0, 0, 0, 0, 0] }, { name: 'b', datatype: 'INT64', shape: [2, 1], data: [2 ** 53 - 1, -(2 ** 53 - 1)] }] };
      okJson(await inferJson(app, 'multi_input', limits));
    });

    it('a JSON UINT64 beyond 2^53−1 suggests binary; a negative UINT64 is out of range, not "beyond ±(2^53−1)"', async () => {
      const x = (value: number) => ({ inputs: [{ name: 'x', datatype: 'UINT64', shape: [1], data: [value] }] });
      assertError(await inferJson(app, 'u64', x(2 ** 60)), 400, /element 0 \(1152921504606847000\) is beyond ±\(2\^53−1\).*send UINT64 tensors in binary/);
      // Was a bug at 8071988 (src/tensors/v2-json.ts element): -1 for UINT64 got the "send it in binary" message.
      assertError(await inferJson(app, 'u64', x(-1)), 400, "input 'x': element 0 is -1, expected an integer from 0 to 9007199254740991 for UINT64");
    });

    it('unknown, missing and duplicate inputs', async () => {
      const unknown = { inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 4], data: IRIS_ROW }] };
      assertError(await inferJson(app, 'iris_logreg', unknown), 400, "unknown input 'features'; model 'iris_logreg' takes: input");
      const onlyA = { inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }] };
      assertError(await inferJson(app, 'multi_input', onlyA), 400, "missing input 'b' (INT64 [-1,1])");
      const twice = { inputs: [iris({}).inputs[0], iris({}).inputs[0]] };
      assertError(await inferJson(app, 'iris_logreg', twice), 400, "input 'input' is given twice");
    });

    it('inputs must agree on the batch dimension', async () => {
      const body = {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] },
          { name: 'b', datatype: 'INT64', shape: [3, 1], data: [1, 2, 3] },
        ],
      };
      assertError(await inferJson(app, 'multi_input', body), 400, "inputs disagree on the batch dimension: 'a' has 2 rows, 'b' has 3");
    });

    it('requested outputs must exist, once each, and have a name', async () => {
      assertError(await inferJson(app, 'iris_logreg', iris({}, { outputs: [{ name: 'scores' }] })), 400, "unknown output 'scores'; model 'iris_logreg' returns: label, probabilities");
      assertError(await inferJson(app, 'iris_logreg', iris({}, { outputs: [{ name: 'label' }, { name: 'label' }] })), 400, "output 'label' is requested twice");
      assertError(await inferJson(app, 'iris_logreg', iris({}, { outputs: [{}] })), 400, 'every entry of "outputs" needs a "name" string');
      assertError(await inferJson(app, 'iris_logreg', iris({}, { outputs: 'label' })), 400, '"outputs" must be an array of {"name": ...}');
    });
  });

  describe('400: the JSON message itself', () => {
    it('malformed or empty JSON', async () => {
      assertError(await postJson(app, '/v2/models/iris_logreg/infer', '{"inputs": ['), 400, /^request body is not valid JSON: /);
      assertError(await postJson(app, '/v2/models/iris_logreg/infer', 'not json'), 400, /^request body is not valid JSON: /);
      assertError(await app.inject({ method: 'POST', url: '/v2/models/iris_logreg/infer' }), 400, /^request body is not valid JSON: /);
    });

    it('the request must be an object with a non-empty "inputs" array', async () => {
      for (const body of ['{}', '{"inputs": []}', '{"inputs": {}}', '{"id": "x"}']) {
        assertError(await postJson(app, '/v2/models/iris_logreg/infer', body), 400, '"inputs" must be a non-empty array of tensors');
      }
      for (const body of ['[]', 'null', '"inputs"', '42']) {
        assertError(await postJson(app, '/v2/models/iris_logreg/infer', body), 400, 'the inference request must be a JSON object with "inputs"');
      }
    });

    it('"id" must be a string', async () => {
      assertError(await inferJson(app, 'iris_logreg', iris({}, { id: 42 })), 400, '"id" must be a string, got 42');
    });

    it('each input needs an object with a name, a known datatype, a shape of non-negative integers and data', async () => {
      assertError(await inferJson(app, 'iris_logreg', { inputs: [5] }), 400, 'inputs[0] must be an object with name, shape, datatype and data');
      assertError(await inferJson(app, 'iris_logreg', { inputs: [{ datatype: 'FP32', shape: [1, 4], data: IRIS_ROW }] }), 400, 'inputs[0] needs a "name" string');
      assertError(await inferJson(app, 'iris_logreg', iris({ datatype: undefined })), 400, `input 'input': "datatype" must be one of ${DATATYPES}`);
      assertError(await inferJson(app, 'iris_logreg', iris({ datatype: 'BF16' })), 400, `input 'input': BF16 is not supported by longshore; use one of ${DATATYPES}`);
      assertError(await inferJson(app, 'iris_logreg', iris({ datatype: 'FP8' })), 400, `input 'input': unknown datatype "FP8"; use one of ${DATATYPES}`);
      assertError(await inferJson(app, 'iris_logreg', iris({ datatype: 'fp32' })), 400, `input 'input': unknown datatype "fp32"; use one of ${DATATYPES}`);
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [-1, 4] })), 400, `input 'input': "shape" must be an array of non-negative integers, got [-1,4]`);
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: [1.5, 4] })), 400, `input 'input': "shape" must be an array of non-negative integers, got [1.5,4]`);
      assertError(await inferJson(app, 'iris_logreg', iris({ shape: undefined })), 400, `input 'input': "shape" must be an array of non-negative integers, got undefined`);
      assertError(await inferJson(app, 'iris_logreg', iris({ data: undefined })), 400, `input 'input': "data" must be an array (nested or flat, row-major)`);
      assertError(await inferJson(app, 'iris_logreg', iris({ data: 5 })), 400, `input 'input': "data" must be an array (nested or flat, row-major)`);
    });

    it('a well-formed body to an unknown model is 404, even when its tensors would not fit any model', async () => {
      assertError(await inferJson(app, 'nope', iris({})), 404, /model 'nope' not found/);
      assertError(await inferJson(app, 'nope', iris({ datatype: 'FP64' })), 404, /model 'nope' not found/);
    });
  });

  describe('400: binary framing', () => {
    const row = (values = IRIS_ROW) => ({ name: 'input', datatype: 'FP32', shape: [values.length / 4, 4], bytes: toBytes('FP32', values) });

    it('Inference-Header-Content-Length must be a byte count within the body', async () => {
      const request = framedRequest({}, [row()]);
      const length = request.payload.length;
      for (const value of ['abc', '-1', '1.5', '']) {
        const response = await inferFramed(app, 'iris_logreg', { payload: request.payload, headers: { ...request.headers, 'inference-header-content-length': value } });
        assertError(response, 400, `Inference-Header-Content-Length must be a byte count, got ${JSON.stringify(value)}`);
      }
      const tooLong = await inferFramed(app, 'iris_logreg', { payload: request.payload, headers: { ...request.headers, 'inference-header-content-length': String(length + 1) } });
      assertError(tooLong, 400, `Inference-Header-Content-Length is ${length + 1}, but the body has ${length} bytes`);
    });

    it('the JSON header must be valid JSON of the announced length', async () => {
      const request = framedRequest({}, [row()]);
      const short = Number(request.headers['inference-header-content-length']) - 1;
      const response = await inferFramed(app, 'iris_logreg', { payload: request.payload, headers: { ...request.headers, 'inference-header-content-length': String(short) } });
      assertError(response, 400, new RegExp(`^the JSON header \\(the first ${short} bytes\\) is not valid JSON: `));
    });

    it('binary_data_size past the end of the body', async () => {
      const header = { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], parameters: { binary_data_size: 32 } }] };
      const response = await inferFramed(app, 'iris_logreg', framed(header, toBytes('FP32', IRIS_ROW)));
      assertError(response, 400, "input 'input': binary_data_size 32 goes past the end of the body (16 bytes left)");
    });

    it('bytes left over after the last binary input', async () => {
      const request = framedRequest({}, [row()]);
      const response = await inferFramed(app, 'iris_logreg', { payload: Buffer.concat([request.payload, Buffer.alloc(4)]), headers: request.headers });
      assertError(response, 400, '4 bytes after the last binary input are not claimed by any binary_data_size');
      const jsonOnly = framed(iris({}), Buffer.alloc(3));
      assertError(await inferFramed(app, 'iris_logreg', jsonOnly), 400, '3 bytes after the last binary input are not claimed by any binary_data_size');
    });

    it('an input with both "data" and binary_data_size', async () => {
      const header = iris({ parameters: { binary_data_size: 16 } });
      assertError(await inferFramed(app, 'iris_logreg', framed(header, toBytes('FP32', IRIS_ROW))), 400, `input 'input' has both "data" and binary_data_size; send one`);
    });

    it('binary_data_size must be a byte count, and the byte count the shape needs', async () => {
      for (const size of [-1, 1.5, '16', null]) {
        const header = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: size } }] };
        assertError(await inferFramed(app, 'iris_logreg', framed(header, toBytes('FP32', IRIS_ROW))), 400, "input 'input': binary_data_size must be a byte count");
      }
      const header = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 12 } }] };
      assertError(await inferFramed(app, 'iris_logreg', framed(header, toBytes('FP32', [1, 2, 3]))), 400, "input 'input': FP32 [1,4] needs 16 bytes of binary data, got 12");
    });

    it('the tensor header of a binary input is checked like a JSON one', async () => {
      const header = { inputs: [{ name: 'input', datatype: 'BF16', shape: [1, 4], parameters: { binary_data_size: 8 } }] };
      assertError(await inferFramed(app, 'iris_logreg', framed(header, Buffer.alloc(8))), 400, /^input 'input': BF16 is not supported by longshore/);
      const fp64 = framedRequest({}, [{ name: 'input', datatype: 'FP64', shape: [1, 4], bytes: toBytes('FP64', IRIS_ROW) }]);
      assertError(await inferFramed(app, 'iris_logreg', fp64), 400, "input 'input': expected FP32 [-1,4], got FP64 [1,4]");
    });

    it('BYTES elements whose 4-byte length runs past the data, that end inside a length, or leave bytes over', async () => {
      const text = (bytes: Buffer, rows = 1) => framedRequest({}, [{ name: 'input', datatype: 'BYTES', shape: [rows, 1], bytes }]);
      const overflow = Buffer.concat([Buffer.from([100, 0, 0, 0]), Buffer.from('abc')]);
      assertError(await inferFramed(app, 'text_clf', text(overflow)), 400, "input 'input': BYTES element 0 says 100 bytes, only 3 remain");
      const huge = Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from('abc')]);
      assertError(await inferFramed(app, 'text_clf', text(huge)), 400, "input 'input': BYTES element 0 says 4294967295 bytes, only 3 remain");
      const cutLength = Buffer.concat([bytesElements(['rain']), Buffer.from([1, 0])]);
      assertError(await inferFramed(app, 'text_clf', text(cutLength, 2)), 400, "input 'input': BYTES data ends inside the length of element 1 of 2");
      const leftover = Buffer.concat([bytesElements(['rain']), Buffer.from([0, 0])]);
      assertError(await inferFramed(app, 'text_clf', text(leftover)), 400, "input 'input': 2 bytes of binary data left over after 1 BYTES elements");
    });

    it('a BYTES shape far larger than its binary data is a 400, not a 500', async () => {
      // Was a bug at 8071988 (src/tensors/binary.ts decodeBytesElements): `new Array(count)` ran before any byte was
      // read, so a shape of 10^10 elements threw RangeError (500).
      const huge = { inputs: [{ name: 'input', datatype: 'BYTES', shape: [100000, 100000], parameters: { binary_data_size: 0 } }] };
      assertError(await inferFramed(app, 'text_clf', framed(huge, Buffer.alloc(0))), 413, /10000000000 tensor elements.*max_tensor_elements/);
      const many = { inputs: [{ name: 'input', datatype: 'BYTES', shape: [1000000, 1], parameters: { binary_data_size: 8 } }] };
      assertError(await inferFramed(app, 'text_clf', framed(many, bytesElements(['abcd']))), 400, /^input 'input': .*1000000/);
    });
  });

  describe('400: the raw form (Inference-Header-Content-Length: 0)', () => {
    const raw = (model: string, payload: Buffer) =>
      app.inject({ method: 'POST', url: `/v2/models/${model}/infer`, payload, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' } });

    it('the byte count must be a whole number of rows', async () => {
      assertError(await raw('iris_logreg', Buffer.alloc(20)), 400, "input 'input': 20 bytes of raw data is not a whole number of FP32 [-1,4] rows (16 bytes each)");
      assertError(await raw('iris_logreg', Buffer.alloc(5)), 400, /5 bytes of raw data is not a whole number of FP32 \[-1,4\] rows/);
    });

    it('needs a single-input model with a fixed-size datatype, dynamic in its first dimension only', async () => {
      assertError(await raw('multi_input', Buffer.alloc(12)), 400, "the raw binary form (Inference-Header-Content-Length: 0) needs a model with one input; 'multi_input' has 2");
      assertError(await raw('text_clf', Buffer.alloc(8)), 400, "the raw binary form (Inference-Header-Content-Length: 0) needs a fixed-size datatype; input 'input' is BYTES");
      assertError(await raw('ragged', Buffer.alloc(8)), 400, "the raw binary form needs input 'x' to be dynamic in its first dimension only; it is [-1,-1]");
    });

    it('unknown, endpoint-less, failed models answer as for JSON', async () => {
      assertError(await raw('nope', Buffer.alloc(16)), 404, /model 'nope' not found/);
      assertError(await raw('hidden', Buffer.alloc(16)), 404, /has no prediction endpoint \(create_endpoint: false/);
      assertError(await raw('failing', Buffer.alloc(16)), 503, /model 'failing' failed to load/);
      const versioned = await app.inject({
        method: 'POST',
        url: '/v2/models/iris_logreg/versions/2/infer',
        payload: Buffer.alloc(16),
        headers: { 'inference-header-content-length': '0' },
      });
      assertError(versioned, 404, "model 'iris_logreg' has no version '2'; its versions: 1");
    });
  });

  describe('404, 503 and 500', () => {
    it('404 for an unknown model, an unknown version and a create_endpoint: false model', async () => {
      assertError(await inferJson(app, 'nope', iris({})), 404, /^model 'nope' not found; served models: iris_logreg, /);
      assertError(await postJson(app, '/v2/models/nope/versions/1/infer', iris({})), 404, /^model 'nope' not found/);
      assertError(await postJson(app, '/v2/models/iris_logreg/versions/2/infer', iris({})), 404, "model 'iris_logreg' has no version '2'; its versions: 1");
      assertError(
        await inferJson(app, 'hidden', iris({})),
        404,
        "model 'hidden' is loaded but has no prediction endpoint (create_endpoint: false in its config entry)",
      );
      assertError(await postJson(app, '/v2/models/hidden/versions/1/infer', iris({})), 404, /create_endpoint: false/);
      okJson(await postJson(app, '/v2/models/iris_logreg/versions/1/infer', iris({})));
    });

    it('503 for a model that failed to load', async () => {
      const response = await inferJson(app, 'failing', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1] }] });
      assertError(response, 503, "model 'failing' failed to load: weights file /models/missing.bin is corrupt");
    });

    it('500 when a record model throws, with the reason and no stack', async () => {
      const response = await inferJson(app, 'breaks', { inputs: [{ name: 'x', datatype: 'FP64', shape: [2], data: [1, 2] }] });
      const message = assertError(response, 500, `model 'breaks' failed to predict: ${PREDICT_FAILURE}`);
      assert.doesNotMatch(message, /\bat .*\.ts:\d+/);
    });

    it('500 when a record model returns output that fails its output schema', async () => {
      const response = await inferJson(app, 'liar', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1] }] });
      assertError(response, 500, /^model 'liar' returned output that does not match its output schema: /);
    });

    it('400 for a record model without a tensor view (schemas without properties)', async () => {
      const response = await inferJson(app, 'thrower', { inputs: [{ name: 'x', datatype: 'FP64', shape: [1], data: [1] }] });
      assertError(response, 400, "model 'thrower' has no tensor view: its input and output schemas must be objects with properties");
    });
  });
});

describe('V2 body limit', () => {
  it('a body over server.body_limit_bytes is 413 {"error"}', async () => {
    const harness = await serveYaml(configYaml([{ model_path: `${FIXTURES}iris_logreg.onnx` }], { server: { body_limit_bytes: 256 } }));
    try {
      const data = Array.from({ length: 200 }, () => 1.5);
      const response = await inferJson(harness.app, 'iris_logreg', { inputs: [{ name: 'input', datatype: 'FP32', shape: [50, 4], data }] });
      assertError(response, 413, 'request body is larger than the limit of 256 bytes (server.body_limit_bytes)');
      const raw = await harness.app.inject({
        method: 'POST',
        url: '/v2/models/iris_logreg/infer',
        payload: Buffer.alloc(512),
        headers: { 'inference-header-content-length': '0' },
      });
      assertError(raw, 413);
    } finally {
      await harness.close();
    }
  });
});

describe('V2 JSON data nested deeper than the shape', () => {
  it('is a 400 naming the input, not a 500, however deep it goes', async (t) => {
    const harness = await serveYaml(configYaml([{ model_path: `${FIXTURES}iris_logreg.onnx` }]));
    t.after(() => harness.close());
    const depth = 100_000; // written as text: JSON.stringify itself cannot nest this deep
    const body = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,4],"data":${'['.repeat(depth)}5.1${']'.repeat(depth)}}]}`;
    const response = await harness.app.inject({ method: 'POST', url: '/v2/models/iris_logreg/infer', payload: body, headers: { 'content-type': 'application/json' } });
    assertError(response, 400, "input 'input': data[0][0] is an array but the shape [1,4] has 2 dimensions: data must be flat (row-major) or nested exactly as the shape [1,4]");
  });
});
