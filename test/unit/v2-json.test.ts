/**
 * V2 JSON tensors (src/tensors/v2-json.ts): request inputs decoded from flat or nested `data` into typed arrays with
 * every element checked (each error a 400 naming the input and what was expected), and output data written as JSON
 * text (64-bit integers with all their digits, non-finite floats as null).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaValidationError } from '../../src/errors.ts';
import type { Tensor } from '../../src/tensors/tensor.ts';
import { decodeJsonTensor, jsonData, tensorHeader } from '../../src/tensors/v2-json.ts';
import { expectError } from './expect-error.ts';

const decode = (value: unknown) => decodeJsonTensor(value, 'inputs[0]');
const fails = (value: unknown, ...fragments: string[]) => expectError(() => decode(value), SchemaValidationError, 400, ...fragments);
const RULE = 'data must be flat (row-major) or nested exactly as the shape';
const DATATYPES = 'BOOL, UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32, FP64, BYTES';

describe('tensorHeader', () => {
  it("returns the name, the datatype's entry, the shape and the element count", () => {
    const { name, info, shape, count } = tensorHeader({ name: 'x', datatype: 'FP32', shape: [2, 3] }, 'inputs[0]');
    assert.deepEqual([name, info.datatype, shape, count], ['x', 'FP32', [2, 3], 6]);
  });

  it('refuses a tensor that is not an object, or has no name, naming where it is', () => {
    assert.equal(fails([1]).message, 'inputs[0] must be an object with name, shape, datatype and data');
    assert.equal(fails(null).message, 'inputs[0] must be an object with name, shape, datatype and data');
    assert.equal(fails({ name: '', datatype: 'FP32', shape: [1], data: [1] }).message, 'inputs[0] needs a "name" string');
  });

  it('refuses an unknown datatype listing the known ones; BF16 is said to be unsupported', () => {
    assert.equal(fails({ name: 'x', datatype: 'FLOAT', shape: [1], data: [1] }).message, `input 'x': unknown datatype "FLOAT"; use one of ${DATATYPES}`);
    assert.equal(fails({ name: 'x', datatype: 'BF16', shape: [1], data: [1] }).message, `input 'x': BF16 is not supported by longshore; use one of ${DATATYPES}`);
    assert.equal(fails({ name: 'x', datatype: 7, shape: [1], data: [1] }).message, `input 'x': "datatype" must be one of ${DATATYPES}`);
  });

  it('refuses a shape that is not an array of non-negative integers, quoting it', () => {
    fails({ name: 'x', datatype: 'FP32', shape: [-1], data: [1] }, `input 'x': "shape" must be an array of non-negative integers, got [-1]`);
    fails({ name: 'x', datatype: 'FP32', shape: '2', data: [1] }, 'got "2"');
    fails({ name: 'x', datatype: 'FP32', shape: [1.5], data: [1] }, 'got [1.5]');
  });
});

describe('decodeJsonTensor', () => {
  it('decodes flat and nested data into the same row-major typed array', () => {
    const flat = decode({ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] });
    const nested = decode({ name: 'x', datatype: 'FP32', shape: [2, 2], data: [[1, 2], [3, 4]] });
    assert.ok(flat.data instanceof Float32Array);
    assert.deepEqual(nested, flat);
    assert.deepEqual(Array.from(flat.data as Float32Array), [1, 2, 3, 4]);
    assert.deepEqual(flat.shape, [2, 2]);
  });

  it('decodes each datatype into its storage: BOOL 0/1, INT64 bigints, FP16 half words, BYTES strings', () => {
    assert.deepEqual(decode({ name: 'b', datatype: 'BOOL', shape: [2], data: [true, false] }).data, Uint8Array.from([1, 0]));
    assert.deepEqual(decode({ name: 'i', datatype: 'INT64', shape: [2], data: [-(2 ** 53 - 1), 2 ** 53 - 1] }).data, BigInt64Array.from([-(2n ** 53n - 1n), 2n ** 53n - 1n]));
    assert.deepEqual(decode({ name: 'h', datatype: 'FP16', shape: [2], data: [1, -0.25] }).data, Uint16Array.from([0x3c00, 0xb400]));
    assert.deepEqual(decode({ name: 's', datatype: 'BYTES', shape: [1, 2], data: [['日本', '🚀']] }).data, ['日本', '🚀']);
  });

  it('decodes rank-3 nested data in row-major order', () => {
    const tensor = decode({ name: 'x', datatype: 'INT16', shape: [2, 2, 2], data: [[[1, 2], [3, 4]], [[5, 6], [7, 8]]] });
    assert.deepEqual(tensor.data, Int16Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it('decodes a scalar (shape []) from one element, and empty tensors (shape [0, 3] and [2, 0])', () => {
    assert.deepEqual(decode({ name: 'x', datatype: 'FP64', shape: [], data: [5] }).data, Float64Array.from([5]));
    const empty = decode({ name: 'x', datatype: 'FP32', shape: [0, 3], data: [] });
    assert.deepEqual([empty.shape, empty.data.length, empty.data.constructor.name], [[0, 3], 0, 'Float32Array']);
    assert.equal(decode({ name: 'x', datatype: 'FP32', shape: [2, 0], data: [[], []] }).data.length, 0);
  });

  it('refuses data that is not an array, or too short for the shape', () => {
    fails({ name: 'x', datatype: 'FP32', shape: [1], data: 5 }, `input 'x': "data" must be an array (nested or flat, row-major)`);
    assert.equal(fails({ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] }).message, "input 'x': shape [3] needs 3 elements, data has 2");
  });

  it('refuses nesting that does not match the shape, naming the path and the reference element', () => {
    const cases: [unknown, string][] = [
      [[[1, 2], [3]], 'data[1] has 1 elements but the shape [2,2] needs 2 in dimension 1'],
      [[[1, 2], 3], 'data[1] is a number but data[0] is an array'],
      [[1, [2], 3, 4], 'data[1] is an array but data[0] is a number'],
      [[[1, [2]], [3, 4]], 'data[0][1] is an array but data[0][0] is a number'],
      [[[[1], 2], [3, 4]], 'data[0][0] is an array but the shape [2,2] has 2 dimensions'],
    ];
    for (const [data, what] of cases) {
      assert.equal(fails({ name: 'x', datatype: 'FP32', shape: [2, 2], data }).message, `input 'x': ${what}: ${RULE} [2,2]`);
    }
    fails({ name: 'x', datatype: 'FP32', shape: [2, 2, 1], data: [[1, 2], [3, 4]] }, 'data[0][0] is a number but the shape [2,2,1] has 3 dimensions');
    fails({ name: 'x', datatype: 'FP32', shape: [], data: [[5]] }, 'data[0] is an array but the shape [] has 0 dimensions');
  });

  it('refuses a huge shape backed by little nested data with a 400, before allocating', () => {
    fails({ name: 'x', datatype: 'FP64', shape: [1e9, 1e9], data: [[1]] }, 'data has 1 elements but the shape [1000000000,1000000000] needs 1000000000 in dimension 0');
  });

  it('walks deep nesting without recursion', () => {
    const depth = 20_000;
    let data: unknown = [1];
    for (let i = 1; i < depth; i++) data = [data];
    const tensor = decode({ name: 'x', datatype: 'FP32', shape: new Array<number>(depth).fill(1), data });
    assert.deepEqual(Array.from(tensor.data as Float32Array), [1]);
  });

  it('refuses elements of the wrong type or range, naming the index, the value and the datatype', () => {
    assert.equal(fails({ name: 'x', datatype: 'INT32', shape: [2], data: [1, 2 ** 31] }).message, "input 'x': element 1 is 2147483648, expected an integer from -2147483648 to 2147483647 for INT32");
    fails({ name: 'x', datatype: 'INT8', shape: [1], data: [1.5] }, 'element 0 is 1.5, expected an integer from -128 to 127 for INT8');
    fails({ name: 'x', datatype: 'UINT64', shape: [1], data: [-1] }, 'element 0 is -1, expected an integer from 0 to 9007199254740991 for UINT64');
    fails({ name: 'x', datatype: 'FP32', shape: [1], data: [null] }, 'element 0 is null, expected a number for FP32');
    fails({ name: 'x', datatype: 'FP32', shape: [1], data: ['1'] }, 'element 0 is "1", expected a number for FP32');
    fails({ name: 'x', datatype: 'BOOL', shape: [1], data: [1] }, 'element 0 is 1, expected a boolean for BOOL');
    fails({ name: 'x', datatype: 'BYTES', shape: [1], data: [1] }, 'element 0 is 1, expected a string for BYTES');
    fails({ name: 'x', datatype: 'FP32', shape: [2, 1], data: [[1], [{}]] }, 'element 1 is {}, expected a number for FP32');
  });

  it('refuses 64-bit integers JSON cannot carry exactly, pointing at binary', () => {
    assert.equal(
      fails({ name: 'ids', datatype: 'INT64', shape: [1], data: [2 ** 53] }).message,
      "input 'ids': element 0 (9007199254740992) is beyond ±(2^53−1), which JSON cannot carry exactly; send INT64 tensors in binary",
    );
  });

  it('refuses floats that would overflow FP16 or FP32', () => {
    assert.equal(fails({ name: 'h', datatype: 'FP16', shape: [1], data: [65520] }).message, "input 'h': element 0 (65520) would overflow FP16 (|value| must be below 65520)");
    fails({ name: 'f', datatype: 'FP32', shape: [1], data: [-1e39] }, 'element 0 (-1e+39) would overflow FP32');
    assert.equal(decode({ name: 'd', datatype: 'FP64', shape: [1], data: [1e300] }).data[0], 1e300);
  });

  it(
    'never stores Infinity for an FP16 element it accepted (|value| < 65520)',
    () => {
      assert.deepEqual(decode({ name: 'h', datatype: 'FP16', shape: [1], data: [65519.999] }).data, Uint16Array.from([0x7bff]));
    },
  );
});

describe('jsonData', () => {
  const text = (datatype: Tensor['datatype'], data: Tensor['data']) => jsonData({ name: 'o', datatype, shape: [data.length], data });

  it('writes every digit of 64-bit integers', () => {
    assert.equal(text('INT64', BigInt64Array.from([2n ** 63n - 1n, -3n])), '[9223372036854775807,-3]');
    assert.equal(text('UINT64', BigUint64Array.from([2n ** 64n - 1n])), '[18446744073709551615]');
  });

  it('writes NaN and ±Infinity as null for FP16, FP32 and FP64', () => {
    assert.equal(text('FP16', Uint16Array.from([0x3c00, 0x7c00, 0x7e00])), '[1,null,null]');
    assert.equal(text('FP32', Float32Array.from([0.5, Number.NEGATIVE_INFINITY, Number.NaN])), '[0.5,null,null]');
    assert.equal(text('FP64', Float64Array.from([0.1, Number.POSITIVE_INFINITY])), '[0.1,null]');
  });

  it('writes BOOL as true/false, BYTES as escaped JSON strings, an empty tensor as []', () => {
    assert.equal(text('BOOL', Uint8Array.from([1, 0])), '[true,false]');
    assert.equal(text('BYTES', ['a"b', '日\n']), '["a\\"b","日\\n"]');
    assert.equal(text('FP64', new Float64Array(0)), '[]');
  });

  it('round-trips through decodeJsonTensor (FP32 values as float32 reads them)', () => {
    const data = Float32Array.from([0.1, -2.5, 3e-8]);
    const back = decode({ name: 'o', datatype: 'FP32', shape: [3], data: JSON.parse(text('FP32', data)) });
    assert.deepEqual(back.data, data);
  });
});
