/**
 * Per-request timing (docs/timing.md) over real servers serving iris_logreg.onnx: no Server-Timing by default; with
 * `x-longshore-timing: 1` on REST prediction/predictions and V2 infer (JSON and binary), in the agreed order, parts no
 * larger than the total; on every prediction answer with `server.timing_headers: true` (and on no other route); the
 * batch's size is its rows (5 records with batching off; concurrent requests with eager batching share a batch id, and
 * each id's size is the rows of the answers naming it); queue and model agree with the queue and inference metrics for
 * a lone request; the prediction log record carries the same figures.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, json, postJson, request, serve, waitFor, type RawAnswer, type Served } from '../batching-http/http-harness.ts';
import { readRecords, yamlOf, type LogRecord } from '../monitoring/monitoring-harness.ts';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
after(() => agent.destroy());

const ASK = { 'x-longshore-timing': '1' };
const ROWS: number[][] = [
  [5.1, 3.5, 1.4, 0.2],
  [7.0, 3.2, 4.7, 1.4],
  [6.3, 3.3, 6.0, 2.5],
  [5.0, 3.0, 1.6, 0.2],
  [7.2, 3.2, 6.0, 1.8],
];
const record = (i: number) => ({ input: ROWS[i % ROWS.length] });

/** A Server-Timing value, parsed: names in order, `dur` by name, the batch's id and size. */
interface Parsed {
  names: string[];
  dur: Record<string, number>;
  batch?: { id: number; size: number };
}

function parseServerTiming(answer: RawAnswer): Parsed {
  const value = answer.headers['server-timing'];
  assert.equal(typeof value, 'string', `Server-Timing present (status ${answer.status}: ${answer.body.toString('utf8').slice(0, 200)})`);
  const parsed: Parsed = { names: [], dur: {} };
  for (const entry of (value as string).split(', ')) {
    const [name = '', parameter = ''] = entry.split(';');
    parsed.names.push(name);
    const dur = /^dur=(\d+(?:\.\d{1,3})?)$/.exec(parameter);
    if (dur) parsed.dur[name] = Number(dur[1]);
    const batch = /^desc="id=(\d+) size=(\d+)"$/.exec(parameter);
    if (batch) parsed.batch = { id: Number(batch[1]), size: Number(batch[2]) };
    assert.ok(dur || batch, `entry ${entry} is name;dur=ms (3 decimals at most) or batch;desc="id=… size=…"`);
  }
  return parsed;
}

/** Every entry of a served request, in the agreed order, each part no larger than the total. */
function assertComplete(parsed: Parsed): void {
  assert.deepEqual(parsed.names, ['decode', 'queue', 'model', 'encode', 'batch', 'total']);
  const total = parsed.dur.total as number;
  for (const part of ['decode', 'queue', 'model', 'encode']) assert.ok((parsed.dur[part] as number) <= total, `${part} ${parsed.dur[part]} ≤ total ${total}`);
  const sum = ['decode', 'queue', 'model', 'encode'].reduce((acc, part) => acc + (parsed.dur[part] as number), 0);
  assert.ok(sum <= total + 0.005, `decode + queue + model + encode (${sum}) ≤ total ${total}`);
}

function v2Body(rows: number[][]) {
  return { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], data: rows.flat() }] };
}

/** A V2 binary request of FP32 rows: the JSON header, then the tensor's bytes. */
function v2Binary(rows: number[][]): { body: Buffer; headers: Record<string, string> } {
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [rows.length, 4], parameters: { binary_data_size: rows.length * 16 } }] }));
  const data = Buffer.from(new Float32Array(rows.flat()).buffer);
  return { body: Buffer.concat([header, data]), headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length), ...ASK } };
}

async function histogramSum(served: Served, name: string, model: string): Promise<number> {
  const metric = served.service.metrics.registry.getSingleMetric(name);
  assert.ok(metric, `${name} registered`);
  const values = (await metric.get()).values as { labels: Record<string, string | number>; value: number; metricName?: string }[];
  return values.find((v) => v.metricName === `${name}_sum` && v.labels.model === model)?.value ?? 0;
}

describe('Server-Timing on request (x-longshore-timing: 1)', () => {
  let served: Served;
  before(async () => {
    served = await serve(
      yamlOf({
        monitoring: { enabled: true, sample_every: 1, batch_size: 1, flush_interval_ms: 20, destination: { type: 'file', path: 'predictions.jsonl' } },
        models: [
          { model_path: join(FIXTURES, 'iris_logreg.onnx'), qualified_name: 'iris', batching: { policy: 'eager' } },
          { model_path: join(FIXTURES, 'iris_logreg.onnx'), qualified_name: 'iris_off', batching: { policy: 'off' } },
        ],
      }),
    );
  });
  after(() => served?.close());

  it('is absent by default, on REST and V2', async () => {
    const answers = [
      await postJson(served.url, '/api/models/iris/prediction', record(0), {}, agent),
      await postJson(served.url, '/api/models/iris/predictions', [record(0), record(1)], {}, agent),
      await postJson(served.url, '/v2/models/iris/infer', v2Body(ROWS), {}, agent),
      await postJson(served.url, '/api/models/iris/prediction', record(0), { 'x-longshore-timing': '0' }, agent),
    ];
    for (const answer of answers) {
      assert.equal(answer.status, 200, answer.body.toString('utf8'));
      assert.equal(answer.headers['server-timing'], undefined);
    }
  });

  it('is on REST prediction and predictions (versioned routes too) and V2 infer, JSON and binary, with parts ≤ total', async () => {
    const version = served.registry.get('iris')?.version as string;
    const rest = [
      await postJson(served.url, '/api/models/iris/prediction', record(0), ASK, agent),
      await postJson(served.url, `/api/models/iris/versions/${version}/prediction`, record(1), ASK, agent),
      await postJson(served.url, '/api/models/iris/predictions', [record(0), record(1), record(2)], ASK, agent),
    ];
    const untimed = json(await postJson(served.url, '/api/models/iris/predictions', [record(0), record(1), record(2)], {}, agent));
    assert.deepEqual(json(rest[2] as RawAnswer), untimed, 'a timed answer is the same JSON as an untimed one');
    assert.match(String((rest[0] as RawAnswer).headers['content-type']), /^application\/json/);
    const binary = v2Binary(ROWS.slice(0, 2));
    const v2 = [
      await postJson(served.url, '/v2/models/iris/infer', v2Body(ROWS), ASK, agent),
      await request(served.url, { path: '/v2/models/iris/infer', body: binary.body, headers: binary.headers, agent }),
    ];
    for (const answer of [...rest, ...v2]) {
      assert.equal(answer.status, 200, answer.body.toString('utf8'));
      assertComplete(parseServerTiming(answer));
    }
    assert.equal(parseServerTiming(v2[0] as RawAnswer).batch?.size, 5);
  });

  it('names the batch: /predictions of 5 records with batching off is a batch of 5', async () => {
    const answer = await postJson(served.url, '/api/models/iris_off/predictions', ROWS.map((_, i) => record(i)), ASK, agent);
    assert.equal(answer.status, 200);
    const first = parseServerTiming(answer);
    assert.equal(first.batch?.size, 5);
    const next = parseServerTiming(await postJson(served.url, '/api/models/iris_off/prediction', record(0), ASK, agent));
    assert.equal(next.batch?.size, 1);
    assert.equal(next.batch?.id, (first.batch?.id as number) + 1, 'the id counts the model\'s batches');
  });

  it('concurrent requests with eager batching share a batch: same id, and its size is the rows of its answers', async () => {
    let shared = false;
    for (let round = 0; round < 5 && !shared; round++) {
      const sizes = [1, 2, 1, 3, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1];
      const answers = await Promise.all(
        sizes.map((rows, i) =>
          rows === 1
            ? postJson(served.url, '/api/models/iris/prediction', record(i), ASK, agent)
            : postJson(served.url, '/v2/models/iris/infer', v2Body(ROWS.slice(0, rows)), ASK, agent),
        ),
      );
      const byId = new Map<number, { size: number; rows: number; answers: number }>();
      answers.forEach((answer, i) => {
        assert.equal(answer.status, 200);
        const { batch } = parseServerTiming(answer);
        assert.ok(batch);
        const seen = byId.get(batch.id) ?? { size: batch.size, rows: 0, answers: 0 };
        assert.equal(seen.size, batch.size, `every answer of batch ${batch.id} gives one size`);
        seen.rows += sizes[i] as number;
        seen.answers++;
        byId.set(batch.id, seen);
      });
      for (const [id, seen] of byId) assert.equal(seen.size, seen.rows, `batch ${id}: size is the rows of the ${seen.answers} answers in it`);
      shared = [...byId.values()].some((seen) => seen.answers >= 2 && seen.size > 1);
    }
    assert.ok(shared, 'two answers named the same batch of more than one row');
  });

  it('agrees with the queue and inference metrics for a lone request', async () => {
    const close = (header: number, metricMs: number) => Math.abs(header - metricMs) <= Math.max(1, 0.2 * metricMs);
    let agreed = 0;
    const misses: string[] = [];
    for (let i = 0; i < 5; i++) {
      const queueBefore = await histogramSum(served, 'longshore_queue_duration_seconds', 'iris');
      const modelBefore = await histogramSum(served, 'longshore_inference_duration_seconds', 'iris');
      const parsed = parseServerTiming(await postJson(served.url, '/api/models/iris/prediction', record(i), ASK, agent));
      const queueMs = ((await histogramSum(served, 'longshore_queue_duration_seconds', 'iris')) - queueBefore) * 1000;
      const modelMs = ((await histogramSum(served, 'longshore_inference_duration_seconds', 'iris')) - modelBefore) * 1000;
      if (close(parsed.dur.queue as number, queueMs) && close(parsed.dur.model as number, modelMs)) agreed++;
      else misses.push(`header queue ${parsed.dur.queue} model ${parsed.dur.model}, metrics queue ${queueMs.toFixed(3)} model ${modelMs.toFixed(3)}`);
    }
    // A loaded machine may stall one request between the batch's end and the metric's observation.
    assert.ok(agreed >= 4, `header and metrics agree (within 1 ms or 20%) for at least 4 of 5 lone requests: ${misses.join('; ')}`);
  });

  it('answers an error with what was measured (a 400 before the queue: total only)', async () => {
    const answer = await postJson(served.url, '/api/models/iris/prediction', { input: 'nope' }, ASK, agent);
    assert.equal(answer.status, 400);
    assert.deepEqual(parseServerTiming(answer).names, ['total']);
    const v2 = await postJson(served.url, '/v2/models/iris/infer', { inputs: [] }, ASK, agent);
    assert.equal(v2.status, 400);
    assert.deepEqual(parseServerTiming(v2).names.at(-1), 'total');
  });

  it('puts the same figures on the prediction log record (timing only when the request was timed)', async () => {
    const timed = await postJson(served.url, '/api/models/iris/prediction', record(3), ASK, agent);
    const untimed = await postJson(served.url, '/api/models/iris/prediction', record(3), {}, agent);
    const v2 = await postJson(served.url, '/v2/models/iris/infer', v2Body(ROWS.slice(0, 2)), ASK, agent);
    const ids = [timed, untimed, v2].map((answer) => answer.headers['x-request-id'] as string);
    const path = join(served.dir, 'predictions.jsonl');
    let records: Map<string, LogRecord & { timing?: Record<string, number> }> = new Map();
    await waitFor(
      () => {
        records = new Map(readRecords(path).map((r) => [r.request_id as string, r]));
        return ids.every((id) => records.has(id));
      },
      5000,
      'the three records',
    );
    for (const [answer, id] of [[timed, ids[0]], [v2, ids[2]]] as const) {
      const header = parseServerTiming(answer);
      const timing = records.get(id as string)?.timing;
      assert.deepEqual(timing, {
        decode_ms: header.dur.decode,
        queue_ms: header.dur.queue,
        model_ms: header.dur.model,
        batch_id: header.batch?.id,
        batch_size: header.batch?.size,
      });
    }
    assert.equal(records.get(ids[1] as string)?.timing, undefined);
  });
});

describe('server.timing_headers: true', () => {
  let served: Served;
  before(async () => {
    served = await serve(yamlOf({ server: { timing_headers: true }, models: [{ model_path: join(FIXTURES, 'iris_logreg.onnx'), qualified_name: 'iris' }] }));
  });
  after(() => served?.close());

  it('sends Server-Timing on every prediction and infer answer, unasked, and on no other route', async () => {
    const answers = await Promise.all([
      postJson(served.url, '/api/models/iris/prediction', record(0), {}, agent),
      postJson(served.url, '/api/models/iris/predictions', [record(0), record(1)], {}, agent),
      postJson(served.url, '/v2/models/iris/infer', v2Body(ROWS), {}, agent),
      postJson(served.url, '/api/models/iris/prediction', record(2), { 'x-longshore-timing': '0' }, agent),
    ]);
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      assertComplete(parseServerTiming(answer));
    }
    const metadata = await request(served.url, { method: 'GET', path: '/api/models/iris/metadata', agent });
    assert.equal(metadata.status, 200);
    assert.equal(metadata.headers['server-timing'], undefined);
  });
});
