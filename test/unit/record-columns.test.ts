/**
 * Records ⇄ tensor columns for record models (src/tensors/record-columns.ts): the columns a schema gives (typed scalars
 * and fixed-size arrays, nullable floats, string unions, JSON for the rest and for optional fields), request tensors
 * turned into records and output records into tensors, with the errors of disagreeing rows, bad JSON cells and
 * outputs that do not fit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferenceError, SchemaValidationError } from '../../src/errors.ts';
import { columnsOf, columnsToRecords, recordsToColumns } from '../../src/tensors/record-columns.ts';
import type { Tensor } from '../../src/tensors/tensor.ts';
import { expectError } from './expect-error.ts';

const SCHEMA = {
  type: 'object',
  properties: {
    x: { type: 'number' },
    n: { type: 'integer' },
    ok: { type: 'boolean' },
    s: { type: 'string' },
    grid: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number' } } },
    color: { anyOf: [{ const: 'red' }, { const: 'blue' }] },
    size: { enum: ['S', 'M'] },
    p: { type: ['null', 'number'] },
    free: { type: 'array', items: { type: 'number' } },
    meta: { type: 'object' },
    maybe: { type: 'number' },
  },
  required: ['x', 'n', 'ok', 's', 'grid', 'color', 'size', 'p', 'free', 'meta'],
};

describe('columnsOf', () => {
  it('maps each top-level field to a column: typed where the schema fixes the type and size, JSON otherwise', () => {
    const columns = columnsOf(SCHEMA);
    assert.deepEqual(
      columns.map((c) => [c.name, c.kind, c.datatype, c.shape, c.instanceShape, c.nullable ?? false, c.optional ?? false]),
      [
        ['x', 'typed', 'FP64', [-1], [], false, false],
        ['n', 'typed', 'INT64', [-1], [], false, false],
        ['ok', 'typed', 'BOOL', [-1], [], false, false],
        ['s', 'typed', 'BYTES', [-1], [], false, false],
        ['grid', 'typed', 'FP64', [-1, 2, 3], [2, 3], false, false],
        ['color', 'typed', 'BYTES', [-1], [], false, false],
        ['size', 'typed', 'BYTES', [-1], [], false, false],
        ['p', 'typed', 'FP64', [-1], [], true, false],
        ['free', 'json', 'BYTES', [-1], [], false, false],
        ['meta', 'json', 'BYTES', [-1], [], false, false],
        ['maybe', 'json', 'BYTES', [-1], [], false, true],
      ],
    );
  });

  it('uses JSON for arrays whose size is not fixed, unions of non-strings and integer-or-null', () => {
    const columns = columnsOf({
      type: 'object',
      properties: {
        ragged: { type: 'array', minItems: 1, maxItems: 2, items: { type: 'number' } },
        anyItems: { type: 'array', minItems: 2, maxItems: 2, items: true },
        mixed: { enum: ['a', 1] },
        nullableInt: { type: ['integer', 'null'] },
      },
      required: ['ragged', 'anyItems', 'mixed', 'nullableInt'],
    });
    assert.deepEqual(columns.map((c) => c.kind), ['json', 'json', 'json', 'json']);
  });

  it('gives no columns for a schema that is missing or has no properties', () => {
    assert.deepEqual(columnsOf(undefined), []);
    assert.deepEqual(columnsOf({ type: 'array' }), []);
  });
});

describe('columnsToRecords', () => {
  const columns = columnsOf(SCHEMA);
  const tensors = (...list: Tensor[]) => new Map(list.map((tensor) => [tensor.name, tensor]));

  it('turns one row of every column into one record, reading JSON cells and nested instances', () => {
    const records = columnsToRecords(
      columns,
      tensors(
        { name: 'x', datatype: 'FP64', shape: [2], data: Float64Array.from([1.5, -2]) },
        { name: 'n', datatype: 'INT64', shape: [2], data: BigInt64Array.from([3n, 2n ** 60n]) },
        { name: 'grid', datatype: 'FP64', shape: [2, 2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) },
        { name: 'meta', datatype: 'BYTES', shape: [2], data: ['{"k":[1,"é"]}', 'null'] },
        { name: 's', datatype: 'BYTES', shape: [2], data: ['日本', ''] },
      ),
    );
    assert.deepEqual(records, [
      { x: 1.5, n: 3, grid: [[1, 2, 3], [4, 5, 6]], meta: { k: [1, 'é'] }, s: '日本' },
      { x: -2, n: '1152921504606846976', grid: [[7, 8, 9], [10, 11, 12]], meta: null, s: '' },
    ]);
  });

  it('reads NaN and ±Infinity of a nullable float column as null, of a plain float column as they are', () => {
    const [record] = columnsToRecords(
      columns,
      tensors(
        { name: 'p', datatype: 'FP64', shape: [1], data: Float64Array.from([Number.NaN]) },
        { name: 'x', datatype: 'FP64', shape: [1], data: Float64Array.from([Number.POSITIVE_INFINITY]) },
      ),
    );
    assert.deepEqual(record, { x: Number.POSITIVE_INFINITY, p: null });
  });

  it('gives no records when no column is present, and none for tensors of 0 rows', () => {
    assert.deepEqual(columnsToRecords(columns, new Map()), []);
    assert.deepEqual(columnsToRecords(columns, tensors({ name: 'x', datatype: 'FP64', shape: [0], data: new Float64Array(0) })), []);
  });

  it('refuses columns with different row counts, naming both', () => {
    const error = expectError(
      () =>
        columnsToRecords(
          columns,
          tensors({ name: 'x', datatype: 'FP64', shape: [2], data: Float64Array.from([1, 2]) }, { name: 'ok', datatype: 'BOOL', shape: [1], data: Uint8Array.from([1]) }),
        ),
      SchemaValidationError,
      400,
    );
    assert.equal(error.message, "input 'ok' has 1 rows but 'x' has 2; every column needs one row per record");
  });

  it('refuses a JSON cell that is not JSON, naming the column and row', () => {
    const error = expectError(() => columnsToRecords(columns, tensors({ name: 'meta', datatype: 'BYTES', shape: [2], data: ['{}', '{oops'] })), SchemaValidationError, 400);
    assert.equal(error.message, `input 'meta', row 1: a BYTES column of this model holds JSON text, got "{oops"`);
  });
});

describe('recordsToColumns', () => {
  it('writes each column over the records; JSON columns as JSON text, a missing optional as null', () => {
    const columns = columnsOf({
      type: 'object',
      properties: { label: { type: 'string' }, score: { type: 'number' }, extra: { type: 'object' } },
      required: ['label', 'score'],
    });
    const tensors = recordsToColumns(columns, [
      { label: 'a', score: 0.5, extra: { k: 1 } },
      { label: 'b', score: 1 },
    ]);
    assert.deepEqual(tensors, [
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['a', 'b'] },
      { name: 'score', datatype: 'FP64', shape: [2], data: Float64Array.from([0.5, 1]) },
      { name: 'extra', datatype: 'BYTES', shape: [2], data: ['{"k":1}', 'null'] },
    ]);
  });

  it('takes 64-bit integers as numbers or decimal strings (beyond 2^53), and nulls of a nullable float as NaN', () => {
    const columns = columnsOf({
      type: 'object',
      properties: { id: { type: 'integer' }, p: { type: 'array', minItems: 2, maxItems: 2, items: { type: ['number', 'null'] } } },
      required: ['id', 'p'],
    });
    const [ids, p] = recordsToColumns(columns, [
      { id: 7, p: [0.5, null] },
      { id: '9223372036854775807', p: [null, 1] },
    ]);
    assert.deepEqual(ids, { name: 'id', datatype: 'INT64', shape: [2], data: BigInt64Array.from([7n, 2n ** 63n - 1n]) });
    assert.deepEqual(p?.shape, [2, 2]);
    assert.deepEqual(Array.from(p?.data as Float64Array), [0.5, Number.NaN, Number.NaN, 1]);
  });

  it('round-trips records through columns and back', () => {
    const columns = columnsOf(SCHEMA).filter((column) => column.name !== 'maybe');
    const records = [
      { x: 0.25, n: -4, ok: true, s: 'naïve 🚀', grid: [[1, 2, 3], [4, 5, 6]], color: 'red', size: 'M', p: null, free: [1, 2, 3], meta: { a: [null] } },
      { x: 1e300, n: 2 ** 53 - 1, ok: false, s: '', grid: [[0, 0, 0], [0, 0, -1]], color: 'blue', size: 'S', p: 2.5, free: [], meta: {} },
    ];
    const tensors = recordsToColumns(columns, records);
    assert.deepEqual(columnsToRecords(columns, new Map(tensors.map((tensor) => [tensor.name, tensor]))), records);
  });

  it('writes an empty batch as tensors of 0 rows', () => {
    const [tensor] = recordsToColumns(columnsOf({ type: 'object', properties: { v: { type: 'array', minItems: 3, maxItems: 3, items: { type: 'number' } } }, required: ['v'] }), []);
    assert.deepEqual(tensor, { name: 'v', datatype: 'FP64', shape: [0, 3], data: new Float64Array(0) });
  });

  it('refuses an output that does not fit its column with a 500 naming the field and the record', () => {
    const columns = columnsOf({ type: 'object', properties: { v: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number' } } }, required: ['v'] });
    expectError(() => recordsToColumns(columns, [{ v: [1, 2] }, { v: [1, 2, 3] }]), InferenceError, 500, "output field 'v' of record 1 does not fit FP64 [-1,2]", 'got 3 items at /1/v');
    const int = columnsOf({ type: 'object', properties: { id: { type: 'integer' } }, required: ['id'] });
    expectError(() => recordsToColumns(int, [{ id: 'twelve' }]), InferenceError, 500, "output field 'id' of record 0 does not fit INT64 [-1]");
  });
});
