/**
 * The element-type table (src/tensors/datatypes.ts): OIP datatype ⇄ onnxruntime type ⇄ typed array, byte sizes, the
 * JSON Schema of one element, and JSON ⇄ element conversion (64-bit integers, booleans, FP16 words).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALL_DATATYPES, datatypeInfo, datatypeOfOrt, MAX_SAFE_INT64, type DatatypeInfo } from '../../src/tensors/datatypes.ts';

function info(datatype: string): DatatypeInfo {
  const entry = datatypeInfo(datatype);
  assert.ok(entry, `no entry for ${datatype}`);
  return entry;
}

describe('the datatype table', () => {
  it('maps each of the 13 OIP datatypes to its onnxruntime type, byte size and typed array, both ways', () => {
    const expected: [string, string, number, string][] = [
      ['BOOL', 'bool', 1, 'Uint8Array'],
      ['UINT8', 'uint8', 1, 'Uint8Array'],
      ['UINT16', 'uint16', 2, 'Uint16Array'],
      ['UINT32', 'uint32', 4, 'Uint32Array'],
      ['UINT64', 'uint64', 8, 'BigUint64Array'],
      ['INT8', 'int8', 1, 'Int8Array'],
      ['INT16', 'int16', 2, 'Int16Array'],
      ['INT32', 'int32', 4, 'Int32Array'],
      ['INT64', 'int64', 8, 'BigInt64Array'],
      ['FP16', 'float16', 2, 'Uint16Array'],
      ['FP32', 'float32', 4, 'Float32Array'],
      ['FP64', 'float64', 8, 'Float64Array'],
      ['BYTES', 'string', 0, 'Array'],
    ];
    assert.deepEqual(
      ALL_DATATYPES.map((entry) => [entry.datatype, entry.ort, entry.byteSize, entry.allocate(3).constructor.name]),
      expected,
    );
    for (const [datatype, ort] of expected) assert.equal(datatypeOfOrt(ort)?.datatype, datatype);
  });

  it('allocates zeroed storage of the asked length; BYTES as empty strings', () => {
    assert.deepEqual(Array.from(info('FP32').allocate(2) as Float32Array), [0, 0]);
    assert.deepEqual(Array.from(info('INT64').allocate(2) as BigInt64Array), [0n, 0n]);
    assert.deepEqual(info('BYTES').allocate(3), ['', '', '']);
    assert.equal(info('FP64').allocate(0).length, 0);
  });

  it('has no entry for types longshore cannot serve (bfloat16, 4-bit, BF16, lower case names)', () => {
    for (const ort of ['bfloat16', 'int4', 'uint4', 'float8e4m3fn', 'FP32']) assert.equal(datatypeOfOrt(ort), undefined, ort);
    for (const datatype of ['BF16', 'fp32', 'STRING', '']) assert.equal(datatypeInfo(datatype), undefined, datatype);
  });
});

describe('element schemas', () => {
  it('bounds each integer type by its range, 64-bit types by ±(2^53−1)', () => {
    assert.deepEqual(info('UINT8').elementSchema, { type: 'integer', minimum: 0, maximum: 255 });
    assert.deepEqual(info('INT16').elementSchema, { type: 'integer', minimum: -32768, maximum: 32767 });
    assert.deepEqual(info('UINT32').elementSchema, { type: 'integer', minimum: 0, maximum: 4294967295 });
    const int64 = info('INT64').elementSchema as { minimum: number; maximum: number };
    assert.equal(int64.minimum, -MAX_SAFE_INT64);
    assert.equal(int64.maximum, 2 ** 53 - 1);
    assert.equal((info('UINT64').elementSchema as { minimum: number }).minimum, 0);
  });

  it('bounds FP16 and FP32 below the magnitudes that round to Infinity; FP64 is any number', () => {
    assert.deepEqual(info('FP16').elementSchema, { type: 'number', exclusiveMinimum: -65520, exclusiveMaximum: 65520 });
    const fp32 = info('FP32').elementSchema as { exclusiveMaximum: number };
    assert.equal(fp32.exclusiveMaximum, 2 ** 128 - 2 ** 103);
    // The bound is exactly where float32 rounding reaches Infinity.
    assert.equal(Math.fround(fp32.exclusiveMaximum), Number.POSITIVE_INFINITY);
    assert.equal(Math.fround(fp32.exclusiveMaximum - 2 ** 80), 3.4028234663852886e38);
    assert.deepEqual(info('FP64').elementSchema, { type: 'number' });
    assert.deepEqual(info('BOOL').elementSchema, { type: 'boolean' });
    assert.deepEqual(info('BYTES').elementSchema, { type: 'string' });
  });
});

describe('JSON ⇄ element conversion', () => {
  it('stores booleans as 1/0 and reads them back as booleans', () => {
    const bool = info('BOOL');
    assert.deepEqual([bool.fromJson(true), bool.fromJson(false)], [1, 0]);
    assert.deepEqual([bool.toJson(1), bool.toJson(0), bool.toJson(7)], [true, false, true]);
  });

  it('turns 64-bit integers into bigints, and back into numbers within ±(2^53−1), decimal strings beyond', () => {
    const int64 = info('INT64');
    assert.equal(int64.fromJson(-5), -5n);
    assert.equal(int64.toJson(2n ** 53n - 1n), 2 ** 53 - 1);
    assert.equal(int64.toJson(-(2n ** 53n - 1n)), -(2 ** 53 - 1));
    assert.equal(int64.toJson(2n ** 53n), '9007199254740992');
    assert.equal(int64.toJson(-(2n ** 63n)), '-9223372036854775808');
    assert.equal(info('UINT64').toJson(2n ** 64n - 1n), '18446744073709551615');
  });

  it('stores FP16 as raw half words and reads them as numbers', () => {
    const fp16 = info('FP16');
    assert.equal(fp16.fromJson(1.5), 0x3e00);
    assert.equal(fp16.toJson(0x3e00), 1.5);
    assert.equal(fp16.toJson(0x7c00), Number.POSITIVE_INFINITY);
  });

  it('passes the other types through unchanged', () => {
    assert.equal(info('FP64').fromJson(0.1), 0.1);
    assert.equal(info('INT8').toJson(-3), -3);
    assert.equal(info('BYTES').fromJson('héllo'), 'héllo');
  });
});
