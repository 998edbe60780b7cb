/**
 * Overload, bounded: 2,000 requests at concurrency 256 (node:http, an Agent with maxSockets 256) against a real server
 * serving mlp_heavy.onnx with a small queue (32 rows), small batches (16 rows) and a short deadline. Every request is
 * answered exactly once, with 200, 503 QueueFullError (Retry-After) or 504 DeadlineExceededError only; every 200 holds
 * exactly the caller's own rows (each request carries distinct inputs whose outputs are computed beforehand); the server
 * still answers readiness afterwards, its queue is empty and its heap is back near where it started.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { captureLogger } from '../helpers/service.ts';
import { framedRequest, toBytes } from '../v2/v2-helpers.ts';
import { assertClose, batchesOver, batchSizes, FIXTURES, json, prng, queueDepth, rejected, request, serve, settledHeap, sleep, waitFor, type RawAnswer } from './http-harness.ts';

const TOTAL = 2000;
const CONCURRENCY = 256;
const FEATURES = 512;
const CLASSES = 10;
const MODEL = 'heavy';

type Protocol = 'rest-one' | 'rest-many' | 'v2-json' | 'v2-binary';

interface Planned {
  index: number;
  protocol: Protocol;
  /** Index of this request's first row in the shared input/reference arrays. */
  firstRow: number;
  rows: number;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Inputs: multiples of 1/32 in [-4, 4] (exact in FP32, short in JSON), different for every row. */
function makeInputs(rows: number): Float32Array {
  const random = prng(20240611);
  return Float32Array.from({ length: rows * FEATURES }, () => Math.round((random() * 8 - 4) * 32) / 32);
}

function plan(inputs: Float32Array): Planned[] {
  const protocols: Protocol[] = ['rest-one', 'rest-many', 'v2-json', 'v2-binary'];
  const planned: Planned[] = [];
  let firstRow = 0;
  for (let index = 0; index < TOTAL; index++) {
    const protocol = protocols[index % protocols.length] as Protocol;
    const rows = protocol === 'rest-one' ? 1 : 1 + (index % 4);
    const rowsData = inputs.subarray(firstRow * FEATURES, (firstRow + rows) * FEATURES);
    const records = () => Array.from({ length: rows }, (_, r) => ({ x: Array.from(rowsData.subarray(r * FEATURES, (r + 1) * FEATURES)) }));
    const id = { 'x-request-id': `overload-${index}` };
    let path = `/api/models/${MODEL}/predictions`;
    let headers: Record<string, string> = { ...id, 'content-type': 'application/json' };
    let body: string | Buffer;
    switch (protocol) {
      case 'rest-one':
        path = `/api/models/${MODEL}/prediction`;
        body = JSON.stringify(records()[0]);
        break;
      case 'rest-many':
        body = JSON.stringify(records());
        break;
      case 'v2-json':
        path = `/v2/models/${MODEL}/infer`;
        body = JSON.stringify({ id: `overload-${index}`, inputs: [{ name: 'x', datatype: 'FP32', shape: [rows, FEATURES], data: Array.from(rowsData) }] });
        break;
      case 'v2-binary': {
        path = `/v2/models/${MODEL}/infer`;
        const framed = framedRequest({ id: `overload-${index}`, parameters: { binary_data_output: true } }, [
          { name: 'x', datatype: 'FP32', shape: [rows, FEATURES], bytes: toBytes('FP32', Array.from(rowsData)) },
        ]);
        headers = { ...id, ...framed.headers };
        body = framed.payload;
        break;
      }
    }
    planned.push({ index, protocol, firstRow, rows, path, headers, body });
    firstRow += rows;
  }
  return planned;
}

/** The probabilities of a 200 answer, flat, whatever the protocol; checks shapes and the echoed id on the way. */
function probabilitiesOf(call: Planned, answer: RawAnswer): number[] {
  switch (call.protocol) {
    case 'rest-one': {
      const body = json<{ probs: number[] }>(answer);
      assert.deepEqual(Object.keys(body), ['probs']);
      return body.probs;
    }
    case 'rest-many': {
      const body = json<{ probs: number[] }[]>(answer);
      assert.equal(body.length, call.rows, `request ${call.index}: one record per input record`);
      return body.flatMap((record) => record.probs);
    }
    case 'v2-json': {
      const body = json<{ id: string; outputs: { name: string; shape: number[]; data: number[] }[] }>(answer);
      assert.equal(body.id, `overload-${call.index}`);
      assert.deepEqual(body.outputs.map((o) => [o.name, o.shape]), [['probs', [call.rows, CLASSES]]]);
      return (body.outputs[0] as { data: number[] }).data;
    }
    case 'v2-binary': {
      const headerLength = Number(answer.headers['inference-header-content-length']);
      assert.ok(headerLength > 0, `request ${call.index}: a binary answer announces its JSON header`);
      const header = JSON.parse(answer.body.subarray(0, headerLength).toString('utf8')) as {
        id: string;
        outputs: { name: string; shape: number[]; parameters: { binary_data_size: number } }[];
      };
      assert.equal(header.id, `overload-${call.index}`);
      assert.deepEqual(header.outputs.map((o) => [o.name, o.shape, o.parameters.binary_data_size]), [['probs', [call.rows, CLASSES], call.rows * CLASSES * 4]]);
      const tail = answer.body.subarray(headerLength);
      assert.equal(tail.length, call.rows * CLASSES * 4);
      return Array.from({ length: call.rows * CLASSES }, (_, i) => tail.readFloatLE(i * 4));
    }
  }
}

/** What one ONNX session computes for every row at once, with no server in between: the expected outputs. */
async function reference(inputs: Float32Array, rows: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(`${FIXTURES}mlp_heavy.onnx`);
  try {
    const result = await session.run({ x: new ort.Tensor('float32', inputs, [rows, FEATURES]) });
    return result.probs?.data as Float32Array;
  } finally {
    await session.release();
  }
}

/** Two ways to overload: a small queue (mostly 503), and a deep queue with a short deadline (mostly 504). */
const SCENARIOS = [
  { title: 'a 32-row queue and a 300 ms deadline', maxQueueSize: 32, timeoutMs: 300 },
  { title: 'a 2048-row queue and a 40 ms deadline', maxQueueSize: 2048, timeoutMs: 40 },
] as const;

describe('overload, bounded', () => {
  for (const { title, maxQueueSize, timeoutMs } of SCENARIOS) {
    it(`2,000 requests at concurrency 256 with ${title}: each answered once with 200/503/504, own rows only, then the server is healthy, empty and not leaking`, async (t) => {
      const log = captureLogger('warn');
      const served = await serve(
        `models:\n  - model_path: ${FIXTURES}mlp_heavy.onnx\n    qualified_name: ${MODEL}\n` +
          `    batching: {policy: eager, max_batch_size: 16}\n    max_queue_size: ${maxQueueSize}\n    timeout_ms: ${timeoutMs}\n`,
        {},
        log.logger,
      );
      t.after(() => served.close());
      const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
      t.after(() => agent.destroy());

      const planned = plan(makeInputs(TOTAL * 4));
      const totalRows = planned.reduce((sum, call) => sum + call.rows, 0);
      const expected = await reference(makeInputs(TOTAL * 4).subarray(0, totalRows * FEATURES), totalRows);
      // Rows are told apart by their outputs: neighbouring rows differ by far more than the float tolerance.
      for (let row = 1; row < 200; row++) {
        let diff = 0;
        for (let k = 0; k < CLASSES; k++) diff = Math.max(diff, Math.abs((expected[row * CLASSES + k] as number) - (expected[(row - 1) * CLASSES + k] as number)));
        assert.ok(diff > 1e-3, `rows ${row - 1} and ${row} have near-identical outputs (${diff}); the check could not tell them apart`);
      }

      // Warm up (sockets, JIT, the session), then take the heap baseline.
      await Promise.all(planned.slice(0, 8).map((call) => request(served.url, { path: call.path, headers: call.headers, body: call.body, agent })));
      await sleep(200);
      const heapBefore = await settledHeap();
      const rejectedBefore = {
        queue_full: await rejected(served.service, MODEL, 'queue_full'),
        deadline: await rejected(served.service, MODEL, 'deadline'),
        cancelled: await rejected(served.service, MODEL, 'cancelled'),
      };
      const batchesBefore = await batchSizes(served.service, MODEL);

      const answers: (RawAnswer | Error)[] = new Array(TOTAL);
      const answeredTimes = new Array<number>(TOTAL).fill(0);
      let next = 0;
      const started = performance.now();
      const lane = async () => {
        while (next < TOTAL) {
          const call = planned[next++] as Planned;
          try {
            answers[call.index] = await request(served.url, { path: call.path, headers: call.headers, body: call.body, agent });
          } catch (error) {
            answers[call.index] = error as Error;
          }
          answeredTimes[call.index] = (answeredTimes[call.index] ?? 0) + 1;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, lane));
      const elapsedMs = performance.now() - started;

      // Every request answered exactly once, by its own response (the x-request-id it sent comes back).
      assert.deepEqual(new Set(answeredTimes), new Set([1]), 'every request settled exactly once');
      const statuses = new Map<number, number>();
      planned.forEach((call, i) => {
        const answer = answers[i];
        assert.ok(answer && !(answer instanceof Error), `request ${i} got no answer: ${String(answer)}`);
        assert.equal(answer.headers['x-request-id'], `overload-${i}`, `request ${i} got the answer of another request`);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const isV2 = call.protocol.startsWith('v2');
        switch (answer.status) {
          case 200:
            assertClose(probabilitiesOf(call, answer), expected.subarray(call.firstRow * CLASSES, (call.firstRow + call.rows) * CLASSES), `request ${i} (${call.protocol})`);
            break;
          case 503: {
            assert.equal(answer.headers['retry-after'], '1', `request ${i}: a full queue says when to retry`);
            const message = isV2 ? json<{ error: string }>(answer).error : json<{ type: string; message: string }>(answer).message;
            if (!isV2) assert.equal(json<{ type: string }>(answer).type, 'QueueFullError');
            assert.match(message, new RegExp(`^the queue of model 'heavy' is full \\(\\d+ rows waiting, max_queue_size ${maxQueueSize}\\); retry shortly$`));
            break;
          }
          case 504: {
            const message = isV2 ? json<{ error: string }>(answer).error : json<{ type: string; message: string }>(answer).message;
            if (!isV2) assert.equal(json<{ type: string }>(answer).type, 'DeadlineExceededError');
            assert.match(message, new RegExp(`^deadline of ${timeoutMs} ms passed (after \\d+ ms waiting in the queue of model 'heavy'; the request was not run|while model 'heavy' was still computing)`));
            break;
          }
          default:
            assert.fail(`request ${i} answered ${answer.status}: ${answer.body.toString('utf8').slice(0, 300)}`);
        }
      });
      t.diagnostic(`${TOTAL} requests (${totalRows} rows) in ${Math.round(elapsedMs)} ms; statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
      assert.ok((statuses.get(200) ?? 0) > 0, 'some requests were served');

      // The server is fine: ready, its queue empty, nothing running, the metrics agree with what clients saw.
      const ready = await request(served.url, { method: 'GET', path: '/api/health/ready', agent });
      assert.equal(ready.status, 200);
      const queue = served.registry.require(MODEL).queue;
      await waitFor(() => queue?.queuedRows === 0 && queue.running === 0, 5000, 'the queue to drain');
      assert.equal(await queueDepth(served.service, MODEL), 0);
      assert.equal((await rejected(served.service, MODEL, 'queue_full')) - rejectedBefore.queue_full, statuses.get(503) ?? 0, 'every 503 is a counted queue_full rejection');
      assert.equal((await rejected(served.service, MODEL, 'deadline')) - rejectedBefore.deadline, statuses.get(504) ?? 0, 'every 504 is a counted deadline rejection');
      assert.equal((await rejected(served.service, MODEL, 'cancelled')) - rejectedBefore.cancelled, 0);
      const batches = await batchSizes(served.service, MODEL);
      const servedRows = planned.filter((_, i) => (answers[i] as RawAnswer).status === 200).reduce((sum, call) => sum + call.rows, 0);
      assert.ok(batches.sum - batchesBefore.sum >= servedRows, `every served row ran: ${batches.sum - batchesBefore.sum} rows ran, ${servedRows} served`);
      assert.ok(batches.count - batchesBefore.count < TOTAL, `${batches.count - batchesBefore.count} batches for ${TOTAL} requests: requests were merged`);
      assert.equal(await batchesOver(served.service, MODEL, 16), 0, 'no batch went beyond max_batch_size 16 (each request holds at most 4 rows)');

      // Memory back near its starting level once the burst is over.
      await sleep(100);
      const heapAfter = await settledHeap();
      const growthMb = (heapAfter.heapUsed - heapBefore.heapUsed) / 2 ** 20;
      // After forced collections only live objects count (the test keeps its 2,000 small answers); without them, garbage.
      const boundMb = heapAfter.forced && heapBefore.forced ? 16 : 64;
      t.diagnostic(`heapUsed before ${Math.round(heapBefore.heapUsed / 2 ** 20)} MB, after ${Math.round(heapAfter.heapUsed / 2 ** 20)} MB (gc forced: ${heapAfter.forced})`);
      assert.ok(growthMb < boundMb, `heap grew by ${growthMb.toFixed(1)} MB (bound ${boundMb} MB)`);

      // Nothing went wrong on the server's side: no error or warning (a reply sent twice would be one).
      assert.deepEqual(log.lines.map((line) => `${line.level} ${line.msg ?? ''}`), []);

      // And it keeps serving.
      const call = planned[1] as Planned;
      const after = await request(served.url, { path: call.path, headers: call.headers, body: call.body, agent });
      assert.equal(after.status, 200);
      assertClose(probabilitiesOf(call, after), expected.subarray(call.firstRow * CLASSES, (call.firstRow + call.rows) * CLASSES), 'after the burst');
    });
  }
});
