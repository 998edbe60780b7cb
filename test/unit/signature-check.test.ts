/**
 * Checks of V2 request tensors against a model's signature (src/tensors/signature-check.ts): names, duplicates,
 * missing and optional inputs, datatype and shape (-1 dims), a common batch dimension, and the requested outputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SchemaValidationError } from '../../src/errors.ts';
import { checkInputs, checkOutputs } from '../../src/tensors/signature-check.ts';
import type { Tensor, TensorSignature } from '../../src/tensors/tensor.ts';
import { expectError } from './expect-error.ts';

const SIGNATURE: TensorSignature = {
  platform: 'onnx_onnxv1',
  inputs: [
    { name: 'features', datatype: 'FP32', shape: [-1, 4] },
    { name: 'mask', datatype: 'BOOL', shape: [-1] },
    { name: 'scale', datatype: 'FP64', shape: [1] },
    { name: 'note', datatype: 'BYTES', shape: [-1], optional: true },
  ],
  outputs: [
    { name: 'label', datatype: 'INT64', shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
  ],
};

const features = (rows: number): Tensor => ({ name: 'features', datatype: 'FP32', shape: [rows, 4], data: new Float32Array(rows * 4) });
const mask = (rows: number): Tensor => ({ name: 'mask', datatype: 'BOOL', shape: [rows], data: new Uint8Array(rows) });
const scale: Tensor = { name: 'scale', datatype: 'FP64', shape: [1], data: Float64Array.from([2]) };
const fails = (inputs: Tensor[], ...fragments: string[]) => expectError(() => checkInputs('iris', SIGNATURE, inputs), SchemaValidationError, 400, ...fragments);

describe('checkInputs', () => {
  it('returns the inputs by name when they fit; an optional input may be left out', () => {
    const inputs = [scale, features(3), mask(3)];
    const byName = checkInputs('iris', SIGNATURE, inputs);
    assert.deepEqual([...byName.keys()], ['scale', 'features', 'mask']);
    assert.equal(byName.get('features'), inputs[1]);
  });

  it('accepts any size in a -1 dim, 0 rows included', () => {
    assert.equal(checkInputs('iris', SIGNATURE, [features(0), mask(0), scale]).size, 3);
  });

  it('refuses an unknown input, listing what the model takes', () => {
    const error = fails([{ name: 'petals', datatype: 'FP32', shape: [1], data: new Float32Array(1) }]);
    assert.equal(error.message, "unknown input 'petals'; model 'iris' takes: features, mask, scale, note");
  });

  it('refuses an input given twice', () => {
    assert.equal(fails([features(1), features(1)]).message, "input 'features' is given twice");
  });

  it('refuses a missing required input, giving its datatype and shape', () => {
    assert.equal(fails([features(1), scale]).message, "missing input 'mask' (BOOL [-1])");
  });

  it('refuses a wrong datatype, rank or fixed dim, saying what was expected and what came', () => {
    const wrongType: Tensor = { name: 'features', datatype: 'FP64', shape: [1, 4], data: new Float64Array(4) };
    assert.equal(fails([wrongType, mask(1), scale]).message, "input 'features': expected FP32 [-1,4], got FP64 [1,4]");
    fails([{ ...features(1), shape: [4] }, mask(1), scale], 'expected FP32 [-1,4], got FP32 [4]');
    fails([{ ...features(1), shape: [1, 5] }, mask(1), scale], 'got FP32 [1,5]');
    fails([features(1), mask(1), { ...scale, shape: [2] }], "input 'scale': expected FP64 [1], got FP64 [2]");
  });

  it('refuses inputs that disagree on the batch dimension, naming both', () => {
    assert.equal(fails([features(2), mask(3), scale]).message, "inputs disagree on the batch dimension: 'features' has 2 rows, 'mask' has 3");
    const note: Tensor = { name: 'note', datatype: 'BYTES', shape: [1], data: ['x'] };
    fails([features(2), mask(2), scale, note], "'features' has 2 rows, 'note' has 1");
  });
});

describe('checkOutputs', () => {
  it('returns every output when none is requested (undefined or empty)', () => {
    assert.deepEqual(checkOutputs('iris', SIGNATURE, undefined), ['label', 'probabilities']);
    assert.deepEqual(checkOutputs('iris', SIGNATURE, []), ['label', 'probabilities']);
  });

  it('returns the requested outputs in the order asked, as a copy', () => {
    const requested = ['probabilities', 'label'];
    const names = checkOutputs('iris', SIGNATURE, requested);
    assert.deepEqual(names, ['probabilities', 'label']);
    assert.notEqual(names, requested);
  });

  it('refuses an unknown output, listing what the model returns, and one requested twice', () => {
    const unknown = expectError(() => checkOutputs('iris', SIGNATURE, ['proba']), SchemaValidationError, 400);
    assert.equal(unknown.message, "unknown output 'proba'; model 'iris' returns: label, probabilities");
    expectError(() => checkOutputs('iris', SIGNATURE, ['label', 'label']), SchemaValidationError, 400, "output 'label' is requested twice");
  });
});
