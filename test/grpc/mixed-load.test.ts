/**
 * gRPC and REST callers of one batched model share batches: a concurrent burst of one-row requests over gRPC (typed and
 * raw) and V2 REST JSON against iris_logreg with timed batching runs in batches of several requests, and every answer
 * is the answer its own row gets alone.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { batchSizes, FIXTURES, prng, serve, type Served } from '../batching-http/http-harness.ts';
import { assertClose, fp32Bytes, inferClient, outputValues, type InferClient, type InferResponseMessage } from './grpc-helpers.ts';

type Row = number[];

describe('mixed gRPC and REST load on one batched model', () => {
  let served: Served;
  let client: InferClient;

  before(async () => {
    served = await serve(
      'server:\n  grpc_port: 0\nmodels:\n' +
        `  - model_path: ${FIXTURES}iris_logreg.onnx\n    batching: {policy: timed, max_batch_size: 64, max_latency_ms: 30}\n`,
    );
    client = inferClient(served.server.grpcUrl as string);
  });
  after(async () => {
    client.close();
    await served.close();
  });

  const rest = async (row: Row): Promise<number[]> => {
    const response = await fetch(`${served.url}/v2/models/iris_logreg/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: row }], outputs: [{ name: 'probabilities' }] }),
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { outputs: { data: number[] }[] };
    return body.outputs[0]?.data as number[];
  };
  const grpc = async (row: Row, raw: boolean): Promise<number[]> => {
    const input = { name: 'input', datatype: 'FP32', shape: [1, 4], ...(raw ? {} : { contents: { fp32_contents: row } }) };
    const response = await client.call<InferResponseMessage>('ModelInfer', {
      model_name: 'iris_logreg',
      inputs: [input],
      outputs: [{ name: 'probabilities' }],
      raw_input_contents: raw ? [fp32Bytes(row)] : [],
    });
    return outputValues(response, 'probabilities').values;
  };

  it('shares batches between gRPC and REST, every answer matching its own request', async () => {
    const random = prng(17);
    const pick = (low: number, high: number) => Math.round((low + random() * (high - low)) * 10) / 10;
    const rows: Row[] = Array.from({ length: 90 }, () => [pick(4.3, 7.9), pick(2.0, 4.4), pick(1.0, 6.9), pick(0.1, 2.5)]);
    // References: each row alone, one after the other.
    const expected: number[][] = [];
    for (const row of rows) expected.push(await rest(row));
    const before = await batchSizes(served.service, 'iris_logreg');

    const answers = await Promise.all(rows.map((row, i) => (i % 3 === 0 ? rest(row) : grpc(row, i % 3 === 1))));
    answers.forEach((answer, i) => assertClose(answer, expected[i] as number[], `request ${i} (${['rest', 'grpc raw', 'grpc typed'][i % 3]})`));

    const after = await batchSizes(served.service, 'iris_logreg');
    assert.equal(after.sum - before.sum, rows.length, 'every row ran once');
    assert.ok(after.batchesOverOneRow - before.batchesOverOneRow > 0, 'some batches held several one-row requests');
    assert.ok(after.count - before.count < rows.length / 2, `${after.count - before.count} batches for ${rows.length} requests`);
  });

  it('puts a REST and a gRPC request in one model call: a batch that runs only once two rows are in', async () => {
    const waiting = await serve(
      'server:\n  grpc_port: 0\nmodels:\n' +
        `  - model_path: ${FIXTURES}iris_logreg.onnx\n    batching: {policy: timed, max_batch_size: 2, max_latency_ms: 10000}\n`,
    );
    const other = inferClient(waiting.server.grpcUrl as string);
    try {
      const row = [5.1, 3.5, 1.4, 0.2];
      const started = performance.now();
      const restCall = fetch(`${waiting.url}/v2/models/iris_logreg/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: row }] }),
      });
      const grpcCall = other.call<InferResponseMessage>('ModelInfer', { model_name: 'iris_logreg', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: row } }] });
      const [restAnswer] = await Promise.all([restCall, grpcCall]);
      assert.equal(restAnswer.status, 200);
      // Alone, either would wait the full 10 s for a second row: both answered at once means they ran together.
      assert.ok(performance.now() - started < 5000, `answered after ${Math.round(performance.now() - started)} ms`);
      const sizes = await batchSizes(waiting.service, 'iris_logreg');
      assert.deepEqual({ batches: sizes.count, rows: sizes.sum }, { batches: 1, rows: 2 });
    } finally {
      other.close();
      await waiting.close();
    }
  });
});
