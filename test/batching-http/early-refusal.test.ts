/**
 * Refusal on arrival (src/http/admission.ts), over a real listening server: when a model's queue is already full, its
 * prediction, predictions, score and explain routes and its V2 infer and explain routes answer 503 QueueFullError with
 * Retry-After before reading the body (a body that is not even JSON gets the 503, not a 400), in the REST or V2 error
 * format; the refusal is counted like the batcher's own; 404 / 501 / 503-not-ready still come first; the unread body is
 * discarded and the keep-alive connection serves the next request; below the limit bodies are read as before.
 *
 * The models hold their calls at a gate (gated-model.ts), so each queue is filled exactly: one call running, the
 * queue's max_queue_size rows waiting behind it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EARLY_REFUSAL_SWITCH } from '../../src/http/admission.ts';
import type { GatedModel } from './gated-model.ts';
import { assertRestError, assertV2Error, json, postJson, rejected, request, serve, waitFor, type RawAnswer, type Served } from './http-harness.ts';

const CLASS_FILE = new URL('./gated-model.ts', import.meta.url).pathname;

const YAML =
  'models:\n' +
  // explain() and a queue of 2 rows behind one running call
  `  - {class_path: '${CLASS_FILE}#GatedExplainerModel', qualified_name: gated, max_concurrency: 1, max_queue_size: 2}\n` +
  // no explain()
  `  - {class_path: '${CLASS_FILE}#GatedModel', qualified_name: plain, max_concurrency: 1, max_queue_size: 1}\n` +
  // no endpoint: only in-process callers (a graph) reach it
  `  - {class_path: '${CLASS_FILE}#GatedModel', qualified_name: hidden, create_endpoint: false, max_concurrency: 1, max_queue_size: 1}\n` +
  // never held: answers at once
  `  - {class_path: '${CLASS_FILE}#GatedModel', qualified_name: free, max_concurrency: 1, max_queue_size: 1}\n`;

const NOT_JSON = '{this is not json';
const fullMessage = (model: string, rows: number) => new RegExp(`^the queue of model '${model}' is full \\(${rows} rows waiting, max_queue_size ${rows}\\); retry shortly$`);

/** Sends a raw body (any bytes) with a content type; through `agent` when given. */
function post(url: string, path: string, body: string | Buffer, contentType: string, agent?: http.Agent): Promise<RawAnswer> {
  return request(url, { path, body, headers: { 'content-type': contentType }, agent });
}

/** One sample of a counter from the server's own registry, by name and exact labels (0 when absent). */
async function counter(served: Served, name: string, labels: Record<string, string>): Promise<number> {
  const text = await served.service.metrics.registry.metrics();
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    const match = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (wanted.every(([key, value]) => found[key] === value) && Object.keys(found).length === wanted.length) return Number(match[3]);
  }
  return 0;
}

describe('refusal on arrival when the queue is full', () => {
  let served: Served;
  /** In-process calls that fill the queues; settled at the end, once the gates open. */
  const fills: Promise<unknown>[] = [];
  const gate = (name: string) => served.registry.require(name).model as unknown as GatedModel;
  const queued = (name: string) => served.registry.require(name).queue?.queuedRows ?? -1;

  /** Fills `name`'s queue in process: one call running at the gate, then `rows` more waiting. */
  async function fill(name: string, rows: number): Promise<void> {
    const model = served.registry.require(name);
    for (let i = 0; i <= rows; i++) fills.push(model.ready().predict({ value: i }, {}).catch((error: unknown) => error));
    await waitFor(() => gate(name).calls === 1 && queued(name) === rows, 2000, `${name}: one call running and ${rows} rows queued`);
  }

  before(async () => {
    served = await serve(YAML);
    gate('free').open();
  });
  after(async () => {
    for (const name of ['gated', 'plain', 'hidden']) gate(name).open();
    await Promise.all(fills);
    await served.close();
  });

  it('below max_queue_size the body is read as before: a body that is not JSON is a 400 while one row is queued of two', async () => {
    await fill('gated', 1);
    assertRestError(await post(served.url, '/api/models/gated/prediction', NOT_JSON, 'application/json'), 400, 'MalformedRequestError');
    // The second queued row makes the queue full for everything that follows.
    fills.push(served.registry.require('gated').ready().predict({ value: 100 }, {}).catch((error: unknown) => error));
    await waitFor(() => queued('gated') === 2, 2000, 'gated: two rows queued');
  });

  it('a full queue answers REST prediction, predictions, score and explain 503 QueueFullError with Retry-After before reading the body', async () => {
    assert.equal(queued('gated'), 2, 'the queue is full (2 of 2 rows)');
    for (const route of ['prediction', 'predictions', 'score', 'explain']) {
      const answer = await post(served.url, `/api/models/gated/${route}`, NOT_JSON, 'application/json');
      assertRestError(answer, 503, 'QueueFullError', fullMessage('gated', 2));
      assert.equal(answer.headers['retry-after'], '1', `${route}: says when to retry`);
      assert.deepEqual(json<{ details: unknown[] }>(answer).details, []);
    }
    // A valid body is refused the same way, and nothing reached the model or the queue.
    assertRestError(await postJson(served.url, '/api/models/gated/prediction', { value: 1 }), 503, 'QueueFullError', fullMessage('gated', 2));
    assert.equal(gate('gated').calls, 1, 'only the running call reached the model');
    assert.equal(queued('gated'), 2);
  });

  it('a full queue answers V2 infer and explain (plain and versioned) 503 {"error": message} with Retry-After before decoding the body', async () => {
    const garbage = Buffer.from([0xff, 0x00, 0x7b, 0x01]);
    for (const path of ['/v2/models/gated/infer', '/v2/models/gated/versions/1/infer', '/v2/models/gated/explain', '/v2/models/gated/versions/1/explain']) {
      for (const [body, type] of [[NOT_JSON, 'application/json'], [garbage, 'application/octet-stream']] as const) {
        const answer = await post(served.url, path, body, type);
        assertV2Error(answer, 503, fullMessage('gated', 2));
        assert.equal(answer.headers['retry-after'], '1', `${path}: says when to retry`);
      }
    }
    assert.equal(gate('gated').calls, 1);
  });

  it('refusals on arrival are counted as queue_full rejections and as failed calls of their operation', async () => {
    const before = {
      queueFull: await rejected(served.service, 'gated', 'queue_full'),
      predict: await counter(served, 'longshore_request_failures_total', { model: 'gated', version: '1', operation: 'predict', reason: 'QueueFullError' }),
      batch: await counter(served, 'longshore_request_failures_total', { model: 'gated', version: '1', operation: 'predict_batch', reason: 'QueueFullError' }),
      infer: await counter(served, 'longshore_request_failures_total', { model: 'gated', version: '1', operation: 'infer', reason: 'QueueFullError' }),
    };
    const calls = await counter(served, 'longshore_requests_total', { model: 'gated', version: '1', operation: 'infer' });
    const paths = ['prediction', 'predictions', 'predictions', 'score', 'explain'].map((route) => `/api/models/gated/${route}`);
    paths.push('/v2/models/gated/infer', '/v2/models/gated/versions/1/infer', '/v2/models/gated/explain');
    for (const path of paths) assert.equal((await post(served.url, path, '{}', 'application/json')).status, 503, path);
    // Every refusal is a queue_full rejection; the calls the model's metrics count (explain is not one) fail with QueueFullError.
    assert.equal((await rejected(served.service, 'gated', 'queue_full')) - before.queueFull, paths.length);
    const failures = (operation: string) => counter(served, 'longshore_request_failures_total', { model: 'gated', version: '1', operation, reason: 'QueueFullError' });
    assert.equal((await failures('predict')) - before.predict, 1);
    assert.equal((await failures('predict_batch')) - before.batch, 3, 'predictions twice, and score (longshore computes it from a batch prediction)');
    assert.equal((await failures('infer')) - before.infer, 2);
    assert.equal((await counter(served, 'longshore_requests_total', { model: 'gated', version: '1', operation: 'infer' })) - calls, 2);
  });

  it('the unread body is discarded and the keep-alive connection serves the next requests (Content-Length and chunked bodies)', async () => {
    const connections: Socket[] = [];
    const onConnection = (socket: Socket) => void connections.push(socket);
    served.server.app.server.on('connection', onConnection);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // 256 KiB that parses as nothing: if any of it were taken for the next request, that request would fail.
      const big = Buffer.alloc(256 * 1024, 'x');
      assertRestError(await post(served.url, '/api/models/gated/prediction', big, 'application/json', agent), 503, 'QueueFullError');
      const first = await postJson(served.url, '/api/models/free/prediction', { value: 7 }, {}, agent);
      assert.equal(first.status, 200, first.body.toString());
      assert.deepEqual(json(first), { value: 8 });
      assertV2Error(await post(served.url, '/v2/models/gated/infer', big, 'application/octet-stream', agent), 503, fullMessage('gated', 2));
      // A chunked body (no Content-Length) is discarded the same way.
      const chunked = await new Promise<RawAnswer>((resolve, reject) => {
        const req = http.request(new URL('/api/models/gated/predictions', served.url), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        for (let i = 0; i < 16; i++) req.write(big.subarray(0, 16 * 1024));
        req.end();
      });
      assertRestError(chunked, 503, 'QueueFullError');
      const v2 = await postJson(served.url, '/v2/models/free/infer', { inputs: [{ name: 'value', datatype: 'FP64', shape: [1], data: [2] }] }, {}, agent);
      assert.equal(v2.status, 200, v2.body.toString());
      assert.deepEqual(json<{ outputs: { data: number[] }[] }>(v2).outputs.map((output) => output.data), [[3]]);
      assert.equal(connections.length, 1, 'all five requests went over one connection');
    } finally {
      served.server.app.server.off('connection', onConnection);
      agent.destroy();
    }
  });

  it('with the queue full, 404 (unknown model or version, create_endpoint: false) and 501 (no explain()) still come first', async () => {
    await fill('plain', 1);
    await fill('hidden', 1);
    assertRestError(await postJson(served.url, '/api/models/nope/prediction', { value: 1 }), 404, 'ModelNotFoundError');
    assertV2Error(await post(served.url, '/v2/models/gated/versions/9/infer', NOT_JSON, 'application/json'), 404, /has no version '9'/);
    assertRestError(await post(served.url, '/api/models/hidden/prediction', NOT_JSON, 'application/json'), 404, 'ModelNotFoundError', /create_endpoint: false/);
    assertV2Error(await post(served.url, '/v2/models/hidden/infer', NOT_JSON, 'application/json'), 404, /create_endpoint: false/);
    assertRestError(await post(served.url, '/api/models/plain/explain', NOT_JSON, 'application/json'), 501, 'NotImplementedError');
    assertV2Error(await post(served.url, '/v2/models/plain/explain', NOT_JSON, 'application/json'), 501, /does not implement explain/);
    assertRestError(await post(served.url, '/api/models/plain/prediction', NOT_JSON, 'application/json'), 503, 'QueueFullError', fullMessage('plain', 1));
  });

  it('with the queue full, a model that is not ready answers 503 ModelNotReadyError, not QueueFullError', async () => {
    assert.equal(queued('plain'), 1, 'plain is still full');
    await served.registry.require('plain').unload();
    for (const path of ['/api/models/plain/prediction', '/api/models/plain/score']) {
      assertRestError(await post(served.url, path, NOT_JSON, 'application/json'), 503, 'ModelNotReadyError');
    }
    assertV2Error(await post(served.url, '/v2/models/plain/infer', NOT_JSON, 'application/json'), 503, /unloaded|not ready/);
  });

  it('once the queue drains, the same routes read bodies and answer again', async () => {
    gate('gated').open();
    await waitFor(() => queued('gated') === 0, 2000, 'gated: queue drained');
    assertRestError(await post(served.url, '/api/models/gated/prediction', NOT_JSON, 'application/json'), 400, 'MalformedRequestError');
    const answer = await postJson(served.url, '/api/models/gated/prediction', { value: 41 });
    assert.equal(answer.status, 200);
    assert.deepEqual(json(answer), { value: 42 });
  });
});

describe(`${EARLY_REFUSAL_SWITCH}=off (for bench/overload.ts only)`, () => {
  it('leaves the check out: a full queue then reads the body first (400 for a body that is not JSON) and the batcher refuses a valid one', async () => {
    process.env[EARLY_REFUSAL_SWITCH] = 'off';
    let served: Served;
    try {
      served = await serve(`models:\n  - {class_path: '${CLASS_FILE}#GatedModel', qualified_name: gated, max_concurrency: 1, max_queue_size: 1}\n`);
    } finally {
      delete process.env[EARLY_REFUSAL_SWITCH];
    }
    const model = served.registry.require('gated');
    const gated = model.model as unknown as GatedModel;
    const fills = [model.ready().predict({ value: 1 }, {}), model.ready().predict({ value: 2 }, {})].map((call) => call.catch((error: unknown) => error));
    try {
      await waitFor(() => gated.calls === 1 && model.queue?.queuedRows === 1, 2000, 'one call running and one row queued');
      assertRestError(await post(served.url, '/api/models/gated/prediction', NOT_JSON, 'application/json'), 400, 'MalformedRequestError');
      assertRestError(await postJson(served.url, '/api/models/gated/prediction', { value: 3 }), 503, 'QueueFullError', fullMessage('gated', 1));
    } finally {
      gated.open();
      await Promise.all(fills);
      await served.close();
    }
  });
});
