/**
 * Record batching of code models over HTTP: concurrent REST and V2 callers of a model with predictBatch are merged into
 * one predictBatch call and each gets exactly its own outputs; a record that makes predictBatch throw fails only its own
 * request (500 InferenceError naming the problem), the others in its batch still get 200, and the model keeps serving.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RecordBatchInput, RecordBatchModel, RecordBatchOutput } from '../fixtures/code-models/record-batch.ts';
import { fixture } from '../helpers/service.ts';
import { assertRestError, assertV2Error, batchSizes, json, postJson, serve, waitFor, type RawAnswer, type Served } from './http-harness.ts';

const CLASS_PATH = fixture('record-batch.ts', 'RecordBatchModel');

/** One request of a burst: its records and how it is sent. */
interface Call {
  protocol: 'rest-one' | 'rest-many' | 'v2';
  records: RecordBatchInput[];
}

function send(served: Served, model: string, call: Call): Promise<RawAnswer> {
  switch (call.protocol) {
    case 'rest-one':
      return postJson(served.url, `/api/models/${model}/prediction`, call.records[0]);
    case 'rest-many':
      return postJson(served.url, `/api/models/${model}/predictions`, call.records);
    case 'v2':
      return postJson(served.url, `/v2/models/${model}/infer`, {
        inputs: [
          { name: 'id', datatype: 'BYTES', shape: [call.records.length], data: call.records.map((r) => r.id) },
          { name: 'n', datatype: 'FP64', shape: [call.records.length], data: call.records.map((r) => r.n) },
        ],
      });
  }
}

/** The outputs of a 200 answer as records, whatever the protocol. */
function outputsOf(call: Call, answer: RawAnswer): RecordBatchOutput[] {
  assert.equal(answer.status, 200, answer.body.toString('utf8'));
  if (call.protocol === 'rest-one') return [json<RecordBatchOutput>(answer)];
  if (call.protocol === 'rest-many') return json<RecordBatchOutput[]>(answer);
  const body = json<{ outputs: { name: string; datatype: string; shape: number[]; data: unknown[] }[] }>(answer);
  assert.deepEqual(body.outputs.map((o) => [o.name, o.datatype, o.shape]), [
    ['id', 'BYTES', [call.records.length]],
    ['square', 'FP64', [call.records.length]],
    ['batch_rows', 'INT64', [call.records.length]],
  ]);
  const column = (name: string) => body.outputs.find((o) => o.name === name)?.data as unknown[];
  return call.records.map((_, row) => ({ id: column('id')[row] as string, square: column('square')[row] as number, batch_rows: column('batch_rows')[row] as number }));
}

/** Each caller got exactly its own rows: its ids in order, each squared. */
function assertOwnOutputs(call: Call, answer: RawAnswer, where: string): RecordBatchOutput[] {
  const outputs = outputsOf(call, answer);
  assert.deepEqual(
    outputs.map(({ id, square }) => ({ id, square })),
    call.records.map(({ id, n }) => ({ id, square: n * n })),
    where,
  );
  return outputs;
}

/** A burst of `count` calls with distinct ids, cycling REST one, REST many (2-3 records) and V2 (1-2 rows). */
function burst(prefix: string, count: number, first = 1): Call[] {
  let n = first;
  const records = (k: number) => Array.from({ length: k }, () => ({ id: `${prefix}-${n}`, n: n++ }));
  return Array.from({ length: count }, (_, i): Call => {
    if (i % 3 === 0) return { protocol: 'rest-one', records: records(1) };
    if (i % 3 === 1) return { protocol: 'rest-many', records: records(2 + (i % 2)) };
    return { protocol: 'v2', records: records(1 + (i % 2)) };
  });
}

const rowsOf = (calls: readonly Call[]) => calls.reduce((sum, call) => sum + call.records.length, 0);

describe('code models with predictBatch share batches over HTTP', () => {
  let served: Served;
  const model = (name: string) => served.registry.require(name).model as unknown as RecordBatchModel;

  before(async () => {
    served = await serve(
      `models:\n` +
        `  - class_path: ${CLASS_PATH}\n    qualified_name: merged_timed\n    batching: {policy: timed, max_batch_size: 64, max_latency_ms: 300}\n` +
        `  - class_path: ${CLASS_PATH}\n    qualified_name: merged_eager\n    batching: {policy: eager, max_batch_size: 64}\n` +
        `  - class_path: ${CLASS_PATH}\n    qualified_name: poisoned\n    batching: {policy: eager}\n    configuration: {poison: 13}\n`,
    );
  });
  after(() => served.close());

  it('policy timed: a concurrent REST/V2 burst becomes one predictBatch call and each caller gets only its own records', async () => {
    const calls = burst('t', 9);
    const answers = await Promise.all(calls.map((call) => send(served, 'merged_timed', call)));
    const total = rowsOf(calls);
    answers.forEach((answer, i) => {
      const outputs = assertOwnOutputs(calls[i] as Call, answer, `request ${i}`);
      for (const output of outputs) assert.equal(output.batch_rows, total, `request ${i} ran in the one merged batch`);
    });
    // The model saw one batch holding every record of every caller, in arrival order per caller.
    assert.deepEqual(model('merged_timed').batchSizes, [total]);
    assert.deepEqual([...(model('merged_timed').batches[0] as string[])].sort(), calls.flatMap((c) => c.records.map((r) => r.id)).sort());
    assert.equal(model('merged_timed').predictCalls, 0, 'predict() is never called: single predictions go through predictBatch too');
    assert.deepEqual(await batchSizes(served.service, 'merged_timed'), { count: 1, sum: total, batchesOverOneRow: 1 });
  });

  it('policy eager: requests queued while a batch runs are merged into the next predictBatch call', async () => {
    const eager = model('merged_eager');
    // Hold the model busy for 300 ms; max_concurrency is 1 when batching, so the burst queues behind it.
    const blocker = postJson(served.url, '/api/models/merged_eager/prediction', { id: 'blocker', n: 2, delay_ms: 300 });
    await waitFor(() => eager.batches.length === 1, 2000, 'the blocker to start');
    const calls = burst('e', 9);
    const answers = await Promise.all(calls.map((call) => send(served, 'merged_eager', call)));
    assert.deepEqual(json(await blocker), { id: 'blocker', square: 4, batch_rows: 1 });
    const total = rowsOf(calls);
    answers.forEach((answer, i) => {
      const outputs = assertOwnOutputs(calls[i] as Call, answer, `request ${i}`);
      for (const output of outputs) assert.equal(output.batch_rows, total, `request ${i} ran in the merged batch`);
    });
    assert.deepEqual(eager.batchSizes, [1, total]);
    assert.equal(eager.predictCalls, 0);
  });

  it('a record that makes predictBatch throw fails only its own request with 500 InferenceError; batch-mates get 200', async () => {
    const poisoned = model('poisoned');
    const blocker = postJson(served.url, '/api/models/poisoned/prediction', { id: 'blocker', n: 3, delay_ms: 300 });
    await waitFor(() => poisoned.batches.length === 1, 2000, 'the blocker to start');
    const calls = burst('p', 9, 100);
    // Poison one REST /prediction and one V2 request (n = 13); everything else is healthy.
    calls[3] = { protocol: 'rest-one', records: [{ id: 'bad-rest', n: 13 }] };
    calls[5] = { protocol: 'v2', records: [{ id: 'bad-v2', n: 13 }] };
    const answers = await Promise.all(calls.map((call) => send(served, 'poisoned', call)));
    assert.equal((await blocker).status, 200);

    assertRestError(answers[3] as RawAnswer, 500, 'InferenceError', /^model 'poisoned' failed to predict: record 'bad-rest' has the poison value n=13$/);
    assertV2Error(answers[5] as RawAnswer, 500, /^model 'poisoned' failed to predict: record 'bad-v2' has the poison value n=13$/);
    answers.forEach((answer, i) => {
      if (i === 3 || i === 5) return;
      assertOwnOutputs(calls[i] as Call, answer, `healthy request ${i}`);
    });
    // The poisoned records were in a merged batch that failed (batch 2: every queued caller), then each job ran alone.
    const merged = poisoned.batches[1] as string[];
    assert.equal(merged.length, rowsOf(calls), 'the burst was merged into one batch');
    assert.ok(merged.includes('bad-rest') && merged.includes('bad-v2'));
    assert.deepEqual(
      poisoned.batches.slice(2).map((batch) => batch.join(',')),
      calls.map((call) => call.records.map((r) => r.id).join(',')),
      'after the failure, every caller ran alone, in queue order',
    );

    // The model keeps serving.
    const next = await postJson(served.url, '/api/models/poisoned/predictions', [{ id: 'after-1', n: 4 }, { id: 'after-2', n: 5 }]);
    assert.equal(next.status, 200);
    assert.deepEqual(json(next), [
      { id: 'after-1', square: 16, batch_rows: 2 },
      { id: 'after-2', square: 25, batch_rows: 2 },
    ]);
  });

  it('a /predictions request holding a poisoned record fails as a whole, alone, while a concurrent healthy one succeeds', async () => {
    const poisoned = model('poisoned');
    const seenBefore = poisoned.batches.length;
    const blocker = postJson(served.url, '/api/models/poisoned/prediction', { id: 'blocker2', n: 3, delay_ms: 200 });
    await waitFor(() => poisoned.batches.length === seenBefore + 1, 2000, 'the blocker to start');
    const [bad, good] = await Promise.all([
      postJson(served.url, '/api/models/poisoned/predictions', [{ id: 'ok-in-bad', n: 1 }, { id: 'bad-many', n: 13 }]),
      postJson(served.url, '/api/models/poisoned/predictions', [{ id: 'good-1', n: 6 }, { id: 'good-2', n: 7 }]),
    ]);
    assert.equal((await blocker).status, 200);
    assertRestError(bad, 500, 'InferenceError', /record 'bad-many' has the poison value n=13/);
    assert.deepEqual(json<RecordBatchOutput[]>(good).map(({ id, square }) => ({ id, square })), [
      { id: 'good-1', square: 36 },
      { id: 'good-2', square: 49 },
    ]);
  });
});
