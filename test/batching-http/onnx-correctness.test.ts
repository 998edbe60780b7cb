/**
 * Batching must not change answers. Against one real server serving iris_logreg three times (policy off, eager and
 * timed), a concurrent burst mixing every protocol — REST /prediction and /predictions, V2 JSON and V2 binary through the
 * typed client, one to several rows each, V2 callers asking for different outputs — gets, request by request, exactly
 * the answers the same requests get one at a time with batching off. The metrics prove the batches really merged.
 * Also: REST and V2 callers share one session.run; requests whose inner dimension differs are run in compatible groups.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InferOptions, InferResponse } from '../../src/client/index.ts';
import { identityModel } from '../fixtures/onnx/build-model.ts';
import { readFixture } from '../runtimes/onnx-harness.ts';
import { assertClose, batchSizes, FIXTURES, prng, recordRuns, serve, type Served } from './http-harness.ts';

type Row = readonly [number, number, number, number];

interface IrisRecord {
  label: number;
  probabilities: number[];
}

/** One request of the burst; `rows` are its own input rows. */
type Call =
  | { kind: 'rest-one'; rows: Row[] }
  | { kind: 'rest-many'; rows: Row[] }
  | { kind: 'v2'; rows: Row[]; outputs: string[] | undefined; options: InferOptions };

/** What a request got back, in a form that can be compared between two servers. */
type Answer =
  | { kind: 'rest'; records: IrisRecord[] }
  | { kind: 'v2'; outputs: { name: string; datatype: string; shape: number[]; data: (number | bigint)[] }[] };

/** The five rows of the reference fixture, then iris-like rows over the whole range (one decimal, as measured). */
function irisRows(count: number): Row[] {
  const fixture = readFixture('iris_logreg');
  const data = fixture.inputs.input?.data as number[];
  const rows: Row[] = [];
  for (let i = 0; i < data.length; i += 4) rows.push(data.slice(i, i + 4) as unknown as Row);
  const random = prng(7);
  const pick = (low: number, high: number) => Math.round((low + random() * (high - low)) * 10) / 10;
  while (rows.length < count) rows.push([pick(4.3, 7.9), pick(2.0, 4.4), pick(1.0, 6.9), pick(0.1, 2.5)]);
  return rows;
}

const OUTPUT_CHOICES: (string[] | undefined)[] = [['label'], ['probabilities'], ['probabilities', 'label'], undefined];
const V2_FORMS: InferOptions[] = [{}, { binary: true, binaryOutputs: true }, { binary: true }, { binaryOutputs: true }];

/** A mixed burst: every protocol, 1 to 4 rows, V2 calls cycling through output choices and JSON/binary forms. */
function burst(rows: readonly Row[]): Call[] {
  const calls: Call[] = [];
  let next = 0;
  let v2 = 0;
  const take = (count: number) => {
    const mine = rows.slice(next, next + count);
    next += count;
    return [...mine];
  };
  for (let i = 0; next < rows.length; i++) {
    const round = Math.floor(i / 4);
    switch (i % 4) {
      case 0:
        calls.push({ kind: 'rest-one', rows: take(1) });
        break;
      case 1:
        calls.push({ kind: 'rest-many', rows: take(2 + (round % 3)) });
        break;
      default:
        // Every output choice in every JSON/binary form, over the first 16 V2 calls.
        calls.push({
          kind: 'v2',
          rows: take(1 + ((i + round) % 4)),
          outputs: OUTPUT_CHOICES[v2 % OUTPUT_CHOICES.length],
          options: V2_FORMS[Math.floor(v2 / OUTPUT_CHOICES.length) % V2_FORMS.length] as InferOptions,
        });
        v2++;
    }
  }
  return calls.filter((call) => call.rows.length > 0);
}

async function send(served: Served, model: string, call: Call): Promise<Answer> {
  const { client } = served;
  switch (call.kind) {
    case 'rest-one':
      return { kind: 'rest', records: [await client.predict<IrisRecord>(model, { input: call.rows[0] })] };
    case 'rest-many':
      return { kind: 'rest', records: await client.predictBatch<IrisRecord>(model, call.rows.map((input) => ({ input }))) };
    case 'v2': {
      const response: InferResponse = await client.infer(
        model,
        {
          inputs: [{ name: 'input', datatype: 'FP32', shape: [call.rows.length, 4], data: new Float32Array(call.rows.flat()) }],
          ...(call.outputs ? { outputs: call.outputs } : {}),
        },
        call.options,
      );
      return {
        kind: 'v2',
        outputs: response.outputs.map((output) => ({
          name: output.name,
          datatype: output.datatype,
          shape: [...output.shape],
          data: Array.from(output.data as ArrayLike<number | bigint>),
        })),
      };
    }
  }
}

/** Exactly for labels, names, datatypes and shapes; within the float tolerance for probabilities. */
function assertSameAnswer(actual: Answer, expected: Answer, where: string): void {
  assert.equal(actual.kind, expected.kind, where);
  if (actual.kind === 'rest' && expected.kind === 'rest') {
    assert.equal(actual.records.length, expected.records.length, `${where}: record count`);
    actual.records.forEach((record, i) => {
      const reference = expected.records[i] as IrisRecord;
      assert.deepEqual(Object.keys(record), ['label', 'probabilities'], `${where}/${i}: keys`);
      assert.equal(record.label, reference.label, `${where}/${i}: label`);
      assertClose(record.probabilities, reference.probabilities, `${where}/${i}/probabilities`);
    });
    return;
  }
  if (actual.kind !== 'v2' || expected.kind !== 'v2') return;
  assert.deepEqual(
    actual.outputs.map((o) => [o.name, o.datatype, o.shape]),
    expected.outputs.map((o) => [o.name, o.datatype, o.shape]),
    `${where}: output names, datatypes and shapes`,
  );
  actual.outputs.forEach((output, i) => {
    const reference = expected.outputs[i] as (typeof expected.outputs)[number];
    if (output.datatype === 'INT64') assert.deepEqual(output.data, reference.data, `${where}/${output.name}`);
    else assertClose(output.data as number[], reference.data as number[], `${where}/${output.name}`);
  });
}

function rowsOf(calls: readonly Call[]): number {
  return calls.reduce((sum, call) => sum + call.rows.length, 0);
}

describe('batched answers are identical to unbatched ones, over HTTP', () => {
  let served: Served;
  const calls = burst(irisRows(120));
  let reference: Answer[];

  before(async () => {
    const entry = (name: string, batching: string) => `  - model_path: ${FIXTURES}iris_logreg.onnx\n    qualified_name: ${name}\n    batching: ${batching}\n`;
    served = await serve(
      'models:\n' +
        entry('iris_off', '{policy: off}') +
        entry('iris_eager', '{policy: eager, max_batch_size: 64, max_latency_ms: 2}') +
        entry('iris_timed', '{policy: timed, max_batch_size: 64, max_latency_ms: 2}') +
        entry('iris_shared', '{policy: timed, max_batch_size: 4, max_latency_ms: 10000}'),
    );
    // The reference: every request alone, one after the other, with batching off.
    reference = [];
    for (const call of calls) reference.push(await send(served, 'iris_off', call));
  });
  after(() => served.close());

  it('the burst covers every protocol, several rows per request, and different V2 output choices', () => {
    const kinds = new Set(calls.map((call) => (call.kind === 'v2' ? `v2 ${JSON.stringify(call.outputs)} ${JSON.stringify(call.options)}` : call.kind)));
    assert.ok(kinds.has('rest-one') && kinds.has('rest-many'));
    for (const outputs of OUTPUT_CHOICES) {
      assert.ok(calls.some((call) => call.kind === 'v2' && call.options.binary && JSON.stringify(call.outputs) === JSON.stringify(outputs)), `binary V2 with ${JSON.stringify(outputs)}`);
      assert.ok(calls.some((call) => call.kind === 'v2' && !call.options.binary && JSON.stringify(call.outputs) === JSON.stringify(outputs)), `JSON V2 with ${JSON.stringify(outputs)}`);
    }
    assert.ok(calls.some((call) => call.rows.length >= 3));
    assert.ok(calls.length >= 40, `${calls.length} requests`);
  });

  it('the unbatched reference matches the fixture outputs of iris_logreg', () => {
    const fixture = readFixture('iris_logreg');
    // The first request is REST /prediction of fixture row 0, the second /predictions of rows 1-2.
    const [first, second] = reference as [Answer, Answer];
    assert.ok(first.kind === 'rest' && second.kind === 'rest');
    const records = [...first.records, ...second.records];
    const labels = fixture.outputs.label?.data as number[];
    const probabilities = fixture.outputs.probabilities?.data as number[];
    records.forEach((record, row) => {
      assert.equal(record.label, labels[row], `row ${row} label`);
      assertClose(record.probabilities, probabilities.slice(row * 3, row * 3 + 3), `row ${row} probabilities`);
    });
  });

  for (const policy of ['eager', 'timed'] as const) {
    it(`policy ${policy}: a concurrent mixed REST/V2 burst gets per-request answers identical to policy off, in fewer, merged batches`, async (t) => {
      const model = `iris_${policy}`;
      const before = await batchSizes(served.service, model);
      const answers = await Promise.all(calls.map((call) => send(served, model, call)));
      answers.forEach((answer, i) => assertSameAnswer(answer, reference[i] as Answer, `request ${i} (${calls[i]?.kind})`));
      const after = await batchSizes(served.service, model);
      const batches = after.count - before.count;
      t.diagnostic(`${calls.length} requests (${rowsOf(calls)} rows) ran in ${batches} batches`);
      // Every row ran exactly once, and fewer model calls than requests ran: requests were merged.
      assert.equal(after.sum - before.sum, rowsOf(calls), 'rows run');
      assert.ok(batches < calls.length, `${batches} batches for ${calls.length} concurrent requests: nothing was merged`);
      assert.ok(after.batchesOverOneRow - before.batchesOverOneRow >= 1);
      const queue = served.registry.require(model).queue;
      assert.deepEqual({ queuedRows: queue?.queuedRows, running: queue?.running }, { queuedRows: 0, running: 0 });
    });
  }

  it('REST and V2 callers share one session.run, each getting only its own rows and outputs', async () => {
    // iris_shared: timed with max_batch_size 4 and a long max_latency_ms, so the batch runs when its 4th row arrives.
    const shared: Call[] = [
      { kind: 'rest-one', rows: calls[0]?.rows as Row[] },
      { kind: 'rest-many', rows: [(calls[1] as Call).rows[0] as Row] },
      { kind: 'v2', rows: [(calls[2] as Call).rows[0] as Row], outputs: ['label'], options: {} },
      { kind: 'v2', rows: [(calls[3] as Call).rows[0] as Row], outputs: ['probabilities'], options: { binary: true, binaryOutputs: true } },
    ];
    const expected: Answer[] = [];
    for (const call of shared) expected.push(await send(served, 'iris_off', call));
    const runs = recordRuns();
    let answers: Answer[];
    try {
      answers = await Promise.all(shared.map((call) => send(served, 'iris_shared', call)));
    } finally {
      runs.restore();
    }
    assert.deepEqual(runs.runs.map((run) => run.feeds), [{ input: [4, 4] }], 'one run of 4 rows');
    answers.forEach((answer, i) => assertSameAnswer(answer, expected[i] as Answer, `shared request ${i}`));
    const v2Label = answers[2] as Extract<Answer, { kind: 'v2' }>;
    const v2Probabilities = answers[3] as Extract<Answer, { kind: 'v2' }>;
    assert.deepEqual(v2Label.outputs.map((o) => [o.name, o.shape]), [['label', [1]]]);
    assert.deepEqual(v2Probabilities.outputs.map((o) => [o.name, o.shape]), [['probabilities', [1, 3]]]);
    assert.deepEqual(await batchSizes(served.service, 'iris_shared'), { count: 1, sum: 4, batchesOverOneRow: 1 });
  });
});

describe('mixed shapes over HTTP', () => {
  it('concurrent V2 and REST requests with different inner dims run in compatible groups, each answered with its own data', async (t) => {
    const model = identityModel([{ name: 'x', type: 'float32', shape: ['N', 'L'] }], [{ name: 'y', type: 'float32', shape: ['N', 'L'] }]);
    // timed with a long latency: every request is queued before the first group runs, so the grouping is exact.
    const served = await serve(`models:\n  - model_path: ./ragged.onnx\n    batching: {policy: timed, max_batch_size: 64, max_latency_ms: 400}\n`, {
      'ragged.onnx': model,
    });
    t.after(() => served.close());
    const lengths = [2, 3, 5, 3, 2, 5, 5, 2, 3, 2, 3, 5, 2, 3, 5];
    // Every fourth request is REST (/prediction for one row, /predictions for more); the others V2, JSON or binary.
    const requests = lengths.map((length, i) => {
      const rows = 1 + (i % 3);
      return { length, rows, rest: i % 4 === 3, data: Float32Array.from({ length: rows * length }, (_, j) => i * 100 + j + 0.5) };
    });
    assert.ok(requests.some((r) => r.rest && r.rows === 1) && requests.some((r) => r.rest && r.rows > 1));
    const rowsOfRequest = (request: (typeof requests)[number]) =>
      Array.from({ length: request.rows }, (_, r) => Array.from(request.data.subarray(r * request.length, (r + 1) * request.length)));
    const runs = recordRuns();
    let answers: { shape: number[]; data: number[] }[];
    try {
      answers = await Promise.all(
        requests.map(async (request, i) => {
          if (request.rest && request.rows === 1) {
            const { y } = await served.client.predict<{ y: number[] }>('ragged', { x: rowsOfRequest(request)[0] });
            return { shape: [1, y.length], data: y };
          }
          if (request.rest) {
            const records = await served.client.predictBatch<{ y: number[] }>('ragged', rowsOfRequest(request).map((x) => ({ x })));
            return { shape: [records.length, records[0]?.y.length ?? 0], data: records.flatMap((record) => record.y) };
          }
          const response = await served.client.infer(
            'ragged',
            { inputs: [{ name: 'x', datatype: 'FP32', shape: [request.rows, request.length], data: request.data }] },
            i % 2 ? { binary: true, binaryOutputs: true } : {},
          );
          const y = response.output('y', 'FP32');
          return { shape: [...y.shape], data: Array.from(y.data) };
        }),
      );
    } finally {
      runs.restore();
    }
    answers.forEach((answer, i) => {
      const request = requests[i] as (typeof requests)[number];
      assert.deepEqual(answer.shape, [request.rows, request.length], `request ${i} shape`);
      assert.deepEqual(answer.data, Array.from(request.data), `request ${i} data`);
    });
    // One run per inner length, holding every row of that length, REST and V2 alike.
    const rowsByLength = new Map<number, number>();
    for (const request of requests) rowsByLength.set(request.length, (rowsByLength.get(request.length) ?? 0) + request.rows);
    const ran = runs.runs.map((run) => run.feeds.x as readonly number[]);
    assert.deepEqual(
      [...ran].sort((a, b) => (a[1] as number) - (b[1] as number)),
      [...rowsByLength].sort(([a], [b]) => a - b).map(([length, rows]) => [rows, length]),
      'one run per inner dimension L with all its rows',
    );
    assert.deepEqual(await batchSizes(served.service, 'ragged'), { count: 3, sum: requests.reduce((s, r) => s + r.rows, 0), batchesOverOneRow: 3 });
  });
});
