/**
 * A main-thread call cannot be killed: once every caller of a running call was answered 504 at its deadline and the
 * call still runs STUCK_GRACE_MS later, it counts as stuck and keeps its slot until it settles (its late result dropped). A model whose max_concurrency slots
 * are all stuck is not ready (REST and V2 readiness 503 saying why, longshore_model_ready 0) and refuses new calls
 * with 503 ModelNotReadyError and Retry-After instead of queueing them into a 504; it recovers when the calls settle.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { STUCK_GRACE_MS } from '../../src/batching/slots.ts';
import type { HangModel } from '../fixtures/code-models/hang.ts';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';

const HANG = { class_path: fixture('hang.ts', 'HangModel'), max_concurrency: 2, timeout_ms: 100 };
const STUCK = "model 'hang': 2 of 2 calls stuck past their deadline";

async function start(t: TestContext, entry: Record<string, unknown> = HANG): Promise<{ service: TestService; model: HangModel }> {
  const service = await buildService(configYaml([entry]));
  t.after(() => service.close());
  const model = service.registry.require('hang').model as HangModel;
  t.after(() => model.release());
  return { service, model };
}

async function predict(service: TestService, mode: 'ok' | 'hang', headers: Record<string, string> = {}) {
  const response = await service.app.inject({ method: 'POST', url: '/api/models/hang/prediction', headers, payload: { mode, value: 1 } });
  return { status: response.statusCode, body: response.json() as Record<string, unknown>, retryAfter: response.headers['retry-after'] };
}

async function get(service: TestService, url: string) {
  const response = await service.app.inject({ url });
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

async function metric(service: TestService, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const values = (await service.service.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value))?.value;
}

/** Resolves once `condition()` holds, polling every 10 ms; fails after `ms`. Returns the time it took. */
async function until(condition: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  const started = performance.now();
  while (!(await condition())) {
    if (performance.now() - started > ms) assert.fail(`condition not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

describe('calls stuck past their deadline on the main thread', () => {
  it('reports the model not ready while every slot is stuck, refuses calls with 503 and Retry-After, and recovers when they settle', async (t) => {
    const { service, model } = await start(t);
    const hung = await Promise.all([predict(service, 'hang'), predict(service, 'hang')]);
    assert.deepEqual(hung.map((answer) => [answer.status, answer.body.type]), [[504, 'DeadlineExceededError'], [504, 'DeadlineExceededError']]);
    assert.equal(service.registry.require('hang').queue?.running, 2, 'a main-thread call keeps its slot until it settles');
    assert.equal((await get(service, '/api/health/ready')).status, 200, 'not stuck yet: a call may overrun a little');
    const waited = await until(async () => (await get(service, '/api/health/ready')).status === 503, 1000);
    assert.ok(waited >= STUCK_GRACE_MS - 100, `stuck only once it ran on ${STUCK_GRACE_MS} ms past the deadline (after ${Math.round(waited)} ms)`);

    assert.deepEqual(await get(service, '/api/health/ready'), { status: 503, body: { readiness_status: 'REFUSING_TRAFFIC', problems: [STUCK] } });
    assert.deepEqual(await get(service, '/v2/health/ready'), { status: 503, body: { error: `server is not ready: ${STUCK}` } });
    const modelReady = await get(service, '/v2/models/hang/ready');
    assert.equal(modelReady.status, 503);
    assert.match(String(modelReady.body.error), /^model 'hang' is not ready: 2 of 2 calls are stuck past their deadline and hold every concurrency slot \(max_concurrency 2\)/);
    assert.equal(await metric(service, 'longshore_model_ready', { model: 'hang' }), 0);
    assert.equal(await metric(service, 'longshore_stuck_calls', { model: 'hang' }), 2);

    const refused = await predict(service, 'ok');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.type, 'ModelNotReadyError');
    assert.equal(refused.retryAfter, '5');
    assert.equal(await metric(service, 'longshore_rejected_requests_total', { model: 'hang', reason: 'stuck' }), 1);
    assert.equal(model.calls, 2, 'the refused call never reached the model');

    model.release(); // the late results are dropped
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(await get(service, '/api/health/ready'), { status: 200, body: { readiness_status: 'ACCEPTING_TRAFFIC' } });
    assert.deepEqual(await get(service, '/v2/models/hang/ready'), { status: 200, body: { name: 'hang', ready: true } });
    assert.equal(await metric(service, 'longshore_model_ready', { model: 'hang' }), 1);
    assert.equal(await metric(service, 'longshore_stuck_calls', { model: 'hang' }), 0);
    assert.deepEqual(await predict(service, 'ok'), { status: 200, body: { value: 2, thread: 0 }, retryAfter: undefined });
  });

  it('stays ready and serves while only some of the slots are stuck', async (t) => {
    const { service } = await start(t);
    assert.equal((await predict(service, 'hang')).status, 504);
    await new Promise((resolve) => setTimeout(resolve, STUCK_GRACE_MS + 100));
    assert.equal(service.registry.require('hang').queue?.running, 1);
    assert.equal((await get(service, '/api/health/ready')).status, 200);
    assert.equal((await predict(service, 'ok')).status, 200);
  });

  it('answers a call already queued with 503 as soon as every slot becomes stuck, instead of letting it wait into a 504', async (t) => {
    const { service } = await start(t, { ...HANG, max_concurrency: 1, timeout_ms: 5000 });
    const hung = predict(service, 'hang', { 'x-request-timeout-ms': '100' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const started = performance.now();
    const queued = await predict(service, 'ok'); // waits behind the hung call, with a 5 s deadline
    const waited = performance.now() - started;
    assert.equal((await hung).status, 504);
    assert.equal(queued.status, 503);
    assert.equal(queued.body.type, 'ModelNotReadyError');
    assert.ok(waited < 2000, `answered when the slot became stuck (after ${Math.round(waited)} ms), not at its own 5 s deadline`);
  });
});
