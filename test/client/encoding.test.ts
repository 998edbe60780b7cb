/** The client's encoders and decoders checked against the server's own: every datatype, JSON and binary, both directions. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LongshoreClientError } from '../../src/client/errors.ts';
import type { HttpAnswer } from '../../src/client/http.ts';
import { encodeInferRequest } from '../../src/client/infer-request.ts';
import { decodeInferResponse } from '../../src/client/infer-response.ts';
import { parseJsonLosslessly } from '../../src/client/lossless-json.ts';
import { toStorage } from '../../src/client/tensor-data.ts';
import { datatypeInfo, type DatatypeInfo } from '../../src/tensors/datatypes.ts';
import { toHalfBits } from '../../src/tensors/float16.ts';
import type { Tensor } from '../../src/tensors/tensor.ts';
import { decodeInferRequest, encodeInferResponse } from '../../src/tensors/v2-message.ts';

/** One tensor of every datatype, in its storage, with values JSON carries exactly. */
const TENSORS: Tensor[] = [
  { name: 'bool', datatype: 'BOOL', shape: [3], data: new Uint8Array([1, 0, 1]) },
  { name: 'uint8', datatype: 'UINT8', shape: [2], data: new Uint8Array([0, 255]) },
  { name: 'uint16', datatype: 'UINT16', shape: [2], data: new Uint16Array([0, 65535]) },
  { name: 'uint32', datatype: 'UINT32', shape: [2], data: new Uint32Array([0, 4294967295]) },
  { name: 'uint64', datatype: 'UINT64', shape: [2], data: new BigUint64Array([0n, 2n ** 53n - 1n]) },
  { name: 'int8', datatype: 'INT8', shape: [2], data: new Int8Array([-128, 127]) },
  { name: 'int16', datatype: 'INT16', shape: [2], data: new Int16Array([-32768, 32767]) },
  { name: 'int32', datatype: 'INT32', shape: [2], data: new Int32Array([-2147483648, 2147483647]) },
  { name: 'int64', datatype: 'INT64', shape: [2, 1], data: new BigInt64Array([-(2n ** 53n - 1n), 5n]) },
  { name: 'fp16', datatype: 'FP16', shape: [3], data: new Uint16Array([toHalfBits(1.5), toHalfBits(-2), toHalfBits(65504)]) },
  { name: 'fp32', datatype: 'FP32', shape: [2], data: new Float32Array([1.5, 0.1]) },
  { name: 'fp64', datatype: 'FP64', shape: [2], data: new Float64Array([Math.PI, 1e300]) },
  { name: 'bytes', datatype: 'BYTES', shape: [1, 3], data: ['a', 'é ⚽', ''] },
];

/** 64-bit integers beyond ±(2^53−1), which only binary requests carry (responses carry them in JSON too). */
const WIDE: Tensor[] = [
  { name: 'int64_wide', datatype: 'INT64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n + 1n, 2n ** 63n - 1n]) },
  { name: 'uint64_wide', datatype: 'UINT64', shape: [1], data: new BigUint64Array([2n ** 64n - 1n]) },
];

function rawInput(): never {
  throw new Error('not the raw form');
}

/** Sends the client's encoding through the server's decoder. */
function serverDecode(encoded: ReturnType<typeof encodeInferRequest>) {
  const body = typeof encoded.body === 'string' ? Buffer.from(encoded.body) : Buffer.from(encoded.body);
  return decodeInferRequest(body, encoded.headers['inference-header-content-length'], rawInput);
}

/** The client's decoding of what the server's encoder writes. */
function clientDecode(outputs: Tensor[], binary: boolean) {
  const encoded = encodeInferResponse({ model_name: 'm', model_version: '1', id: 'r1', outputs }, binary ? 'all' : new Set());
  const headers = new Headers(encoded.headerLength === undefined ? {} : { 'inference-header-content-length': String(encoded.headerLength) });
  return decodeInferResponse(answer(typeof encoded.body === 'string' ? Buffer.from(encoded.body) : encoded.body, headers));
}

function answer(body: Buffer, headers = new Headers()): HttpAnswer {
  return { method: 'POST', url: 'http://h/v2/models/m/infer', status: 200, headers, body, requestId: 'rid' };
}

/** A framed body: the JSON header, then `tail`, with its Inference-Header-Content-Length. */
function framed(header: string, tail: string, message: RegExp): [Buffer, Record<string, string>, RegExp] {
  return [Buffer.from(header + tail), { 'inference-header-content-length': String(Buffer.byteLength(header)) }, message];
}

function info(datatype: string): DatatypeInfo {
  return datatypeInfo(datatype) as DatatypeInfo;
}

describe('request encoding, read back by the server', () => {
  for (const binary of [false, true]) {
    it(`${binary ? 'binary' : 'JSON'}: every datatype arrives as sent`, () => {
      const decoded = serverDecode(encodeInferRequest({ inputs: TENSORS, id: 'x1', outputs: ['a', 'b'] }, { binary, binaryOutputs: true }));
      assert.deepEqual(decoded.inputs, TENSORS);
      assert.equal(decoded.id, 'x1');
      assert.deepEqual(decoded.outputs, ['a', 'b']);
      assert.deepEqual(decoded.binaryOutputs, new Set(['a', 'b']));
    });
  }

  it('binary carries 64-bit integers beyond ±(2^53−1) exactly; JSON gets the server message', () => {
    assert.deepEqual(serverDecode(encodeInferRequest({ inputs: WIDE }, { binary: true })).inputs, WIDE);
    assert.throws(() => serverDecode(encodeInferRequest({ inputs: WIDE })), /beyond ±\(2\^53−1\).*send INT64 tensors in binary/);
  });

  it('JSON is plain Open Inference Protocol JSON, and binary frames it with the header length', () => {
    const input = { name: 'x', datatype: 'FP32', shape: [1, 2], data: new Float32Array([1, 2.5]) } as const;
    assert.deepEqual(encodeInferRequest({ inputs: [input] }), {
      body: '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"data":[1,2.5]}]}',
      headers: { 'content-type': 'application/json' },
    });
    const binary = encodeInferRequest({ inputs: [input] }, { binary: true, binaryOutputs: true });
    const header = '{"inputs":[{"name":"x","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}],"parameters":{"binary_data_output":true}}';
    assert.deepEqual(binary.headers, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) });
    assert.deepEqual(Buffer.from(binary.body), Buffer.concat([Buffer.from(header), Buffer.from(new Float32Array([1, 2.5]).buffer)]));
  });

  it('BYTES elements are a 4-byte little-endian length and UTF-8 bytes', () => {
    const { body } = encodeInferRequest({ inputs: [{ name: 's', datatype: 'BYTES', shape: [2], data: ['hé', ''] }] }, { binary: true });
    const bytes = Buffer.from(body);
    assert.deepEqual(bytes.subarray(bytes.length - 11), Buffer.from([3, 0, 0, 0, 0x68, 0xc3, 0xa9, 0, 0, 0, 0]));
  });
});

describe('response decoding, of what the server writes', () => {
  for (const binary of [false, true]) {
    it(`${binary ? 'binary' : 'JSON'}: every datatype comes back in its typed array`, () => {
      const response = clientDecode([...TENSORS, ...WIDE], binary);
      assert.equal(response.model_name, 'm');
      assert.equal(response.model_version, '1');
      assert.equal(response.id, 'r1');
      assert.deepEqual(response.outputs, [...TENSORS, ...WIDE]);
      assert.ok(response.output('int64_wide', 'INT64').data instanceof BigInt64Array);
      assert.ok(response.output('bool', 'BOOL').data instanceof Uint8Array);
    });
  }

  it('non-finite floats: JSON null becomes NaN (the sign of infinities is lost), binary keeps them', () => {
    const outputs: Tensor[] = [{ name: 'f', datatype: 'FP32', shape: [3], data: new Float32Array([Number.NaN, Number.POSITIVE_INFINITY, 1]) }];
    assert.deepEqual(Array.from(clientDecode(outputs, false).output('f', 'FP32').data), [Number.NaN, Number.NaN, 1]);
    assert.deepEqual(Array.from(clientDecode(outputs, true).output('f', 'FP32').data), [Number.NaN, Number.POSITIVE_INFINITY, 1]);
  });

  it('a body that breaks the protocol is a LongshoreClientError with the status and request id', () => {
    const cases: [Buffer, Record<string, string>, RegExp][] = [
      [Buffer.from('{"model_name":"m"'), {}, /the body is not valid JSON \(/],
      [Buffer.from('{"model_name":"m","model_version":"1"}'), {}, /outputs must be an array/],
      [Buffer.from('{"model_name":"m","model_version":"1","outputs":[{"name":"o","datatype":"FP32","shape":[2]}]}'), {}, /neither data nor binary_data_size/],
      [Buffer.from('{"model_name":"m","model_version":"1","outputs":[{"name":"o","datatype":"BF16","shape":[1],"data":[1]}]}'), {}, /unknown datatype "BF16"/],
      [Buffer.from('{"model_name":"m","model_version":"1","outputs":[{"name":"o","datatype":"FP32","shape":[2],"data":[1]}]}'), {}, /needs 2 elements, data has 1/],
      [Buffer.from('{"model_name":"m","model_version":"1","outputs":[{"name":"o","datatype":"INT8","shape":[1],"data":[300]}]}'), {}, /element 0 \(300\) is not a INT8 value/],
      [Buffer.from('{}'), { 'inference-header-content-length': '99' }, /Inference-Header-Content-Length is "99", but the body has 2 bytes/],
      [Buffer.from('{}'), { 'inference-header-content-length': '1' }, /the JSON header \(the first 1 bytes\) is not valid JSON/],
      framed('{"model_name":"m","model_version":"1","outputs":[]}', 'xx', /2 bytes after the last binary output/),
      framed('{"model_name":"m","model_version":"1","outputs":[{"name":"o","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]}', '1234', /binary_data_size 8 does not fit the 4 bytes left/),
      framed(
        '{"model_name":"m","model_version":"1","outputs":[{"name":"o","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":4}}]}',
        '1234',
        /binary data of output 'o': .*needs 8 bytes of binary data, got 4/,
      ),
    ];
    for (const [body, headers, message] of cases) {
      assert.throws(
        () => decodeInferResponse(answer(body, new Headers(headers))),
        (error: unknown) => {
          assert.ok(error instanceof LongshoreClientError, String(error));
          assert.equal(error.status, 200);
          assert.equal(error.requestId, 'rid');
          assert.match(error.message, /^POST http:\/\/h\/v2\/models\/m\/infer: malformed response: /);
          assert.match(error.message, message);
          return true;
        },
      );
    }
  });
});

describe('parseJsonLosslessly', () => {
  it('keeps integers beyond ±(2^53−1) as their digits and leaves everything else to JSON.parse', () => {
    assert.deepEqual(parseJsonLosslessly('{"a":[1,-2.5,1e300,9007199254740991]}'), { a: [1, -2.5, 1e300, 9007199254740991] });
    assert.deepEqual(parseJsonLosslessly('{"a":[9007199254740993,-9223372036854775808,1.5e20,1234567890123456.5]}'), {
      a: ['9007199254740993', '-9223372036854775808', 1.5e20, 1234567890123456.5],
    });
  });

  it('never touches digits inside strings, escaped quotes included', () => {
    const text = '{"id":"12345678901234567890","s":"say \\"99999999999999999\\"","n":99999999999999999}';
    assert.deepEqual(parseJsonLosslessly(text), { id: '12345678901234567890', s: 'say "99999999999999999"', n: '99999999999999999' });
  });
});

describe('input data conversion', () => {
  it('uses a typed array of the datatype as it is', () => {
    const data = new Float32Array([1, 2]);
    assert.equal(toStorage(data, info('FP32'), 'x'), data);
    const halves = new Uint16Array([toHalfBits(1)]);
    assert.equal(toStorage(halves, info('FP16'), 'x'), halves);
  });

  it('converts plain values, flat or nested, and other typed arrays', () => {
    assert.deepEqual(toStorage([[1, 2], [3, 4]], info('FP64'), 'x'), new Float64Array([1, 2, 3, 4]));
    assert.deepEqual(toStorage([true, false, 1, 0], info('BOOL'), 'x'), new Uint8Array([1, 0, 1, 0]));
    assert.deepEqual(toStorage([1, 2n, '9223372036854775807'], info('INT64'), 'x'), new BigInt64Array([1n, 2n, 2n ** 63n - 1n]));
    assert.deepEqual(toStorage([1.5, -2], info('FP16'), 'x'), new Uint16Array([toHalfBits(1.5), toHalfBits(-2)]));
    assert.deepEqual(toStorage(new Float64Array([1.5, -2]), info('FP16'), 'x'), new Uint16Array([toHalfBits(1.5), toHalfBits(-2)]));
    assert.deepEqual(toStorage(new BigInt64Array([3n]), info('FP32'), 'x'), new Float32Array([3]));
    assert.deepEqual(toStorage(new Int32Array([7]), info('INT64'), 'x'), new BigInt64Array([7n]));
  });

  it('refuses values the datatype cannot hold instead of wrapping or truncating them', () => {
    const cases: [unknown, string, RegExp][] = [
      [[128], 'INT8', /element 0 \(128\) is not a INT8 value/],
      [[1.5], 'INT32', /element 0 \(1.5\) is not a INT32 value/],
      [[-1], 'UINT64', /is not a UINT64 value/],
      [[2n ** 63n], 'INT64', /element 0 \(9223372036854775808n\) is not a INT64 value/],
      [['a'], 'FP32', /"a"\) is not a FP32 value/],
      [[1], 'BYTES', /is not a BYTES value/],
      [new Uint8Array(1), 'BYTES', /BYTES data must be an array of strings, got a Uint8Array/],
      ['text', 'BYTES', /data must be a typed array or an array of values/],
    ];
    for (const [data, datatype, message] of cases) {
      assert.throws(() => toStorage(data as never, info(datatype), "input 'x'"), (error: unknown) => error instanceof TypeError && message.test(error.message));
    }
  });

  it('an unknown datatype is a TypeError naming the input', () => {
    assert.throws(() => encodeInferRequest({ inputs: [{ name: 'x', datatype: 'BF16' as never, shape: [1], data: [1] }] }), {
      name: 'TypeError',
      message: 'input \'x\' (inputs[0]): unknown datatype "BF16"',
    });
  });
});
