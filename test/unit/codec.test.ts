/**
 * Record values ⇄ flat row-major tensor data (src/tensors/codec.ts): shapes measured from nested arrays, instances
 * written into typed arrays and read back (round trips, 64-bit integers, FP16, BYTES, empty dims), a ragged array a
 * 400 naming the field and the record, and the JSON-safe readers of float outputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaValidationError } from '../../src/errors.ts';
import { elementCount, jsonSafe, measureShape, readInstance, writeInstance } from '../../src/tensors/codec.ts';
import { datatypeInfo, type DatatypeInfo } from '../../src/tensors/datatypes.ts';
import { expectError } from './expect-error.ts';

const info = (datatype: string) => datatypeInfo(datatype) as DatatypeInfo;

describe('measureShape and elementCount', () => {
  it('follows first elements down to the rank', () => {
    assert.deepEqual(measureShape([[1, 2, 3], [4, 5, 6]], 2), [2, 3]);
    assert.deepEqual(measureShape([[[1], [2]]], 3), [1, 2, 1]);
    assert.deepEqual(measureShape([[1, 2]], 1), [1], 'stops at the rank');
    assert.deepEqual(measureShape(7, 2), [], 'a scalar has no dims');
    assert.deepEqual(measureShape([1, 2], 3), [2], 'shallower than the rank: only the dims present');
  });

  it('gives an empty array its inner dims as 0, keeping the rank', () => {
    assert.deepEqual(measureShape([], 3), [0, 0, 0]);
    assert.deepEqual(measureShape([[]], 3), [1, 0, 0]);
    assert.deepEqual(measureShape([], 1), [0]);
  });

  it('counts elements: 1 for a scalar, 0 when any dim is 0', () => {
    assert.equal(elementCount([]), 1);
    assert.equal(elementCount([2, 3, 4]), 24);
    assert.equal(elementCount([0, 5]), 0);
  });
});

describe('writeInstance and readInstance', () => {
  it('writes a [2,3] instance row-major at an offset and returns the offset after it, then reads it back', () => {
    const target = new Float32Array(8);
    const end = writeInstance([[1, 2, 3], [4, 5, 6]], [2, 3], info('FP32'), target, 2, 'x');
    assert.equal(end, 8);
    assert.deepEqual(Array.from(target), [0, 0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(readInstance(target, 2, [2, 3], info('FP32')), [[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(readInstance(target, 5, [3], info('FP32')), [4, 5, 6]);
  });

  it('writes and reads a scalar instance (shape []) as a bare element', () => {
    const target = new Int32Array(2);
    assert.equal(writeInstance(7, [], info('INT32'), target, 1, 'n'), 2);
    assert.equal(readInstance(target, 1, [], info('INT32')), 7);
  });

  it('round-trips INT64 beyond 2^53 as BigInt and reads it back as an exact decimal string', () => {
    const target = new BigInt64Array(3);
    // fromJson BigInts a number; a bigint (what record-columns gives for decimal strings) passes through BigInt().
    writeInstance([1, -(2 ** 53 - 1), 2n ** 62n], [3], info('INT64'), target, 0, 'ids');
    assert.deepEqual(Array.from(target), [1n, -(2n ** 53n - 1n), 2n ** 62n]);
    assert.deepEqual(readInstance(target, 0, [3], info('INT64')), [1, -(2 ** 53 - 1), '4611686018427387904']);
  });

  it('round-trips FP16 through half words, BOOL through 0/1 and BYTES with multibyte UTF-8', () => {
    const half = new Uint16Array(2);
    writeInstance([0.5, -65504], [2], info('FP16'), half, 0, 'h');
    assert.deepEqual(Array.from(half), [0x3800, 0xfbff]);
    assert.deepEqual(readInstance(half, 0, [2], info('FP16')), [0.5, -65504]);

    const flags = new Uint8Array(3);
    writeInstance([[true], [false], [true]], [3, 1], info('BOOL'), flags, 0, 'b');
    assert.deepEqual(Array.from(flags), [1, 0, 1]);
    assert.deepEqual(readInstance(flags, 0, [3, 1], info('BOOL')), [[true], [false], [true]]);

    const text = info('BYTES').allocate(2) as string[];
    writeInstance(['naïve 🚀', '日本'], [2], info('BYTES'), text, 0, 's');
    assert.deepEqual(readInstance(text, 0, [2], info('BYTES')), ['naïve 🚀', '日本']);
  });

  it('writes nothing for an instance with a 0 dim and reads it back as empty arrays', () => {
    const target = new Float64Array(0);
    assert.equal(writeInstance([[], []], [2, 0], info('FP64'), target, 0, 'e'), 0);
    assert.deepEqual(readInstance(target, 0, [2, 0], info('FP64')), [[], []]);
    assert.deepEqual(readInstance(target, 0, [0, 3], info('FP64')), []);
  });

  it('refuses a ragged array with a 400 naming the field, the record and the JSON pointer of the bad level', () => {
    const target = new Float64Array(6);
    const error = expectError(
      () => writeInstance([[1, 2, 3], [4, 5]], [2, 3], info('FP64'), target, 0, 'pixels', '/1'),
      SchemaValidationError,
      400,
    );
    assert.equal(error.message, "input 'pixels': expected shape [2,3] in every record, got 2 items at /1/pixels/1");
    assert.deepEqual(error.details, [{ path: '/1/pixels/1', message: 'must have 3 items to match shape [2,3]' }]);
  });

  it('refuses a scalar where an array is expected, and a flat vector of the wrong length', () => {
    expectError(() => writeInstance(5, [2], info('FP64'), new Float64Array(2), 0, 'v'), SchemaValidationError, 400, "input 'v'", 'got number at /v');
    expectError(() => writeInstance([1, 2, 3], [2], info('FP64'), new Float64Array(2), 0, 'v'), SchemaValidationError, 400, 'expected shape [2]', 'got 3 items at /v');
  });
});

describe('jsonSafe', () => {
  it('reads NaN and ±Infinity of FP16, FP32 and FP64 as null, finite values unchanged', () => {
    assert.equal(jsonSafe(info('FP64')).toJson(Number.NaN), null);
    assert.equal(jsonSafe(info('FP32')).toJson(Number.NEGATIVE_INFINITY), null);
    assert.equal(jsonSafe(info('FP16')).toJson(0x7c00), null);
    assert.equal(jsonSafe(info('FP16')).toJson(0x3c00), 1);
    assert.equal(jsonSafe(info('FP64')).toJson(2.5), 2.5);
    assert.deepEqual(readInstance(Float32Array.from([1, Number.NaN]), 0, [2], jsonSafe(info('FP32'))), [1, null]);
  });

  it('returns the other datatypes as they are, and the same entry every call', () => {
    assert.equal(jsonSafe(info('INT32')), info('INT32'));
    assert.equal(jsonSafe(info('BYTES')), info('BYTES'));
    assert.equal(jsonSafe(info('FP32')), jsonSafe(info('FP32')));
    assert.notEqual(jsonSafe(info('FP32')), info('FP32'));
  });
});
