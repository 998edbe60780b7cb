/**
 * `workers: N` lifecycle in-process: the main-thread instance is never loaded, close() runs unload() in every worker
 * thread, and a model the pool cannot serve faithfully (its own infer()) is refused at startup.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { createService } from '../../src/service.ts';
import { configYaml, fixture, silentLogger, tempDir, writeConfig } from '../helpers/service.ts';
import { serveModels } from './harness.ts';

describe('workers: lifecycle', () => {
  it("loads the model only in the workers, and close() runs its unload() in each of them", async () => {
    const dir = tempDir();
    const service = await serveModels([
      { class_path: fixture('worker-lifecycle.ts', 'UnloadMarkerModel'), workers: 3, configuration: { unload_dir: dir } },
    ]);
    const answers = await Promise.all([1, 2, 3, 4].map((x) => service.post('/api/models/unload_marker/prediction', { x })));
    assert.deepEqual(
      answers.map((answer) => [answer.status, answer.body]),
      [2, 3, 4, 5].map((y) => [200, { y, loaded_in: 'worker' }]),
    );
    assert.deepEqual(readdirSync(dir), [], 'nothing unloaded before shutdown');

    await service.close();
    assert.equal(service.server.registry.require('unload_marker').state, 'unloaded');
    const markers = readdirSync(dir).sort();
    assert.equal(markers.length, 3, `unload markers: ${markers.join(', ')}`);
    assert.ok(markers.every((name) => /^unloaded-\d+$/.test(name)), `unload markers: ${markers.join(', ')}`);
  });

  it('ends the worker threads at once when unloaded while they still load, and stays unloaded', async () => {
    const file = writeConfig(configYaml([{ class_path: fixture('slow.ts', 'SlowModel'), workers: 2, configuration: { delay_ms: 3000 } }]));
    const { registry } = await createService(loadConfigFile(file), silentLogger());
    const served = registry.require('slow');
    const loading = registry.loadAll();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(served.state, 'loading');
    const started = performance.now();
    await registry.unloadAll();
    const ms = performance.now() - started;
    assert.ok(ms < 1500, `unload took ${ms.toFixed(0)} ms`);
    await loading;
    assert.equal(served.state, 'unloaded');
    assert.equal(served.error, undefined);
  });

  it('refuses workers for a model with its own infer(), at the entry\'s workers key', async () => {
    const file = writeConfig(configYaml([{ class_path: fixture('worker-lifecycle.ts', 'OwnInferModel'), workers: 2 }]));
    await assert.rejects(createService(loadConfigFile(file), silentLogger()), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message + JSON.stringify(error.details), /models\[0\]\.workers: OwnInferModel has its own infer\(\), which does not run in worker threads/);
      return true;
    });
  });
});
