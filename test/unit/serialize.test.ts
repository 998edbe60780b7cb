/**
 * Prediction log records (src/monitoring/serialize.ts): tensorToJson and toRecord on empty, FP16, 64-bit and mixed
 * values; whole lines are also checked in test/monitoring/prediction-log-units.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PredictionEvent } from '../../src/monitoring/events.ts';
import { serializeEvent, tensorToJson, toRecord } from '../../src/monitoring/serialize.ts';
import type { Tensor } from '../../src/tensors/tensor.ts';

describe('tensorToJson and toRecord', () => {
  const event = (extra: Partial<PredictionEvent>): PredictionEvent => ({
    timestamp: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
    model: 'm',
    version: '2',
    operation: 'infer',
    inputs: [],
    latencyUs: 12.4,
    ...extra,
  });

  it('copies the shape and writes data as plain JSON values, an empty tensor as []', () => {
    const shape = [0, 3];
    const json = tensorToJson({ name: 'e', datatype: 'FP32', shape, data: new Float32Array(0) });
    assert.deepEqual(json, { name: 'e', datatype: 'FP32', shape: [0, 3], data: [] });
    assert.notEqual(json.shape, shape);
  });

  it('writes a datatype outside the table element by element, 64-bit values as numbers or decimal strings', () => {
    const odd = { name: 'o', datatype: 'INT4' as Tensor['datatype'], shape: [3], data: BigInt64Array.from([1n, -(2n ** 62n), 2n ** 53n - 1n]) };
    assert.deepEqual(tensorToJson(odd).data, [1, '-4611686018427387904', 2 ** 53 - 1]);
  });

  it('reads FP16 words as numbers; an FP16 Infinity is null once serialized', () => {
    const half: Tensor = { name: 'h', datatype: 'FP16', shape: [3], data: Uint16Array.from([0x3800, 0xfc00, 0x7bff]) };
    assert.deepEqual(tensorToJson(half).data, [0.5, Number.NEGATIVE_INFINITY, 65504]);
    const line = JSON.parse(serializeEvent(event({ inputs: [half], outputs: [] }), 'inputs')) as { inputs: { data: unknown[] }[] };
    assert.deepEqual(line.inputs[0]?.data, [0.5, null, 65504]);
  });

  it('converts the tensors of an infer event and leaves other items and other operations as they are', () => {
    const tensor: Tensor = { name: 'x', datatype: 'INT64', shape: [1], data: BigInt64Array.from([2n ** 60n]) };
    const record = toRecord(event({ inputs: [tensor, { note: 1 }], outputs: [tensor] }), 'both');
    assert.deepEqual(record.inputs, [{ name: 'x', datatype: 'INT64', shape: [1], data: ['1152921504606846976'] }, { note: 1 }]);
    assert.deepEqual(record.outputs, [{ name: 'x', datatype: 'INT64', shape: [1], data: ['1152921504606846976'] }]);
    const rest = toRecord(event({ operation: 'predict', inputs: [tensor], outputs: 'plain' }), 'both');
    assert.deepEqual(rest.inputs, [tensor], 'a record model event is written by the JSON replacer, not converted here');
    assert.equal(rest.outputs, 'plain');
  });

  it("keeps a failed call's error even when only inputs are logged, and writes the timestamp in ISO form", () => {
    const record = toRecord(event({ operation: 'predict', inputs: { a: 1 }, error: { type: 'InferenceError', message: 'boom' } }), 'inputs');
    assert.equal(record.timestamp, '2024-01-02T03:04:05.006Z');
    assert.deepEqual(record.error, { type: 'InferenceError', message: 'boom' });
    assert.equal(record.request_id, null);
    assert.equal(record.latency_us, 12);
    assert.deepEqual(Object.keys(record), ['timestamp', 'request_id', 'model', 'version', 'operation', 'inputs', 'error', 'latency_us']);
  });
});
