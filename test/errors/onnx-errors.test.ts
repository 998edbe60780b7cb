/**
 * Error paths of the ONNX runtime: graph tensors of element types longshore cannot serve (onnx-signature.ts), scalar
 * outputs of a batched graph, a graph with no servable output, and session failures that get the operator/opset hint
 * (onnx.ts hintFor). The models are written by ./onnx-builder.ts, which can declare any element type and operator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { ELEM, graphModel, identity, type FloatInit } from '../fixtures/onnx/onnx-writer.ts';

const INT4 = 22;
const UINT4 = 21;
/** DequantizeLinear / QuantizeLinear take int4 and uint4 from opset 21. */
const OPSET_21 = 21;
const SCALE: FloatInit[] = [{ name: 'scale', dims: [], values: [0.5] }];

/** Serves `model` as `<name>.onnx` (so the model is called `name`), loaded; closed when the test ends. */
async function serveModel(t: { after(fn: () => Promise<void>): void }, name: string, model: Uint8Array, extra = ''): Promise<Harness> {
  const harness = await serveYaml(`models:\n  - model_path: ./${name}.onnx\n${extra}`, { [`${name}.onnx`]: model });
  t.after(() => harness.close());
  return harness;
}

interface Metadata {
  status: string;
  error?: string;
  notes?: string[];
  output_schema: { properties: Record<string, unknown> } | null;
}

async function metadataOf(harness: Harness, name: string): Promise<Metadata> {
  const response = await harness.app.inject({ url: `/api/models/${name}/metadata` });
  assert.equal(response.statusCode, 200, response.body);
  return response.json<Metadata>();
}

function predict(harness: Harness, name: string, payload: unknown): Promise<LightMyRequestResponse> {
  return harness.app.inject({ method: 'POST', url: `/api/models/${name}/prediction`, payload: payload as never });
}

const CANNOT_SERVE = 'which longshore cannot serve yet (supported:';

describe('ONNX graph tensors of element types longshore cannot serve', () => {
  it('fails to load a model whose input is int4, naming the input and its type', async (t) => {
    const model = graphModel(
      [{ name: 'packed', elem: INT4, shape: ['N', 2] }],
      [{ name: 'y', elem: ELEM.float32, shape: ['N', 2] }],
      [{ op: 'DequantizeLinear', inputs: ['packed', 'scale'], outputs: ['y'] }],
      OPSET_21,
      SCALE,
    );
    const harness = await serveModel(t, 'int4_input', model);
    const metadata = await metadataOf(harness, 'int4_input');
    assert.equal(metadata.status, 'failed');
    assert.ok(metadata.error?.startsWith(`input 'packed' has element type int4, ${CANNOT_SERVE}`), metadata.error);

    const response = await predict(harness, 'int4_input', { packed: [1, 2] });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json<{ type: string }>().type, 'ModelNotReadyError');
    assert.match(response.json<{ message: string }>().message, /^model 'int4_input' failed to load: input 'packed' has element type int4, which longshore cannot serve yet/);
  });

  it('serves the other outputs when one output is int4, with a note saying it was left out', async (t) => {
    const model = graphModel(
      [{ name: 'x', elem: ELEM.float32, shape: ['N', 2] }],
      [
        { name: 'y', elem: ELEM.float32, shape: ['N', 2] },
        { name: 'q', elem: INT4, shape: ['N', 2] },
      ],
      [
        { op: 'Identity', inputs: ['x'], outputs: ['y'] },
        { op: 'QuantizeLinear', inputs: ['x', 'scale'], outputs: ['q'], ints: { output_dtype: INT4 } },
      ],
      OPSET_21,
      SCALE,
    );
    const harness = await serveModel(t, 'int4_output', model);
    const metadata = await metadataOf(harness, 'int4_output');
    assert.equal(metadata.status, 'ready');
    assert.deepEqual(Object.keys(metadata.output_schema?.properties ?? {}), ['y']);
    assert.equal(metadata.notes?.length, 1, JSON.stringify(metadata.notes));
    assert.match(metadata.notes?.[0] ?? '', /^output 'q' has element type int4, which longshore cannot serve yet \(supported: .*\) and was left out$/);

    const response = await predict(harness, 'int4_output', { x: [1.5, -2] });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { y: [1.5, -2] });
  });

  it('fails to load a model whose only output is uint4: there is no output it can serve', async (t) => {
    const model = graphModel(
      [{ name: 'x', elem: ELEM.float32, shape: ['N', 2] }],
      [{ name: 'q', elem: UINT4, shape: ['N', 2] }],
      [{ op: 'QuantizeLinear', inputs: ['x', 'scale'], outputs: ['q'], ints: { output_dtype: UINT4 } }],
      OPSET_21,
      SCALE,
    );
    const harness = await serveModel(t, 'uint4_only', model);
    const metadata = await metadataOf(harness, 'uint4_only');
    assert.equal(metadata.status, 'failed');
    assert.match(
      metadata.error ?? '',
      /^the model has no output longshore can serve: output 'q' has element type uint4, which longshore cannot serve yet \(supported: .*\) and was left out$/,
    );
  });

  it('fails to load when the configured outputs name only an output it cannot serve', async (t) => {
    const model = graphModel(
      [{ name: 'x', elem: ELEM.float32, shape: ['N', 2] }],
      [
        { name: 'y', elem: ELEM.float32, shape: ['N', 2] },
        { name: 'q', elem: INT4, shape: ['N', 2] },
      ],
      [
        { op: 'Identity', inputs: ['x'], outputs: ['y'] },
        { op: 'QuantizeLinear', inputs: ['x', 'scale'], outputs: ['q'], ints: { output_dtype: INT4 } },
      ],
      OPSET_21,
      SCALE,
    );
    const harness = await serveModel(t, 'picked_int4', model, '    outputs: [q]\n');
    const metadata = await metadataOf(harness, 'picked_int4');
    assert.equal(metadata.status, 'failed');
    assert.match(metadata.error ?? '', /^the model has no output longshore can serve: output 'q' has element type int4/);
  });

  // onnxruntime-node cannot describe a bfloat16 graph tensor at all, so such a model fails when its session is created,
  // before longshore's own type check: the message is onnxruntime's, with longshore's hint.
  it('fails to load a bfloat16 model with the message onnxruntime gives and a hint to export another type', async (t) => {
    const model = identity([{ name: 'x', elem: ELEM.bfloat16, shape: ['N', 2] }], [{ name: 'y', elem: ELEM.bfloat16, shape: ['N', 2] }]);
    const harness = await serveModel(t, 'bf16', model);
    const metadata = await metadataOf(harness, 'bf16');
    assert.equal(metadata.status, 'failed');
    assert.match(metadata.error ?? '', /^onnxruntime could not create a session for .*bf16\.onnx: Unsupported data type: 16/);
    assert.match(metadata.error ?? '', /Hint: the model uses an element type onnxruntime-node cannot run/);
  });
});

describe('scalar outputs of a batched ONNX graph', () => {
  const withSize = (inputShape: (number | string)[]) =>
    graphModel(
      [{ name: 'x', elem: ELEM.float32, shape: inputShape }],
      [
        { name: 'y', elem: ELEM.float32, shape: inputShape },
        { name: 'count', elem: ELEM.int64, shape: [] },
      ],
      [
        { op: 'Identity', inputs: ['x'], outputs: ['y'] },
        { op: 'Size', inputs: ['x'], outputs: ['count'] },
      ],
    );

  it('leaves a scalar output out, with a note, and serves the rest', async (t) => {
    const harness = await serveModel(t, 'scalar_out', withSize(['N', 2]));
    const metadata = await metadataOf(harness, 'scalar_out');
    assert.equal(metadata.status, 'ready');
    assert.deepEqual(Object.keys(metadata.output_schema?.properties ?? {}), ['y']);
    assert.deepEqual(metadata.notes, ["output 'count' is a scalar, so it cannot be split into one value per record, and was left out"]);

    const response = await harness.app.inject({ method: 'POST', url: '/api/models/scalar_out/predictions', payload: [{ x: [1, 2] }, { x: [3, 4] }] });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), [{ y: [1, 2] }, { y: [3, 4] }]);
  });

  it('keeps a scalar output when the graph is not batched (one record per run)', async (t) => {
    const harness = await serveModel(t, 'scalar_fixed', withSize([1, 2]));
    const metadata = await metadataOf(harness, 'scalar_fixed');
    assert.equal(metadata.status, 'ready');
    assert.deepEqual(Object.keys(metadata.output_schema?.properties ?? {}).sort(), ['count', 'y']);
    const response = await predict(harness, 'scalar_fixed', { x: [[1, 2]] });
    assert.deepEqual(response.json(), { y: [[1, 2]], count: 2 });
  });

  it('fails to load a batched model whose only output is a scalar', async (t) => {
    const model = graphModel(
      [{ name: 'x', elem: ELEM.float32, shape: ['N', 2] }],
      [{ name: 'count', elem: ELEM.int64, shape: [] }],
      [{ op: 'Size', inputs: ['x'], outputs: ['count'] }],
    );
    const harness = await serveModel(t, 'scalar_only', model);
    const metadata = await metadataOf(harness, 'scalar_only');
    assert.equal(metadata.status, 'failed');
    assert.equal(
      metadata.error,
      "the model has no output longshore can serve: output 'count' is a scalar, so it cannot be split into one value per record, and was left out",
    );
  });
});

describe('ONNX session failures with the operator/opset hint', () => {
  const HINT = ' Hint: the model uses an operator or opset this onnxruntime (1.30) does not support; export it with a lower opset.';
  const float = (name: string) => ({ name, elem: ELEM.float32, shape: ['N', 2] });

  it('hints at the operator when onnxruntime has no kernel for a node (Identity on int4)', async (t) => {
    const model = graphModel([{ name: 'x', elem: INT4, shape: ['N', 2] }], [{ name: 'y', elem: INT4, shape: ['N', 2] }], [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }], OPSET_21);
    const harness = await serveModel(t, 'no_kernel', model);
    const metadata = await metadataOf(harness, 'no_kernel');
    assert.equal(metadata.status, 'failed');
    assert.match(metadata.error ?? '', /^onnxruntime could not create a session for .*no_kernel\.onnx: .*Could not find an implementation for Identity\(21\)/);
    assert.ok(metadata.error?.endsWith(HINT), metadata.error);
  });

  it('hints at the opset when the model is stamped with an opset onnxruntime does not know', async (t) => {
    const model = graphModel([float('x')], [float('y')], [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }], 99);
    const harness = await serveModel(t, 'future_opset', model);
    const metadata = await metadataOf(harness, 'future_opset');
    assert.equal(metadata.status, 'failed');
    assert.match(metadata.error ?? '', /Opset 99/);
    assert.ok(metadata.error?.endsWith(HINT), metadata.error);
  });

  it('fails to load a model using an operator that does not exist, naming it, with the operator hint', async (t) => {
    const model = graphModel([float('x')], [float('y')], [{ op: 'NoSuchOp', inputs: ['x'], outputs: ['y'] }]);
    const harness = await serveModel(t, 'no_such_op', model);
    const metadata = await metadataOf(harness, 'no_such_op');
    assert.equal(metadata.status, 'failed');
    assert.match(metadata.error ?? '', /^onnxruntime could not create a session for .*no_such_op\.onnx: .*No Op registered for NoSuchOp/);
    assert.ok(metadata.error?.endsWith(HINT), metadata.error);
  });
});
