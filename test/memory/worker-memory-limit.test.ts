/**
 * memory_limit_mb on a code model with workers: a call that leaks past the limit loses its worker thread
 * (ERR_WORKER_OUT_OF_MEMORY), fails with a 500 naming memory_limit_mb, the thread is replaced and counted
 * (longshore_worker_restarts_total{reason="memory"}), and the server lives on. Also the memory report of a worker
 * model (metadata and longshore_model_memory_bytes) and the config rule (no memory_limit_mb without workers).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { configYaml, fixture, silentLogger, writeConfig } from '../helpers/service.ts';
import { postJson } from '../helpers/server.ts';

const HOG = fixture('memory-hog.ts', 'MemoryHogModel');

describe('memory_limit_mb: a worker thread that runs out of memory', { concurrency: false }, () => {
  let server: RunningServer;
  const predict = (mode: string) => postJson<Record<string, unknown>>(`${server.url}/api/models/memory_hog/prediction`, { mode }, 60_000);
  const restarts = async (reason: string) => {
    const values = (await server.service.metrics.registry.getSingleMetric('longshore_worker_restarts_total')?.get())?.values ?? [];
    return values.find((v) => v.labels.model === 'memory_hog' && v.labels.reason === reason)?.value ?? 0;
  };

  before(async () => {
    const entry = { class_path: HOG, workers: 1, memory_limit_mb: 32 };
    server = await startServer({ loaded: loadConfigFile(writeConfig(configYaml([entry]))), host: '127.0.0.1', port: 0, logger: silentLogger() });
    await server.modelsLoaded;
    assert.equal(server.registry.require('memory_hog').state, 'ready');
  });
  after(() => server.close());

  it('reports the worker threads’ heap in the metadata and as longshore_model_memory_bytes', async () => {
    const response = await fetch(`${server.url}/api/models/memory_hog/metadata`);
    const body = (await response.json()) as { memory: { measured: boolean; bytes: Record<string, number>; method: string } };
    assert.equal(response.status, 200);
    assert.equal(body.memory.measured, true);
    assert.ok((body.memory.bytes.worker_heap ?? 0) > 1_000_000, `worker_heap ${body.memory.bytes.worker_heap}`);
    assert.match(body.memory.method, /V8 heap used by 1 worker thread/);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^longshore_model_memory_bytes\{model="memory_hog",version="1",kind="worker_heap"\} \d{6,}$/m);
  });

  it('fails the leaking call with a 500 naming memory_limit_mb, replaces and counts the thread, and serves on', async () => {
    const before = await predict('ok');
    assert.equal(before.status, 200);
    const leaked = await predict('leak');
    assert.equal(leaked.status, 500);
    assert.match(JSON.stringify(leaked.body), /ran out of memory \(memory_limit_mb: 32\)/);
    const deadline = performance.now() + 10_000;
    while ((await restarts('memory')) < 1) {
      if (performance.now() > deadline) assert.fail('no restart with reason memory counted within 10 s');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await restarts('error'), 0, 'counted once, as memory');
    const next = await predict('ok');
    assert.equal(next.status, 200);
    assert.notEqual(next.body.thread, before.body.thread);
  });
});

describe('memory_limit_mb: config', () => {
  it('is a problem without workers, naming the key', () => {
    const file = writeConfig(configYaml([{ class_path: HOG, memory_limit_mb: 64 }]));
    assert.throws(() => loadConfigFile(file), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /memory_limit_mb: memory_limit_mb limits worker threads only/);
      return true;
    });
  });

  it('is a problem on an ONNX entry (a key of code models only)', () => {
    const file = writeConfig(configYaml([{ model_path: 'x.onnx', workers: 2, memory_limit_mb: 64 }]));
    assert.throws(() => loadConfigFile(file), /memory_limit_mb/);
  });
});
