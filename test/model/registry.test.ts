/**
 * model/registry.ts (lookup, background loading, drain and unload) and dataplane/readiness.ts (readiness of the service).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load.ts';
import { ModelNotFoundError } from '../../src/errors.ts';
import type { Readiness } from '../../src/dataplane/readiness.ts';
import type { ModelRegistry } from '../../src/model/registry.ts';
import { createService } from '../../src/service.ts';
import type { EchoModel } from '../fixtures/code-models/echo.ts';
import type { SlowModel } from '../fixtures/code-models/slow.ts';
import { configYaml, fixture, silentLogger, tempDir } from '../helpers/service.ts';

/** The registry of a service over `models`, and the service's readiness (dataplane/readiness.ts) over it. */
async function registryFor(models: Record<string, unknown>[], extra: Record<string, unknown> = {}): Promise<{ registry: ModelRegistry; readiness: Readiness }> {
  const service = await createService(parseConfig(configYaml(models, extra), '<test>', tempDir()), silentLogger());
  return { registry: service.registry, readiness: service.dataplane.readiness };
}

describe('ModelRegistry and the readiness over it', () => {
  it('finds models by qualified_name and lists them in config order', async () => {
    const { registry } = await registryFor([{ class_path: fixture('echo.ts', 'EchoModel') }, { class_path: fixture('batch.ts', 'BatchModel') }]);
    assert.deepEqual(registry.list().map((m) => m.name), ['echo', 'batcher']);
    assert.equal(registry.require('batcher').name, 'batcher');
    assert.equal(registry.get('nope'), undefined);
  });

  it('throws ModelNotFoundError naming the served models for an unknown name', async () => {
    const { registry } = await registryFor([{ class_path: fixture('echo.ts', 'EchoModel') }, { class_path: fixture('batch.ts', 'BatchModel') }]);
    assert.throws(
      () => registry.require('nope'),
      (error: unknown) => error instanceof ModelNotFoundError && error.message === "model 'nope' not found; served models: echo, batcher",
    );
  });

  it('loads every model and only then reports startup complete and ready', async () => {
    const { registry, readiness } = await registryFor([{ class_path: fixture('echo.ts', 'EchoModel') }, { class_path: fixture('slow.ts', 'SlowModel') }]);
    const versionBefore = registry.version;
    const loading = registry.loadAll();
    assert.equal(registry.startupComplete, false);
    assert.equal(readiness.isReady(), false);
    (registry.require('slow').model as SlowModel).release();
    await loading;
    assert.equal(registry.startupComplete, true);
    assert.equal(readiness.isReady(), true);
    assert.deepEqual(registry.list().map((m) => m.state), ['ready', 'ready']);
    assert.ok(registry.version > versionBefore, 'state changes bump the version');
  });

  it('records a failed load instead of throwing, and is then not ready', async () => {
    const { registry, readiness } = await registryFor([{ class_path: fixture('echo.ts', 'EchoModel') }, { class_path: fixture('failing-load.ts', 'FailingLoadModel') }]);
    await registry.loadAll();
    assert.equal(registry.startupComplete, true);
    assert.equal(registry.require('failing').state, 'failed');
    assert.equal(readiness.isReady(), false);
  });

  it('ignores a failed model that is not required when deciding readiness', async () => {
    const { registry, readiness } = await registryFor([
      { class_path: fixture('echo.ts', 'EchoModel') },
      { class_path: fixture('failing-load.ts', 'FailingLoadModel'), required: false },
    ]);
    await registry.loadAll();
    assert.equal(readiness.isReady(), true);
  });

  it('is not ready with zero models unless ready_without_models is set', async () => {
    const { registry: strict, readiness: strictReadiness } = await registryFor([]);
    await strict.loadAll();
    assert.equal(strict.startupComplete, true);
    assert.equal(strictReadiness.isReady(), false);
    const { registry: lenient, readiness: lenientReadiness } = await registryFor([], { health: { ready_without_models: true } });
    await lenient.loadAll();
    assert.equal(lenientReadiness.isReady(), true);
  });

  it('turns readiness off when draining begins', async () => {
    const { registry, readiness } = await registryFor([{ class_path: fixture('echo.ts', 'EchoModel') }]);
    await registry.loadAll();
    const version = registry.version;
    registry.beginDrain();
    assert.equal(registry.draining, true);
    assert.equal(readiness.isReady(), false);
    assert.ok(registry.version > version);
  });

  it('unloads every model on unloadAll', async () => {
    const { registry, readiness } = await registryFor([{ class_path: fixture('echo.ts', 'EchoModel') }]);
    await registry.loadAll();
    await registry.unloadAll();
    assert.equal(registry.require('echo').state, 'unloaded');
    assert.equal((registry.require('echo').model as EchoModel).unloaded, true);
    assert.equal(readiness.isReady(), false);
  });
});
