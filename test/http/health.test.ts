/**
 * The health state machine over HTTP: startup and readiness through a slow-loading model, a failing model, optional
 * models, zero models and draining.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { SlowModel } from '../fixtures/code-models/slow.ts';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';

const NOT_STARTED = { status: 503, body: { startup_status: 'NOT_STARTED' } };
const STARTED = { status: 200, body: { startup_status: 'STARTED' } };
const REFUSING = { status: 503, body: { readiness_status: 'REFUSING_TRAFFIC' } };
const ACCEPTING = { status: 200, body: { readiness_status: 'ACCEPTING_TRAFFIC' } };

async function probe(service: TestService, which: 'startup' | 'ready'): Promise<{ status: number; body: unknown }> {
  const response = await service.app.inject({ url: `/api/health/${which}` });
  return { status: response.statusCode, body: response.json() };
}

async function start(t: TestContext, models: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<TestService> {
  const service = await buildService(configYaml(models, extra), { load: false });
  t.after(() => service.close());
  return service;
}

/** Resolves once `condition()` holds; fails after `ms`. Used to wait for the fast models of a concurrent loadAll. */
async function until(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail('condition not reached in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const ECHO = { class_path: fixture('echo.ts', 'EchoModel') };
const SLOW = { class_path: fixture('slow.ts', 'SlowModel') };
const FAILING = { class_path: fixture('failing-load.ts', 'FailingLoadModel'), configuration: { message: 'GPU out of memory' } };

describe('health probes', () => {
  it('keeps liveness at 200 HEALTHY whatever the models do', async (t) => {
    const service = await start(t, [SLOW, FAILING]);
    const response = await service.app.inject({ url: '/api/health' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { health_status: 'HEALTHY' });
  });

  it('moves startup and readiness from 503 to 200 as a slow model finishes loading', async (t) => {
    const service = await start(t, [ECHO, SLOW]);
    const slow = service.registry.require('slow').model as SlowModel;

    assert.deepEqual(await probe(service, 'startup'), NOT_STARTED);
    assert.deepEqual(await probe(service, 'ready'), REFUSING);

    const loading = service.registry.loadAll();
    await until(() => service.registry.require('echo').state === 'ready' && slow.loadStarted);

    assert.deepEqual(await probe(service, 'startup'), NOT_STARTED);
    assert.deepEqual(await probe(service, 'ready'), REFUSING);
    const refused = await service.app.inject({ method: 'POST', url: '/api/models/slow/prediction', payload: { value: 1 } });
    assert.equal(refused.statusCode, 503);
    assert.equal(refused.json().type, 'ModelNotReadyError');
    assert.equal(refused.headers['retry-after'], '2');
    const listing = (await service.app.inject({ url: '/api/models' })).json() as { models: { qualified_name: string; status: string }[] };
    assert.deepEqual(listing.models.map((m) => [m.qualified_name, m.status]), [['echo', 'ready'], ['slow', 'loading']]);
    const echo = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: { x: 1, name: 'early' } });
    assert.equal(echo.statusCode, 200, 'a loaded model is served while another still loads');

    slow.release();
    await loading;

    assert.deepEqual(await probe(service, 'startup'), STARTED);
    assert.deepEqual(await probe(service, 'ready'), ACCEPTING);
    const served = await service.app.inject({ method: 'POST', url: '/api/models/slow/prediction', payload: { value: 1 } });
    assert.equal(served.statusCode, 200);
    assert.deepEqual(served.json(), { value: 2 });
  });

  it('reports startup finished but not ready when a required model fails to load', async (t) => {
    const service = await start(t, [ECHO, FAILING]);
    await service.registry.loadAll();
    assert.deepEqual(await probe(service, 'startup'), STARTED);
    assert.deepEqual(await probe(service, 'ready'), REFUSING);
    const response = await service.app.inject({ method: 'POST', url: '/api/models/failing/prediction', payload: {} });
    assert.equal(response.statusCode, 503);
    assert.match(response.json().message, /GPU out of memory/);
  });

  it('reports a slow model whose load finally fails as failed, with startup finished', async (t) => {
    const service = await start(t, [SLOW]);
    const loading = service.registry.loadAll();
    (service.registry.require('slow').model as SlowModel).fail(new Error('download interrupted'));
    await loading;
    assert.deepEqual(await probe(service, 'startup'), STARTED);
    assert.deepEqual(await probe(service, 'ready'), REFUSING);
    const listing = (await service.app.inject({ url: '/api/models' })).json() as { models: { status: string; error?: string }[] };
    assert.deepEqual(listing.models.map((m) => [m.status, m.error]), [['failed', 'download interrupted']]);
  });

  it('does not let a failing model with required: false block readiness', async (t) => {
    const service = await start(t, [ECHO, { ...FAILING, required: false }]);
    await service.registry.loadAll();
    assert.deepEqual(await probe(service, 'startup'), STARTED);
    assert.deepEqual(await probe(service, 'ready'), ACCEPTING);
  });

  it('does not let a still-loading model with required: false hold back readiness', async (t) => {
    const service = await start(t, [ECHO, { ...SLOW, required: false }]);
    const slow = service.registry.require('slow').model as SlowModel;
    const loading = service.registry.loadAll();
    await until(() => service.registry.require('echo').state === 'ready' && slow.loadStarted);
    try {
      assert.deepEqual(await probe(service, 'startup'), NOT_STARTED);
      assert.deepEqual(await probe(service, 'ready'), ACCEPTING, 'readiness waits only for required models');
    } finally {
      slow.release();
      await loading;
    }
  });

  it('is not ready with zero models', async (t) => {
    const service = await start(t, []);
    await service.registry.loadAll();
    assert.deepEqual(await probe(service, 'startup'), STARTED);
    assert.deepEqual(await probe(service, 'ready'), REFUSING);
  });

  it('is ready with zero models when health.ready_without_models is true', async (t) => {
    const service = await start(t, [], { health: { ready_without_models: true } });
    await service.registry.loadAll();
    assert.deepEqual(await probe(service, 'ready'), ACCEPTING);
  });

  it('turns readiness to 503 once draining begins, keeping liveness and startup', async (t) => {
    const service = await start(t, [ECHO]);
    await service.registry.loadAll();
    assert.deepEqual(await probe(service, 'ready'), ACCEPTING);
    service.registry.beginDrain();
    assert.deepEqual(await probe(service, 'ready'), REFUSING);
    assert.deepEqual(await probe(service, 'startup'), STARTED);
    assert.equal((await service.app.inject({ url: '/api/health' })).statusCode, 200);
  });

  it('refuses predictions with 503 after the models are unloaded', async (t) => {
    const service = await start(t, [ECHO]);
    await service.registry.loadAll();
    await service.registry.unloadAll();
    const response = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: { x: 1, name: 'a' } });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json().type, 'ModelNotReadyError');
    assert.deepEqual(await probe(service, 'ready'), REFUSING);
  });
});
