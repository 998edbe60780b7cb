/**
 * An ONNX graph's signature as longshore serves it (src/runtimes/onnx-signature.ts), from hand-built session metadata
 * (no session): datatypes and dynamic dims, batched or not, outputs chosen, left out with why, or refused, and the
 * JSON Schemas of the REST records built from it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InferenceSession } from 'onnxruntime-node';
import { readSignature, recordSchema, ZIPMAP_HINT } from '../../src/runtimes/onnx-signature.ts';

type Metadata = InferenceSession.ValueMetadata;

const tensor = (name: string, type: string, shape: (number | string)[]): Metadata => ({ name, isTensor: true, type, shape }) as unknown as Metadata;
const nonTensor = (name: string): Metadata => ({ name, isTensor: false }) as Metadata;

describe('readSignature', () => {
  it('reads names, datatypes and shapes, symbolic and negative dims as -1, and batches when every input is dynamic first', () => {
    const signature = readSignature(
      [tensor('float_input', 'float32', ['batch', 4]), tensor('ids', 'int64', [-1, 'seq'])],
      [tensor('label', 'int64', ['N']), tensor('probabilities', 'float32', ['', 3])],
    );
    assert.equal(signature.batched, true);
    assert.deepEqual(
      signature.inputs.map((spec) => [spec.name, spec.datatype, spec.shape, spec.instanceShape, spec.info.ort]),
      [
        ['float_input', 'FP32', [-1, 4], [4], 'float32'],
        ['ids', 'INT64', [-1, -1], [-1], 'int64'],
      ],
    );
    assert.deepEqual(
      signature.outputs.map((spec) => [spec.name, spec.datatype, spec.shape, spec.instanceShape]),
      [
        ['label', 'INT64', [-1], []],
        ['probabilities', 'FP32', [-1, 3], [3]],
      ],
    );
    assert.deepEqual(signature.excluded, []);
  });

  it('is not batched when an input has a fixed first dim or is a scalar; instances are then the whole tensors', () => {
    const fixed = readSignature([tensor('x', 'float32', [1, 4])], [tensor('y', 'float32', [1, 2])]);
    assert.equal(fixed.batched, false);
    assert.deepEqual(fixed.inputs[0]?.instanceShape, [1, 4]);
    assert.deepEqual(fixed.outputs[0]?.instanceShape, [1, 2]);
    const scalar = readSignature([tensor('a', 'float32', ['N']), tensor('t', 'float64', [])], [tensor('y', 'float32', [])]);
    assert.equal(scalar.batched, false);
    assert.deepEqual(scalar.outputs[0]?.shape, []);
  });

  it('leaves out non-tensor outputs (ZipMap) and scalar outputs of a batched model, saying why', () => {
    const signature = readSignature(
      [tensor('x', 'float32', ['N', 4])],
      [tensor('label', 'int64', ['N']), nonTensor('output_probability'), tensor('count', 'int64', [])],
    );
    assert.deepEqual(signature.outputs.map((spec) => spec.name), ['label']);
    assert.deepEqual(signature.excluded, [
      { name: 'output_probability', reason: `output 'output_probability' is not a tensor and was left out. ${ZIPMAP_HINT}` },
      { name: 'count', reason: "output 'count' is a scalar, so it cannot be split into one value per record, and was left out" },
    ]);
  });

  it('leaves out outputs of element types it cannot serve, listing the supported ones', () => {
    const signature = readSignature([tensor('x', 'float32', ['N'])], [tensor('y', 'float32', ['N']), tensor('b', 'bfloat16', ['N'])]);
    assert.equal(signature.excluded.length, 1);
    assert.match(signature.excluded[0]?.reason ?? '', /^output 'b' has element type bfloat16, which longshore cannot serve yet \(supported: bool, uint8, .*string\) and was left out$/);
  });

  it('serves only the configured outputs, in the configured order', () => {
    const signature = readSignature([tensor('x', 'float32', ['N'])], [tensor('a', 'float32', ['N']), tensor('b', 'int32', ['N']), nonTensor('m')], ['b', 'a']);
    assert.deepEqual(signature.outputs.map((spec) => spec.name), ['b', 'a']);
    assert.deepEqual(signature.excluded, []);
  });

  it('refuses a graph without inputs, a non-tensor or unsupported input, and a graph with nothing to serve', () => {
    assert.throws(() => readSignature([], [tensor('y', 'float32', [1])]), { message: 'the graph has no inputs' });
    assert.throws(() => readSignature([nonTensor('seq')], [tensor('y', 'float32', [1])]), { message: "input 'seq' is not a tensor; longshore serves tensor inputs only" });
    assert.throws(() => readSignature([tensor('x', 'float8e4m3fn', [1])], [tensor('y', 'float32', [1])]), (error: Error) =>
      error.message.startsWith("input 'x' has element type float8e4m3fn, which longshore cannot serve yet"),
    );
    assert.throws(() => readSignature([tensor('x', 'float32', ['N'])], [nonTensor('zipmap')]), (error: Error) =>
      error.message.startsWith("the model has no output longshore can serve: output 'zipmap' is not a tensor and was left out."),
    );
  });

  it('refuses a configured output that is not in the graph, or not a tensor', () => {
    const outputs = [tensor('label', 'int64', ['N']), nonTensor('probabilities')];
    assert.throws(() => readSignature([tensor('x', 'float32', ['N'])], outputs, ['proba']), { message: "configured output 'proba' is not a graph output; graph outputs: label, probabilities" });
    assert.throws(() => readSignature([tensor('x', 'float32', ['N'])], outputs, ['probabilities']), { message: `configured output 'probabilities' is not a tensor. ${ZIPMAP_HINT}` });
  });
});

describe('recordSchema', () => {
  const signature = readSignature(
    [tensor('x', 'float32', ['N', 2, 3]), tensor('tokens', 'int64', ['N', 'seq']), tensor('flag', 'bool', ['N'])],
    [tensor('ids', 'int64', ['N']), tensor('scores', 'float16', ['N', 2]), tensor('name', 'string', ['N'])],
  );

  it('gives one required field per input, nested fixed-size arrays for fixed dims, open arrays for dynamic ones', () => {
    const schema = recordSchema(signature.inputs, 'input');
    assert.deepEqual(schema.required, ['x', 'tokens', 'flag']);
    assert.equal(schema.additionalProperties, false);
    assert.equal(schema.type, 'object');
    const properties = schema.properties as Record<string, Record<string, unknown>>;
    const fp32 = { type: 'number', exclusiveMinimum: -(2 ** 128 - 2 ** 103), exclusiveMaximum: 2 ** 128 - 2 ** 103 };
    assert.deepEqual(properties.x, {
      type: 'array',
      minItems: 2,
      maxItems: 2,
      items: { type: 'array', minItems: 3, maxItems: 3, items: fp32 },
      description: "FP32 value of shape [2,3] (graph tensor 'x', shape [-1,2,3]).",
    });
    assert.equal((properties.tokens?.items as { maximum: number }).maximum, 2 ** 53 - 1, 'an INT64 input is bounded to what JSON carries');
    assert.equal(properties.tokens?.minItems, undefined, 'a dynamic dim has no size');
    assert.deepEqual(properties.flag, { type: 'boolean', description: "BOOL value of shape [] (graph tensor 'flag', shape [-1])." });
  });

  it('lets output 64-bit integers be decimal strings and output floats be null, and says so', () => {
    const properties = recordSchema(signature.outputs, 'output').properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(properties.ids?.type, ['integer', 'string']);
    assert.equal(properties.ids?.pattern, '^-?[0-9]+$');
    assert.deepEqual((properties.scores?.items as { type: unknown }).type, ['number', 'null']);
    assert.match(String(properties.scores?.description), /An element the model computed as NaN or ±Infinity is null\.$/);
    assert.deepEqual(properties.name, { type: 'string', description: "BYTES value of shape [] (graph tensor 'name', shape [-1])." });
  });
});
