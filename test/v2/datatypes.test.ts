/**
 * Every Open Inference Protocol datatype round-trips through an Identity ONNX model, in JSON and in binary, including
 * each type's extreme values; FP16 rounds to nearest even and overflows to Infinity (null in JSON); 64-bit integers
 * beyond 2^53 round-trip exactly in binary and are written with all their digits in JSON.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityModel, squareModel, type ElemTypeName } from '../fixtures/onnx/build-model.ts';
import { configYaml } from '../helpers/service.ts';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { assertError, decodeFramedResponse, elementsOf, framedRequest, fromBytes, inferFramed, inferJson, okJson, toBytes } from './v2-helpers.ts';

interface Case {
  datatype: string;
  ort: ElemTypeName;
  /** Sent as JSON; the JSON output must equal `jsonOut` (default: the same values). */
  json: unknown[];
  jsonOut?: unknown[];
  /** Sent in binary (raw FP16 words; bigints for 64-bit); the binary output must be the same bytes. */
  binary: unknown[];
  /** The JSON output of the binary input, as raw JSON text of the data array (all digits). */
  binaryAsJsonText: string;
}

const F32_TENTH = Math.fround(0.1);
const F32_MAX = 3.4028234663852886e38;
const F32_MIN_SUBNORMAL = 1.401298464324817e-45;

const CASES: Case[] = [
  { datatype: 'BOOL', ort: 'bool', json: [true, false, false, true], binary: [true, false, true, true], binaryAsJsonText: '[true,false,true,true]' },
  { datatype: 'UINT8', ort: 'uint8', json: [0, 255, 1, 128], binary: [255, 0, 7, 128], binaryAsJsonText: '[255,0,7,128]' },
  { datatype: 'UINT16', ort: 'uint16', json: [0, 65535, 1, 256], binary: [65535, 0, 513, 1], binaryAsJsonText: '[65535,0,513,1]' },
  { datatype: 'UINT32', ort: 'uint32', json: [0, 4294967295, 1, 65536], binary: [4294967295, 0, 65537, 3], binaryAsJsonText: '[4294967295,0,65537,3]' },
  {
    datatype: 'UINT64',
    ort: 'uint64',
    json: [0, 2 ** 53 - 1, 1, 42],
    binary: [2n ** 64n - 1n, 0n, 2n ** 53n + 1n, 2n ** 63n],
    binaryAsJsonText: '[18446744073709551615,0,9007199254740993,9223372036854775808]',
  },
  { datatype: 'INT8', ort: 'int8', json: [-128, 127, 0, -1], binary: [-128, 127, -2, 5], binaryAsJsonText: '[-128,127,-2,5]' },
  { datatype: 'INT16', ort: 'int16', json: [-32768, 32767, 0, -1], binary: [-32768, 32767, -300, 300], binaryAsJsonText: '[-32768,32767,-300,300]' },
  {
    datatype: 'INT32',
    ort: 'int32',
    json: [-2147483648, 2147483647, 0, -1],
    binary: [-2147483648, 2147483647, -70000, 70000],
    binaryAsJsonText: '[-2147483648,2147483647,-70000,70000]',
  },
  {
    datatype: 'INT64',
    ort: 'int64',
    json: [-(2 ** 53 - 1), 2 ** 53 - 1, 0, -1],
    binary: [-(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, -(2n ** 53n) - 3n],
    binaryAsJsonText: '[-9223372036854775808,9223372036854775807,9007199254740993,-9007199254740995]',
  },
  {
    // FP16 words: 0x3e00 1.5, 0xb400 -0.25, 0x7bff 65504 (max), 0x0001 2^-24 (min subnormal).
    datatype: 'FP16',
    ort: 'float16',
    json: [1.5, -0.25, 65504, 2 ** -24],
    binary: [0x3e00, 0xb400, 0x7bff, 0x0001],
    binaryAsJsonText: `[1.5,-0.25,65504,${2 ** -24}]`,
  },
  {
    datatype: 'FP32',
    ort: 'float32',
    json: [F32_TENTH, -F32_MAX, F32_MIN_SUBNORMAL, 0],
    binary: [F32_TENTH, F32_MAX, -F32_MIN_SUBNORMAL, 1e-3],
    binaryAsJsonText: `[${F32_TENTH},${F32_MAX},${-F32_MIN_SUBNORMAL},${Math.fround(1e-3)}]`,
  },
  {
    datatype: 'FP64',
    ort: 'float64',
    json: [0.1, -1.7976931348623157e308, 5e-324, 123.456],
    binary: [0.1, 1.7976931348623157e308, -5e-324, Math.PI],
    binaryAsJsonText: `[0.1,1.7976931348623157e+308,-5e-324,${Math.PI}]`,
  },
  {
    datatype: 'BYTES',
    ort: 'string',
    json: ['hello', '', 'ünïcødé ✓', 'a"b\\c\n'],
    binary: ['', 'binary 🌧️', 'x'.repeat(70000), 'end'],
    binaryAsJsonText: JSON.stringify(['', 'binary 🌧️', 'x'.repeat(70000), 'end']),
  },
];

const modelName = (datatype: string) => `id_${datatype.toLowerCase()}`;

/** The raw JSON text of the first output's data array. */
function dataText(body: string): string {
  const match = /"data":(\[[^\]]*\])/.exec(body);
  assert.ok(match, `no data array in ${body.slice(0, 200)}`);
  return match[1] as string;
}

describe('V2 datatypes round-trip through Identity models', () => {
  let harness: Harness;
  let app: Harness['app'];
  before(async () => {
    const files: Record<string, Uint8Array> = {
      'square_int64.onnx': squareModel('int64', ['N']),
      'square_uint64.onnx': squareModel('uint64', ['N']),
      'id_fp16_1d.onnx': identityModel([{ name: 'x', type: 'float16', shape: ['N'] }], [{ name: 'y', type: 'float16', shape: ['N'] }]),
    };
    for (const { datatype, ort } of CASES) {
      files[`${modelName(datatype)}.onnx`] = identityModel([{ name: 'x', type: ort, shape: ['N', 2] }], [{ name: 'y', type: ort, shape: ['N', 2] }]);
    }
    harness = await serveYaml(configYaml(Object.keys(files).map((file) => ({ model_path: `./${file}` }))), files);
    app = harness.app;
  });
  after(() => harness.close());

  for (const testCase of CASES) {
    const { datatype, json, binary } = testCase;
    const model = modelName(datatype);
    describe(datatype, () => {
      it('is the datatype of the model metadata', async () => {
        const metadata = (await app.inject({ url: `/v2/models/${model}` })).json<{ inputs: unknown[]; outputs: unknown[] }>();
        assert.deepEqual(metadata.inputs, [{ name: 'x', datatype, shape: [-1, 2] }]);
        assert.deepEqual(metadata.outputs, [{ name: 'y', datatype, shape: [-1, 2] }]);
      });

      it('JSON in, JSON out', async () => {
        const body = okJson(await inferJson(app, model, { inputs: [{ name: 'x', datatype, shape: [2, 2], data: json }] }));
        assert.deepEqual(body.outputs, [{ name: 'y', datatype, shape: [2, 2], data: testCase.jsonOut ?? json }]);
      });

      it('binary in, binary out: the same bytes', async () => {
        const bytes = toBytes(datatype, binary);
        const response = await inferFramed(
          app,
          model,
          framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype, shape: [2, 2], bytes }]),
        );
        const { header, outputs } = decodeFramedResponse(response);
        assert.deepEqual(header.outputs, [{ name: 'y', datatype, shape: [2, 2], parameters: { binary_data_size: bytes.length } }]);
        const out = outputs.get('y')?.bytes as Buffer;
        assert.ok(out.equals(bytes), `${datatype}: ${out.toString('hex').slice(0, 80)} != ${bytes.toString('hex').slice(0, 80)}`);
        assert.deepEqual(fromBytes(datatype, out), fromBytes(datatype, bytes));
      });

      it('binary in, JSON out: every digit of every value', async () => {
        const response = await inferFramed(app, model, framedRequest({}, [{ name: 'x', datatype, shape: [2, 2], bytes: toBytes(datatype, binary) }]));
        okJson(response);
        assert.equal(dataText(response.body), testCase.binaryAsJsonText);
      });

      it('JSON in, binary out', async () => {
        const response = await inferJson(app, model, { inputs: [{ name: 'x', datatype, shape: [2, 2], data: json }], outputs: [{ name: 'y', parameters: { binary_data: true } }] });
        const decoded = elementsOf(decodeFramedResponse(response).outputs.get('y'));
        const expected = fromBytes(datatype, toBytes(datatype, datatype === 'FP16' ? [0x3e00, 0xb400, 0x7bff, 0x0001] : (testCase.jsonOut ?? json)));
        assert.deepEqual(decoded, expected);
      });
    });
  }

  describe('BOOL in binary and JSON', () => {
    it('binary bytes other than 0 and 1 are read as true and come back as 1', async () => {
      const bytes = Buffer.from([0, 2, 255, 1]);
      const response = await inferFramed(
        app,
        'id_bool',
        framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'BOOL', shape: [2, 2], bytes }]),
      );
      assert.deepEqual([...(decodeFramedResponse(response).outputs.get('y')?.bytes ?? [])], [0, 1, 1, 1]);
    });

    it('JSON BOOL data must be true/false, not 0/1', async () => {
      const response = await inferJson(app, 'id_bool', { inputs: [{ name: 'x', datatype: 'BOOL', shape: [1, 2], data: [1, 0] }] });
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json(), { error: "input 'x': element 0 is 1, expected a boolean for BOOL" });
    });
  });

  describe('FP16 conversions', () => {
    const fp16 = async (data: number[]) => {
      const response = await inferJson(app, 'id_fp16_1d', { inputs: [{ name: 'x', datatype: 'FP16', shape: [data.length], data }], outputs: [{ name: 'y', parameters: { binary_data: true } }] });
      return { words: elementsOf(decodeFramedResponse(response).outputs.get('y')) as number[] };
    };
    const fp16Json = async (data: number[]) =>
      okJson(await inferJson(app, 'id_fp16_1d', { inputs: [{ name: 'x', datatype: 'FP16', shape: [data.length], data }] })).outputs[0]?.data;

    it('JSON numbers become the nearest FP16 (ties to even), read back as that value', async () => {
      // 0.1 → 0x2e66; 2049 is halfway between 2048 and 2050 → 2048 (even); 2051 → 2052; 1/3 → 0x3555.
      assert.deepEqual((await fp16([0.1, 2049, 2051, 1 / 3])).words, [0x2e66, 0x6800, 0x6802, 0x3555]);
      assert.deepEqual(await fp16Json([0.1, 2049, 2051, 1 / 3]), [0.0999755859375, 2048, 2052, 0.333251953125]);
    });

    it('subnormals round to nearest, 65519 rounds to the largest half, and a JSON number that would overflow is a 400', async () => {
      assert.deepEqual((await fp16([2 ** -25 + 2 ** -30, 2 ** -26, 65519, -65519])).words, [0x0001, 0x0000, 0x7bff, 0xfbff]);
      assert.deepEqual(await fp16Json([65519, 2 ** -14]), [65504, 2 ** -14]);
      for (const overflow of [65520, -1e6]) {
        const response = await inferJson(app, 'id_fp16_1d', { inputs: [{ name: 'x', datatype: 'FP16', shape: [1], data: [overflow] }] });
        assertError(response, 400, `input 'x': element 0 (${overflow}) would overflow FP16 (|value| must be below 65520)`);
      }
    });

    it('a JSON FP32 number that would overflow is a 400, the largest finite float32 is kept', async () => {
      const response = await inferJson(app, 'id_fp32', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [1e39, 0] }] });
      assertError(response, 400, /element 0 \(1e\+39\) would overflow FP32/);
      const max = okJson(await inferJson(app, 'id_fp32', { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [3.4028234663852886e38, -3.4028234663852886e38] }] }));
      assert.deepEqual(max.outputs[0]?.data, [3.4028234663852886e38, -3.4028234663852886e38]);
    });

    it('binary FP16 words pass through untouched, including Infinity and NaN (null in JSON)', async () => {
      const words = [0x7c00, 0xfc00, 0x7e00, 0x8000, 0x0400, 0x3c00];
      const framedBody = framedRequest({}, [{ name: 'x', datatype: 'FP16', shape: [words.length], bytes: toBytes('FP16', words) }]);
      const response = await inferFramed(app, 'id_fp16_1d', framedBody);
      assert.equal(dataText(response.body), `[null,null,null,0,${2 ** -14},1]`);
      const binary = await inferFramed(
        app,
        'id_fp16_1d',
        framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'FP16', shape: [words.length], bytes: toBytes('FP16', words) }]),
      );
      assert.deepEqual(elementsOf(decodeFramedResponse(binary).outputs.get('y')), words);
    });
  });

  describe('64-bit integers beyond 2^53', () => {
    it('square INT64 2^30+1 in JSON: the JSON output has every digit of 1152921506754330625', async () => {
      const response = await inferJson(app, 'square_int64', { inputs: [{ name: 'x', datatype: 'INT64', shape: [2], data: [2 ** 30 + 1, -(2 ** 31)] }] });
      okJson(response);
      assert.match(response.body, /"data":\[1152921506754330625,4611686018427387904\]/);
      assert.equal(((2n ** 30n + 1n) ** 2n).toString(), '1152921506754330625');
    });

    it('square INT64 in binary: exact BigInt64 results up to 2^63−1', async () => {
      const x = [3037000499n, -3037000499n, 2n ** 31n, 94906267n];
      const response = await inferFramed(
        app,
        'square_int64',
        framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'INT64', shape: [4], bytes: toBytes('INT64', x) }]),
      );
      assert.deepEqual(elementsOf(decodeFramedResponse(response).outputs.get('y')), x.map((v) => v * v));
      const asJson = await inferFramed(app, 'square_int64', framedRequest({}, [{ name: 'x', datatype: 'INT64', shape: [4], bytes: toBytes('INT64', x) }]));
      assert.equal(dataText(asJson.body), `[${x.map((v) => String(v * v)).join(',')}]`);
    });

    it('square UINT64 in binary: results beyond 2^63', async () => {
      const x = [4294967295n, 2n ** 32n - 2n];
      const response = await inferFramed(
        app,
        'square_uint64',
        framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'UINT64', shape: [2], bytes: toBytes('UINT64', x) }]),
      );
      const y = elementsOf(decodeFramedResponse(response).outputs.get('y'));
      assert.deepEqual(y, [18446744065119617025n, 18446744056529682436n]);
      const asJson = await inferFramed(app, 'square_uint64', framedRequest({}, [{ name: 'x', datatype: 'UINT64', shape: [2], bytes: toBytes('UINT64', x) }]));
      assert.equal(dataText(asJson.body), '[18446744065119617025,18446744056529682436]');
    });

    it('a JSON INT64 input beyond ±(2^53−1) is a 400 that suggests binary', async () => {
      const response = await inferJson(app, 'square_int64', { inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: [2 ** 62] }] });
      assert.equal(response.statusCode, 400);
      assert.match(response.json<{ error: string }>().error, /^input 'x': element 0 \(4611686018427388000\) is beyond ±\(2\^53−1\).*send INT64 tensors in binary$/);
    });
  });
});
