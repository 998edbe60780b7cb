/**
 * Batching at the tensor level (src/batching/tensor-batch.ts): which signatures stack, the job key (datatypes and
 * non-batch dims), and the executor: one job passes straight through; several are concatenated along the first
 * dimension, run once with the union of their requested outputs, and split back into each job's rows and outputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stacksAlongFirstDim, tensorExecutor, tensorJob, type TensorJob } from '../../src/batching/tensor-batch.ts';
import type { Tensor, TensorSignature } from '../../src/tensors/tensor.ts';

const SIGNATURE: TensorSignature = {
  platform: 'onnx_onnxv1',
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [-1, 2] },
    { name: 'tag', datatype: 'BYTES', shape: [-1] },
  ],
  outputs: [
    { name: 'sum', datatype: 'FP32', shape: [-1] },
    { name: 'double', datatype: 'FP32', shape: [-1, 2] },
    { name: 'echo', datatype: 'BYTES', shape: [-1] },
  ],
};

function inputs(rows: number[][], tags: string[]): Map<string, Tensor> {
  return new Map<string, Tensor>([
    ['x', { name: 'x', datatype: 'FP32', shape: [rows.length, 2], data: Float32Array.from(rows.flat()) }],
    ['tag', { name: 'tag', datatype: 'BYTES', shape: [tags.length], data: tags }],
  ]);
}

/** A model over SIGNATURE that records each call: sum and double of x's rows, tag echoed; outputs in `fetches` order. */
function fakeModel() {
  const calls: { inputs: ReadonlyMap<string, Tensor>; outputs: readonly string[] }[] = [];
  const infer = async (feeds: ReadonlyMap<string, Tensor>, fetches: readonly string[]): Promise<Tensor[]> => {
    calls.push({ inputs: feeds, outputs: fetches });
    const x = feeds.get('x') as Tensor;
    const data = x.data as Float32Array;
    const rows = x.shape[0] as number;
    const all: Record<string, Tensor> = {
      sum: { name: 'sum', datatype: 'FP32', shape: [rows], data: Float32Array.from({ length: rows }, (_, i) => (data[2 * i] as number) + (data[2 * i + 1] as number)) },
      double: { name: 'double', datatype: 'FP32', shape: [rows, 2], data: data.map((v) => v * 2) },
      echo: { name: 'echo', datatype: 'BYTES', shape: [rows], data: [...((feeds.get('tag') as Tensor).data as string[])] },
    };
    return fetches.map((name) => all[name] as Tensor);
  };
  return { calls, executor: tensorExecutor(infer) };
}

const plain = (tensor: Tensor | undefined) => tensor && { name: tensor.name, shape: tensor.shape, data: Array.from(tensor.data as ArrayLike<unknown>) };

describe('stacksAlongFirstDim', () => {
  it('is true only when every input and output has a dynamic first dim', () => {
    assert.equal(stacksAlongFirstDim(SIGNATURE), true);
    assert.equal(stacksAlongFirstDim({ ...SIGNATURE, outputs: [{ name: 'total', datatype: 'FP32', shape: [1] }] }), false);
    assert.equal(stacksAlongFirstDim({ ...SIGNATURE, inputs: [{ name: 'x', datatype: 'FP32', shape: [] }] }), false);
    assert.equal(stacksAlongFirstDim({ ...SIGNATURE, inputs: [] }), false);
  });
});

describe('tensorJob', () => {
  it("gives the rows of the first input and, without dynamic inner dims, the signature's own key", () => {
    const job = tensorJob(SIGNATURE, inputs([[1, 2], [3, 4]], ['a', 'b']), ['sum']);
    assert.equal(job.rows, 2);
    assert.equal(job.key, 'x:FP32[2];tag:BYTES[];');
    assert.deepEqual(job.outputs, ['sum']);
    assert.equal(tensorJob(SIGNATURE, inputs([[5, 6]], ['c']), ['echo']).key, job.key, 'different rows and outputs, same key: they stack');
  });

  it('keys dynamic inner dims by their actual size, and an absent optional input as absent', () => {
    const signature: TensorSignature = {
      platform: 'p',
      inputs: [
        { name: 'seq', datatype: 'INT64', shape: [-1, -1] },
        { name: 'hint', datatype: 'FP32', shape: [-1], optional: true },
      ],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1] }],
    };
    const seq = (length: number): Tensor => ({ name: 'seq', datatype: 'INT64', shape: [2, length], data: new BigInt64Array(2 * length) });
    const hint: Tensor = { name: 'hint', datatype: 'FP32', shape: [2], data: new Float32Array(2) };
    assert.equal(tensorJob(signature, new Map([['seq', seq(5)]]), ['y']).key, 'seq:INT64[5];hint:absent;');
    assert.equal(tensorJob(signature, new Map([['seq', seq(7)], ['hint', hint]]), ['y']).key, 'seq:INT64[7];hint:FP32[];');
    assert.equal(tensorJob(signature, new Map([['seq', seq(7)]]), ['y']).rows, 2);
  });
});

describe('tensorExecutor', () => {
  it('reads rows and key from the job', () => {
    const { executor } = fakeModel();
    const job = tensorJob(SIGNATURE, inputs([[1, 2]], ['a']), ['sum']);
    assert.equal(executor.rows(job), 1);
    assert.equal(executor.key(job), job.key);
  });

  it('runs a single job as it is: its own inputs and outputs, no copy', async () => {
    const { calls, executor } = fakeModel();
    const job = tensorJob(SIGNATURE, inputs([[1, 2]], ['a']), ['echo', 'sum']);
    const [outputs] = await executor.run([job]);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.inputs, job.inputs);
    assert.deepEqual(calls[0]?.outputs, ['echo', 'sum']);
    assert.deepEqual(outputs?.map(plain), [
      { name: 'echo', shape: [1], data: ['a'] },
      { name: 'sum', shape: [1], data: [3] },
    ]);
  });

  it('concatenates jobs along the first dim, fetches the union of their outputs once, and splits rows and outputs back', async () => {
    const { calls, executor } = fakeModel();
    const jobs: TensorJob[] = [
      tensorJob(SIGNATURE, inputs([[1, 2], [3, 4]], ['a', 'b']), ['sum']),
      tensorJob(SIGNATURE, inputs([[10, 20]], ['日本']), ['echo', 'double']),
      tensorJob(SIGNATURE, inputs([[0.5, 0.5], [1, 1], [2, 2]], ['x', 'y', 'z']), ['sum', 'echo']),
    ];
    const results = await executor.run(jobs);

    assert.equal(calls.length, 1, 'one model call for the batch');
    const feeds = calls[0]?.inputs as ReadonlyMap<string, Tensor>;
    assert.deepEqual(plain(feeds.get('x')), { name: 'x', shape: [6, 2], data: [1, 2, 3, 4, 10, 20, 0.5, 0.5, 1, 1, 2, 2] });
    assert.ok(feeds.get('x')?.data instanceof Float32Array);
    assert.deepEqual(plain(feeds.get('tag')), { name: 'tag', shape: [6], data: ['a', 'b', '日本', 'x', 'y', 'z'] });
    assert.deepEqual(calls[0]?.outputs, ['sum', 'echo', 'double'], 'the union, in first-asked order');

    assert.deepEqual(
      results.map((outputs) => outputs.map(plain)),
      [
        [{ name: 'sum', shape: [2], data: [3, 7] }],
        [
          { name: 'echo', shape: [1], data: ['日本'] },
          { name: 'double', shape: [1, 2], data: [20, 40] },
        ],
        [
          { name: 'sum', shape: [3], data: [1, 2, 4] },
          { name: 'echo', shape: [3], data: ['x', 'y', 'z'] },
        ],
      ],
    );
  });

  it('hands back typed-array outputs as views of the batch output, not copies', async () => {
    const { executor } = fakeModel();
    const results = await executor.run([tensorJob(SIGNATURE, inputs([[1, 2]], ['a']), ['double']), tensorJob(SIGNATURE, inputs([[3, 4]], ['b']), ['double'])]);
    const first = results[0]?.[0]?.data as Float32Array;
    const second = results[1]?.[0]?.data as Float32Array;
    assert.equal(first.buffer, second.buffer);
    assert.deepEqual([first.byteOffset, second.byteOffset], [0, 8]);
  });

  it('gives a job of 0 rows its empty slice of each output', async () => {
    const { executor } = fakeModel();
    const results = await executor.run([tensorJob(SIGNATURE, inputs([], []), ['double', 'echo']), tensorJob(SIGNATURE, inputs([[1, 1]], ['a']), ['double'])]);
    assert.deepEqual(results[0]?.map(plain), [
      { name: 'double', shape: [0, 2], data: [] },
      { name: 'echo', shape: [0], data: [] },
    ]);
    assert.deepEqual(results[1]?.map(plain), [{ name: 'double', shape: [1, 2], data: [2, 2] }]);
  });

  it('refuses to split an output whose rows are not the batch total, naming it', async () => {
    const executor = tensorExecutor(async (_feeds, fetches) => fetches.map((name) => ({ name, datatype: 'FP32', shape: [1], data: new Float32Array(1) }) as Tensor));
    const jobs = [tensorJob(SIGNATURE, inputs([[1, 2]], ['a']), ['sum']), tensorJob(SIGNATURE, inputs([[3, 4]], ['b']), ['sum'])];
    await assert.rejects(executor.run(jobs), { message: "output 'sum' has 1 rows for a batch of 2; it cannot be split per request" });
    const missing = tensorExecutor(async () => []);
    await assert.rejects(missing.run(jobs), { message: "output 'sum' has no rows for a batch of 2; it cannot be split per request" });
  });
});
