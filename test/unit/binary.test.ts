/**
 * The binary tensor extension's framing and element encoding (src/tensors/binary.ts): the JSON header split off a
 * framed body, raw little-endian elements decoded and encoded for every datatype (round trips, INT64 beyond 2^53,
 * FP16 words, BYTES with multibyte UTF-8, empty tensors), and the errors of short or malformed data.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRequestError, SchemaValidationError } from '../../src/errors.ts';
import { decodeBinary, encodeBinary, splitFramedBody } from '../../src/tensors/binary.ts';
import { datatypeInfo, type DatatypeInfo, type TensorData } from '../../src/tensors/datatypes.ts';
import { expectError } from './expect-error.ts';

const info = (datatype: string) => datatypeInfo(datatype) as DatatypeInfo;

/** BYTES elements as the extension frames them: a 4-byte little-endian length, then the bytes. */
function framedStrings(...parts: (string | Buffer)[]): Buffer {
  return Buffer.concat(
    parts.flatMap((part) => {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

describe('splitFramedBody', () => {
  it('parses the first headerLength bytes as JSON and returns the rest as the tail', () => {
    const header = '{"inputs":[{"name":"é"}]}';
    const body = Buffer.concat([Buffer.from(header), Buffer.from([1, 2, 3])]);
    const { header: parsed, tail } = splitFramedBody(body, Buffer.byteLength(header));
    assert.deepEqual(parsed, { inputs: [{ name: 'é' }] });
    assert.deepEqual([...tail], [1, 2, 3]);
  });

  it('takes a header that is the whole body, leaving an empty tail', () => {
    const { tail } = splitFramedBody(Buffer.from('{}'), 2);
    assert.equal(tail.length, 0);
  });

  it('refuses a header length past the end of the body, negative or fractional, with a 400 giving both numbers', () => {
    const body = Buffer.from('{"a":1}');
    const past = expectError(() => splitFramedBody(body, 8), SchemaValidationError, 400);
    assert.equal(past.message, 'Inference-Header-Content-Length is 8, but the body has 7 bytes');
    expectError(() => splitFramedBody(body, -1), SchemaValidationError, 400, 'is -1');
    expectError(() => splitFramedBody(body, 2.5), SchemaValidationError, 400, 'is 2.5');
  });

  it('refuses a header that is not JSON (cut short, or empty) as a malformed request', () => {
    const body = Buffer.from('{"inputs":[]}xyz');
    expectError(() => splitFramedBody(body, 5), MalformedRequestError, 400, 'the JSON header (the first 5 bytes) is not valid JSON');
    expectError(() => splitFramedBody(body, 0), MalformedRequestError, 400, 'the first 0 bytes');
  });

  it('refuses a header that is not UTF-8 instead of decoding it with replacement characters', () => {
    const body = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]); // {"\xff":1}
    expectError(() => splitFramedBody(body, body.length), MalformedRequestError, 400, 'not valid UTF-8');
  });
});

describe('encodeBinary and decodeBinary', () => {
  const roundTrips: [string, TensorData][] = [
    ['UINT8', Uint8Array.from([0, 255, 7])],
    ['UINT16', Uint16Array.from([65535, 1])],
    ['UINT32', Uint32Array.from([4294967295, 3])],
    ['INT8', Int8Array.from([-128, 127])],
    ['INT16', Int16Array.from([-32768, 300])],
    ['INT32', Int32Array.from([-2147483648, 70000])],
    ['INT64', BigInt64Array.from([-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n])],
    ['UINT64', BigUint64Array.from([2n ** 64n - 1n, 2n ** 53n + 1n])],
    ['FP16', Uint16Array.from([0x3e00, 0x7bff, 0x0001, 0x7c00])],
    ['FP32', Float32Array.from([0.5, -3.25, Number.NaN])],
    ['FP64', Float64Array.from([0.1, -1.7976931348623157e308, 5e-324])],
    ['BOOL', Uint8Array.from([1, 0, 1])],
  ];
  for (const [datatype, data] of roundTrips) {
    it(`round-trips ${datatype} exactly (decode(encode(x)) has the same elements and type)`, () => {
      const bytes = encodeBinary(data);
      assert.equal(bytes.length, data.length * info(datatype).byteSize);
      const back = decodeBinary(bytes, info(datatype), [data.length], data.length, 'x');
      assert.equal(back.constructor, data.constructor);
      assert.deepEqual(Array.from(back as ArrayLike<unknown>), Array.from(data as ArrayLike<unknown>));
    });
  }

  it('writes little-endian bytes (INT32 1 is 01 00 00 00; INT64 2^53+1 exactly)', () => {
    assert.deepEqual([...encodeBinary(Int32Array.from([1]))], [1, 0, 0, 0]);
    assert.equal(encodeBinary(BigInt64Array.from([2n ** 53n + 1n])).readBigInt64LE(0), 2n ** 53n + 1n);
  });

  it('encodes numeric data as a view of its buffer, not a copy (a subarray gives only its own bytes)', () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    const part = data.subarray(1, 3);
    const bytes = encodeBinary(part);
    assert.equal(bytes.buffer, data.buffer);
    assert.equal(bytes.length, 8);
    assert.equal(bytes.readFloatLE(0), 2);
  });

  it('decodes from any byte offset into an aligned copy it owns', () => {
    const source = Buffer.alloc(9);
    source.writeDoubleLE(2.5, 1);
    const view = source.subarray(1);
    const data = decodeBinary(view, info('FP64'), [1], 1, 'x') as Float64Array;
    assert.equal(data[0], 2.5);
    source.writeDoubleLE(9, 1);
    assert.equal(data[0], 2.5, 'a copy, not a view of the request');
  });

  it('reads any non-zero BOOL byte as 1', () => {
    assert.deepEqual(Array.from(decodeBinary(Buffer.from([0, 2, 255]), info('BOOL'), [3], 3, 'b') as Uint8Array), [0, 1, 1]);
  });

  it('decodes an empty tensor (shape [0, 4]) from no bytes', () => {
    const data = decodeBinary(Buffer.alloc(0), info('FP32'), [0, 4], 0, 'x');
    assert.ok(data instanceof Float32Array);
    assert.equal(data.length, 0);
    assert.equal(encodeBinary(new Float32Array(0)).length, 0);
    assert.deepEqual(decodeBinary(Buffer.alloc(0), info('BYTES'), [0], 0, 's'), []);
    assert.equal(encodeBinary([]).length, 0);
  });

  it('refuses a short or long buffer with a 400 naming the tensor, datatype, shape and both byte counts', () => {
    const short = expectError(() => decodeBinary(Buffer.alloc(7), info('FP32'), [2], 2, 'x'), SchemaValidationError, 400);
    assert.equal(short.message, "input 'x': FP32 [2] needs 8 bytes of binary data, got 7");
    const long = expectError(() => decodeBinary(Buffer.alloc(9), info('FP32'), [2], 2, 'y', 'output'), SchemaValidationError, 400);
    assert.equal(long.message, "output 'y': FP32 [2] needs 8 bytes of binary data, got 9");
  });
});

describe('BYTES elements', () => {
  it('round-trips strings with multibyte UTF-8, empty strings and a leading byte-order mark', () => {
    const strings = ['', 'naïve', '日本語', '🚀 rocket', '\uFEFFbom', 'nul\u0000inside'];
    const bytes = encodeBinary(strings);
    assert.deepEqual(bytes.subarray(0, 4), Buffer.from([0, 0, 0, 0]));
    assert.equal(bytes.readUInt32LE(4), 6, "'naïve' is 6 bytes");
    assert.deepEqual(decodeBinary(bytes, info('BYTES'), [6], 6, 's'), strings);
  });

  it('refuses an input element that is not UTF-8, naming the element, but decodes an output one as it comes', () => {
    const bytes = framedStrings('ok', Buffer.from([0xc3, 0x28]));
    expectError(() => decodeBinary(bytes, info('BYTES'), [2], 2, 's'), SchemaValidationError, 400, "input 's': BYTES element 1 is not valid UTF-8");
    assert.deepEqual(decodeBinary(bytes, info('BYTES'), [2], 2, 's', 'output'), ['ok', '\uFFFD(']);
  });

  it('refuses data that ends inside a length prefix', () => {
    const bytes = Buffer.concat([framedStrings('abc'), Buffer.from([1, 0])]);
    expectError(() => decodeBinary(bytes, info('BYTES'), [2], 2, 's'), SchemaValidationError, 400, 'BYTES data ends inside the length of element 1 of 2');
  });

  it('refuses an element whose length prefix runs past the end', () => {
    const bytes = Buffer.concat([framedStrings('a'), Buffer.from([10, 0, 0, 0, 0x61, 0x62])]);
    expectError(() => decodeBinary(bytes, info('BYTES'), [2], 2, 's'), SchemaValidationError, 400, 'BYTES element 1 says 10 bytes, only 2 remain');
  });

  it('refuses bytes left over after the last element', () => {
    const bytes = Buffer.concat([framedStrings('a', 'b'), Buffer.from([0, 0])]);
    expectError(() => decodeBinary(bytes, info('BYTES'), [2], 2, 's'), SchemaValidationError, 400, '2 bytes of binary data left over after 2 BYTES elements');
  });

  it('refuses a shape claiming more elements than 4 bytes each could hold, before reading any', () => {
    const error = expectError(() => decodeBinary(framedStrings('a'), info('BYTES'), [1000], 1000, 's'), SchemaValidationError, 400);
    assert.equal(error.message, "input 's': 1000 BYTES elements need at least 4000 bytes, got 5");
  });
});
