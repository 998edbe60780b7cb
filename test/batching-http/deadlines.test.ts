/**
 * Deadlines and client disconnects over real listening servers: a model's timeout_ms, the x-request-timeout-ms header
 * and V2 `parameters.timeout` answer 504 DeadlineExceededError (REST body type, V2 `{"error"}`); requests queued behind a
 * slow call time out without running; a client that goes away while its request is queued takes the request out of the
 * queue, so the model never sees it. Both are counted in longshore_rejected_requests_total.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { DelayedPredictModel } from '../fixtures/code-models/delayed-predict.ts';
import { captureLogger, fixture } from '../helpers/service.ts';
import { assertRestError, assertV2Error, json, postJson, queueDepth, rejected, serve, sleep, waitFor, type RawAnswer, type Served } from './http-harness.ts';

const CLASS_PATH = fixture('delayed-predict.ts', 'DelayedPredictModel');

function entry(name: string, settings: string): string {
  return `  - class_path: ${CLASS_PATH}\n    qualified_name: ${name}\n${settings
    .split('\n')
    .filter(Boolean)
    .map((line) => `    ${line}\n`)
    .join('')}`;
}

/** Times an answer, in ms since the call. */
async function timed(answer: Promise<RawAnswer>): Promise<{ answer: RawAnswer; ms: number }> {
  const started = performance.now();
  const result = await answer;
  return { answer: result, ms: performance.now() - started };
}

function v2Body(value: number, parameters?: Record<string, unknown>): unknown {
  return { inputs: [{ name: 'value', datatype: 'FP64', shape: [1], data: [value] }], ...(parameters ? { parameters } : {}) };
}

describe('deadlines over HTTP', () => {
  let served: Served;
  const model = (name: string) => served.registry.require(name).model as unknown as DelayedPredictModel;

  before(async () => {
    served = await serve(
      // defaults: every model gets 100 ms unless its entry says otherwise.
      'defaults:\n  timeout_ms: 100\nmodels:\n' +
        // 400 ms per call, 100 ms allowed (from defaults).
        entry('short', 'configuration: {delay_ms: 400}') +
        // timeout_ms 0: no deadline of the server's; only the client's applies.
        entry('unbounded', 'timeout_ms: 0\nconfiguration: {delay_ms: 300}') +
        // A deadline of about 35 days: longer than a 32-bit setTimeout delay (2^31 - 1 ms, about 24.8 days).
        entry('month', 'timeout_ms: 3000000000\nconfiguration: {delay_ms: 300}') +
        // 400 ms per call, 5 s allowed: only the client's deadline can cut it.
        entry('patient', 'timeout_ms: 5000\nconfiguration: {delay_ms: 400}') +
        // One call at a time: later requests queue.
        entry('single', 'max_concurrency: 1\ntimeout_ms: 5000\nconfiguration: {delay_ms: 400}'),
    );
  });
  after(() => served.close());

  it("timeout_ms (from defaults:) shorter than the model's run answers REST 504 DeadlineExceededError at the deadline", async () => {
    const { answer, ms } = await timed(postJson(served.url, '/api/models/short/prediction', { value: 1 }));
    assertRestError(answer, 504, 'DeadlineExceededError', /^deadline of 100 ms passed while model 'short' was still computing \(\d+ ms since the request was queued\); its result will be dropped$/);
    assert.ok(ms >= 95 && ms < 350, `answered after ${Math.round(ms)} ms, expected about 100`);
  });

  it('timeout_ms answers a V2 call 504 with {"error"}', async () => {
    const { answer, ms } = await timed(postJson(served.url, '/v2/models/short/infer', v2Body(1)));
    assertV2Error(answer, 504, /^deadline of 100 ms passed while model 'short' was still computing/);
    assert.ok(ms >= 95 && ms < 350, `answered after ${Math.round(ms)} ms`);
  });

  it("an x-request-timeout-ms header shorter than the model's timeout answers 504 sooner", async () => {
    const { answer, ms } = await timed(postJson(served.url, '/api/models/patient/prediction', { value: 1 }, { 'x-request-timeout-ms': '60' }));
    assertRestError(answer, 504, 'DeadlineExceededError', /^deadline of 60 ms passed while model 'patient' was still computing/);
    assert.ok(ms >= 55 && ms < 300, `answered after ${Math.round(ms)} ms, expected about 60 (the model takes 400)`);
    // The same model answers 200 without the header.
    const ok = await postJson(served.url, '/api/models/patient/prediction', { value: 41 });
    assert.equal(ok.status, 200);
    assert.deepEqual(json(ok), { value: 42 });
  });

  it('timeout_ms 0 means no server deadline: the call takes as long as the model, but a client deadline still applies', async () => {
    const { answer, ms } = await timed(postJson(served.url, '/api/models/unbounded/prediction', { value: 1 }));
    assert.equal(answer.status, 200, answer.body.toString('utf8'));
    assert.deepEqual(json(answer), { value: 2 });
    assert.ok(ms >= 290, `answered after ${Math.round(ms)} ms, the model takes 300`);
    const cut = await timed(postJson(served.url, '/api/models/unbounded/prediction', { value: 1 }, { 'x-request-timeout-ms': '50' }));
    assertRestError(cut.answer, 504, 'DeadlineExceededError', /^deadline of 50 ms passed while model 'unbounded' was still computing/);
    assert.ok(cut.ms < 250, `answered after ${Math.round(cut.ms)} ms`);
  });

  // Deadlines beyond 2^31 - 1 ms: Node's setTimeout clamps such a delay to 1 ms (TimeoutOverflowWarning), so unless the
  // batcher caps the delay these calls are cut after about 1 ms with 504 instead of running for their 300 ms.
  it('timeout_ms 3000000000 (about 35 days, allowed by the schema) does not cut a 300 ms call short', async () => {
    const { answer, ms } = await timed(postJson(served.url, '/api/models/month/prediction', { value: 1 }));
    assert.equal(answer.status, 200, `answered ${answer.status} after ${Math.round(ms)} ms: ${answer.body.toString('utf8')}`);
    assert.deepEqual(json(answer), { value: 2 });
  });

  it('an x-request-timeout-ms header of 3000000000 on a model without a deadline does not cut a 300 ms call short', async () => {
    const { answer, ms } = await timed(postJson(served.url, '/api/models/unbounded/prediction', { value: 1 }, { 'x-request-timeout-ms': '3000000000' }));
    assert.equal(answer.status, 200, `answered ${answer.status} after ${Math.round(ms)} ms: ${answer.body.toString('utf8')}`);
    assert.deepEqual(json(answer), { value: 2 });
  });

  it('a V2 parameters.timeout of 3000000000000 µs on a model without a deadline does not cut a 300 ms call short', async () => {
    const { answer, ms } = await timed(postJson(served.url, '/v2/models/unbounded/infer', v2Body(1, { timeout: 3_000_000_000_000 })));
    assert.equal(answer.status, 200, `answered ${answer.status} after ${Math.round(ms)} ms: ${answer.body.toString('utf8')}`);
  });

  it('an x-request-timeout-ms header longer than timeout_ms does not extend it', async () => {
    const { answer, ms } = await timed(postJson(served.url, '/api/models/short/prediction', { value: 1 }, { 'x-request-timeout-ms': '3000' }));
    assertRestError(answer, 504, 'DeadlineExceededError', /^deadline of 100 ms passed/);
    assert.ok(ms < 350, `answered after ${Math.round(ms)} ms`);
  });

  for (const bad of ['soon', '0', '-5', '1e400', '']) {
    it(`an invalid x-request-timeout-ms header (${JSON.stringify(bad)}) answers 400 naming the header, and never reaches the model`, async () => {
      const calls = model('patient').calls;
      const answer = await postJson(served.url, '/api/models/patient/prediction', { value: 1 }, { 'x-request-timeout-ms': bad });
      const message = assertRestError(answer, 400, 'SchemaValidationError', /^header x-request-timeout-ms must be a positive number of milliseconds, got /);
      assert.equal(message, `header x-request-timeout-ms must be a positive number of milliseconds, got ${JSON.stringify(bad)}`);
      const v2 = await postJson(served.url, '/v2/models/patient/infer', v2Body(1), { 'x-request-timeout-ms': bad });
      assertV2Error(v2, 400, /x-request-timeout-ms/);
      assert.equal(model('patient').calls, calls);
    });
  }

  it('V2 parameters.timeout (microseconds) answers 504 at that deadline', async () => {
    const { answer, ms } = await timed(postJson(served.url, '/v2/models/patient/infer', v2Body(1, { timeout: 50_000 })));
    assertV2Error(answer, 504, /^deadline of 50 ms passed while model 'patient' was still computing/);
    assert.ok(ms >= 45 && ms < 300, `answered after ${Math.round(ms)} ms`);
  });

  it('V2 parameters.timeout and x-request-timeout-ms together: the shorter applies', async () => {
    const answer = await postJson(served.url, '/v2/models/patient/infer', v2Body(1, { timeout: 2_000_000 }), { 'x-request-timeout-ms': '70' });
    assertV2Error(answer, 504, /^deadline of 70 ms passed/);
  });

  it('an invalid V2 parameters.timeout answers 400', async () => {
    const answer = await postJson(served.url, '/v2/models/patient/infer', v2Body(1, { timeout: 'soon' }));
    assertV2Error(answer, 400, /parameters\.timeout must be a whole number of microseconds/);
  });

  it('requests queued behind a slow one time out while queued, are never run, and are counted as deadline rejections', async () => {
    const single = model('single');
    const deadlinesBefore = await rejected(served.service, 'single', 'deadline');
    const first = postJson(served.url, '/api/models/single/prediction', { value: 10 });
    await waitFor(() => single.calls === 1, 2000, 'the first call to start');
    const queued = await Promise.all([
      timed(postJson(served.url, '/api/models/single/prediction', { value: 20 }, { 'x-request-timeout-ms': '80' })),
      timed(postJson(served.url, '/api/models/single/predictions', [{ value: 30 }, { value: 31 }], { 'x-request-timeout-ms': '80' })),
      timed(postJson(served.url, '/v2/models/single/infer', v2Body(40, { timeout: 80_000 }))),
    ]);
    for (const [i, { answer, ms }] of queued.entries()) {
      const pattern = /^deadline of 80 ms passed after \d+ ms waiting in the queue of model 'single'; the request was not run$/;
      if (i < 2) assertRestError(answer, 504, 'DeadlineExceededError', pattern);
      else assertV2Error(answer, 504, pattern);
      assert.ok(ms < 350, `queued request ${i} answered after ${Math.round(ms)} ms, before the running call ended`);
    }
    // The running call is unaffected and is the only one the model ever saw.
    const firstAnswer = await first;
    assert.equal(firstAnswer.status, 200);
    assert.deepEqual(json(firstAnswer), { value: 11 });
    await sleep(50);
    assert.deepEqual(single.seen, [10]);
    assert.equal(await rejected(served.service, 'single', 'deadline'), deadlinesBefore + 3);
    assert.deepEqual({ queuedRows: served.registry.require('single').queue?.queuedRows, running: served.registry.require('single').queue?.running }, { queuedRows: 0, running: 0 });
    assert.equal(await queueDepth(served.service, 'single'), 0);
  });

  it('a deadline while computing is counted as a deadline rejection too', async () => {
    const before = await rejected(served.service, 'short', 'deadline');
    const answer = await postJson(served.url, '/api/models/short/prediction', { value: 1 });
    assert.equal(answer.status, 504);
    assert.equal(await rejected(served.service, 'short', 'deadline'), before + 1);
  });
});

describe('client disconnects over HTTP', () => {
  let served: Served;
  const single = () => served.registry.require('single').model as unknown as DelayedPredictModel;

  const log = captureLogger('warn');

  before(async () => {
    served = await serve('models:\n' + entry('single', 'max_concurrency: 1\ntimeout_ms: 0\nconfiguration: {delay_ms: 400}'), {}, log.logger);
  });
  after(() => served.close());

  it('a queued request whose client aborts (fetch AbortController) is dropped: the model never runs it', async () => {
    const model = single();
    const seenBefore = model.seen.length;
    const cancelledBefore = await rejected(served.service, 'single', 'cancelled');
    const first = postJson(served.url, '/api/models/single/prediction', { value: 100 });
    await waitFor(() => model.seen.length === seenBefore + 1, 2000, 'the first call to start');

    const controller = new AbortController();
    const aborted = fetch(`${served.url}/api/models/single/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value: 200 }),
      signal: controller.signal,
    });
    await waitFor(() => served.registry.require('single').queue?.queuedRows === 1, 2000, 'the second request to queue');
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    await waitFor(async () => (await rejected(served.service, 'single', 'cancelled')) === cancelledBefore + 1, 2000, 'the cancellation to be counted');
    assert.equal(served.registry.require('single').queue?.queuedRows, 0, 'the request left the queue at once');

    assert.deepEqual(json(await first), { value: 101 });
    await sleep(100);
    assert.deepEqual(model.seen.slice(seenBefore), [100], 'the model never saw the cancelled request');
    assert.equal(served.registry.require('single').queue?.running, 0);
  });

  it('a queued request whose socket is destroyed is dropped, and the next request runs right after the slow one', async () => {
    const model = single();
    const seenBefore = model.seen.length;
    const cancelledBefore = await rejected(served.service, 'single', 'cancelled');
    const first = postJson(served.url, '/api/models/single/prediction', { value: 300 });
    await waitFor(() => model.seen.length === seenBefore + 1, 2000, 'the first call to start');

    // Two clients queue; the first of them hangs up by destroying its socket.
    const agent = new http.Agent({ keepAlive: false });
    const body = JSON.stringify({ value: 400 });
    const leaving = http.request(`${served.url}/api/models/single/prediction`, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    });
    const leavingError = new Promise<Error>((resolve) => leaving.on('error', resolve));
    leaving.end(body);
    await waitFor(() => served.registry.require('single').queue?.queuedRows === 1, 2000, 'the leaving request to queue');
    const staying = postJson(served.url, '/api/models/single/prediction', { value: 500 });
    await waitFor(() => served.registry.require('single').queue?.queuedRows === 2, 2000, 'the staying request to queue');
    leaving.destroy();
    assert.match((await leavingError).message, /socket hang up|aborted/);
    await waitFor(async () => (await rejected(served.service, 'single', 'cancelled')) === cancelledBefore + 1, 2000, 'the cancellation to be counted');
    assert.equal(served.registry.require('single').queue?.queuedRows, 1, 'only the staying request is still queued');

    assert.deepEqual(json(await first), { value: 301 });
    assert.deepEqual(json(await staying), { value: 501 });
    assert.deepEqual(model.seen.slice(seenBefore), [300, 500], 'the model ran the first and the staying request, never the one that left');
    assert.deepEqual({ queuedRows: served.registry.require('single').queue?.queuedRows, running: served.registry.require('single').queue?.running }, { queuedRows: 0, running: 0 });
    agent.destroy();
  });

  it('a V2 request whose client aborts while queued is dropped too', async () => {
    const model = single();
    const seenBefore = model.seen.length;
    const cancelledBefore = await rejected(served.service, 'single', 'cancelled');
    const first = postJson(served.url, '/api/models/single/prediction', { value: 600 });
    await waitFor(() => model.seen.length === seenBefore + 1, 2000, 'the first call to start');
    const controller = new AbortController();
    const aborted = fetch(`${served.url}/v2/models/single/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(v2Body(700)),
      signal: controller.signal,
    });
    await waitFor(() => served.registry.require('single').queue?.queuedRows === 1, 2000, 'the V2 request to queue');
    controller.abort();
    await assert.rejects(aborted, { name: 'AbortError' });
    await waitFor(async () => (await rejected(served.service, 'single', 'cancelled')) === cancelledBefore + 1, 2000, 'the cancellation to be counted');
    assert.deepEqual(json(await first), { value: 601 });
    await sleep(100);
    assert.deepEqual(model.seen.slice(seenBefore), [600]);
  });

  it('a client that left is not a server error: nothing was logged at warn or above', () => {
    assert.deepEqual(log.lines.map((line) => `${line.level} ${line.msg ?? ''}`), []);
  });
});
