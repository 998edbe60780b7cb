/**
 * `limits.<group>.rate_limit` (docs/security.md#limits): 429 RateLimitedError with Retry-After and x-ratelimit-*, in
 * each protocol's error body, recovery after the window, one bucket per API key, health never limited, the metric, and
 * no plugin at all when no group has a rate limit.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { buildService, irisConfigYaml } from '../helpers/service.ts';

const IRIS = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const V2 = { inputs: Object.entries(IRIS).map(([name, value]) => ({ name, datatype: 'FP64', shape: [1], data: [value] })) };
const WINDOW_MS = 400;

function poster(app: Awaited<ReturnType<typeof buildService>>['app']) {
  return (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(payload) });
}

test('over the limit: 429 with Retry-After and x-ratelimit-*, REST and V2 bodies; served again after the window', async () => {
  const service = await buildService(`${irisConfigYaml()}limits:\n  predict: {rate_limit: {max: 2, window_ms: ${WINDOW_MS}}}\n`);
  try {
    const post = poster(service.app);
    const first = await post('/api/models/iris_model/prediction', IRIS);
    assert.equal(first.statusCode, 200);
    assert.equal(first.headers['x-ratelimit-limit'], '2');
    assert.equal(first.headers['x-ratelimit-remaining'], '1');
    // The bucket is the group's: a V2 call spends the same budget as a REST one.
    assert.equal((await post('/v2/models/iris_model/infer', V2)).statusCode, 200);
    const rest = await post('/api/models/iris_model/prediction', IRIS);
    assert.equal(rest.statusCode, 429);
    assert.equal(rest.headers['retry-after'], '1');
    assert.equal(rest.headers['x-ratelimit-remaining'], '0');
    const body = rest.json() as { type: string; message: string; details: unknown[] };
    assert.equal(body.type, 'RateLimitedError');
    assert.match(body.message, /2 requests per 400 ms for the predict routes \(limits\.predict\.rate_limit\)/);
    const v2 = await post('/v2/models/iris_model/infer', V2);
    assert.equal(v2.statusCode, 429);
    assert.deepEqual(Object.keys(v2.json() as object), ['error']);
    assert.ok(v2.headers['retry-after'] !== undefined);
    // Other groups and the health probes are not limited.
    for (let i = 0; i < 5; i++) {
      assert.equal((await service.app.inject({ method: 'GET', url: '/api/models' })).statusCode, 200);
      assert.equal((await service.app.inject({ method: 'GET', url: '/api/health' })).statusCode, 200);
      assert.equal((await service.app.inject({ method: 'GET', url: '/v2/health/ready' })).statusCode, 200);
    }
    const metrics = await service.service.metrics.registry.getSingleMetricAsString('longshore_rate_limited_total');
    assert.match(metrics, /longshore_rate_limited_total\{group="predict"\} 2/);
    await sleep(WINDOW_MS + 50);
    assert.equal((await post('/api/models/iris_model/prediction', IRIS)).statusCode, 200);
  } finally {
    await service.close();
  }
});

test('health probes are never limited, even with a limit on every group', async () => {
  const yaml = ['predict', 'read', 'metrics', 'admin'].map((group) => `  ${group}: {rate_limit: {max: 1, window_ms: 60000}}`).join('\n');
  const service = await buildService(`${irisConfigYaml()}limits:\n${yaml}\n`);
  try {
    for (let i = 0; i < 4; i++) {
      const probe = await service.app.inject({ method: 'GET', url: '/api/health/ready' });
      assert.equal(probe.statusCode, 200);
      assert.equal(probe.headers['x-ratelimit-limit'], undefined);
    }
    assert.equal((await service.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 200);
    assert.equal((await service.app.inject({ method: 'GET', url: '/metrics' })).statusCode, 429);
  } finally {
    await service.close();
  }
});

test('with auth: one bucket per API key; an exhausted key does not stop another', async () => {
  const keys = { LONGSHORE_TEST_RL_A: 'rate-key-a-7c1d93', LONGSHORE_TEST_RL_B: 'rate-key-b-24e8f0' };
  Object.assign(process.env, keys);
  const auth = 'auth:\n  keys:\n    - {env: LONGSHORE_TEST_RL_A, scopes: [predict]}\n    - {env: LONGSHORE_TEST_RL_B, scopes: [predict]}\n';
  const service = await buildService(`${irisConfigYaml()}${auth}limits:\n  predict: {rate_limit: {max: 1, window_ms: 60000}}\n`);
  try {
    const post = poster(service.app);
    const a = { 'x-api-key': keys.LONGSHORE_TEST_RL_A };
    const b = { authorization: `Bearer ${keys.LONGSHORE_TEST_RL_B}` };
    assert.equal((await post('/api/models/iris_model/prediction', IRIS, a)).statusCode, 200);
    assert.equal((await post('/api/models/iris_model/prediction', IRIS, a)).statusCode, 429);
    // Same client IP, other key: its own bucket.
    assert.equal((await post('/api/models/iris_model/prediction', IRIS, b)).statusCode, 200);
    // A refused key (401) spends nothing and gets no rate-limit answer.
    const bad = await post('/api/models/iris_model/prediction', IRIS, { 'x-api-key': 'not-a-key' });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.headers['x-ratelimit-limit'], undefined);
  } finally {
    await service.close();
    for (const name of Object.keys(keys)) delete process.env[name];
  }
});

test('no rate limit configured: the plugin is not loaded and no x-ratelimit header is sent', async () => {
  const service = await buildService(irisConfigYaml());
  try {
    assert.equal(service.app.hasDecorator('rateLimit'), false);
    const answer = await poster(service.app)('/api/models/iris_model/prediction', IRIS);
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.headers['x-ratelimit-limit'], undefined);
  } finally {
    await service.close();
  }
  const limited = await buildService(`${irisConfigYaml()}limits:\n  read: {rate_limit: {max: 5}}\n`);
  try {
    assert.equal(limited.app.hasDecorator('rateLimit'), true);
    assert.equal(limited.loaded.config.limits.read.rate_limit?.window_ms, 60_000);
  } finally {
    await limited.close();
  }
});
