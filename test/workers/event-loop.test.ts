/**
 * `workers: N` through the real command (`node bin/longshore.js serve`, which registers tsx on the main thread only):
 * while a worker runs a long synchronous predict, the main thread keeps answering health checks and other models;
 * with `workers: 0` the same predict blocks them. On SIGTERM, every worker runs the model's unload() and the process
 * exits.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startServe, type ServeProcess } from '../helpers/cli.ts';
import { configYaml, fixture, tempDir, writeConfig } from '../helpers/service.ts';
import { timed } from './harness.ts';

const SPIN_MS = 600;

/** Serves BusyModel (spinning SPIN_MS per call) with `workers`, next to EchoModel on the main thread. */
async function serveBusy(workers: number): Promise<{ serve: ServeProcess; startedFile: string }> {
  const dir = tempDir();
  const startedFile = join(dir, 'predict-started');
  const file = writeConfig(
    configYaml(
      [
        { class_path: fixture('busy.ts', 'BusyModel'), workers, configuration: { spin_ms: SPIN_MS, started_file: startedFile } },
        { class_path: fixture('echo.ts', 'EchoModel') },
      ],
      { logging: { level: 'info' } },
    ),
    { dir },
  );
  const serve = await startServe(['--config', file, '--port', '0']);
  await serve.waitForLog('model loading finished');
  return { serve, startedFile };
}

/**
 * Starts a busy prediction and resolves once the model has begun computing, with the response still pending (wrapped:
 * an async function returning the promise itself would wait for it).
 */
async function startBusyPrediction(url: string, startedFile: string): Promise<{ pending: Promise<Response> }> {
  const response = fetch(`${url}/api/models/busy/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":27}' });
  const deadline = Date.now() + 10_000;
  while (!existsSync(startedFile)) {
    if (Date.now() > deadline) throw new Error('the prediction did not start within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return { pending: response };
}

describe('workers: the event loop stays free', { concurrency: false }, () => {
  it(`answers GET /api/health and another model in well under 100 ms while a worker computes for ${SPIN_MS} ms`, async (t) => {
    const { serve, startedFile } = await serveBusy(1);
    t.after(() => serve.kill());
    const busy = await startBusyPrediction(serve.url, startedFile);
    let busyAnswered = false;
    void busy.pending.then(() => (busyAnswered = true));

    const health = await timed(() => fetch(`${serve.url}/api/health`));
    assert.equal(health.value.status, 200);
    assert.deepEqual(await health.value.json(), { health_status: 'HEALTHY' });
    assert.equal(busyAnswered, false, 'the health check was answered while the worker was still computing');
    assert.ok(health.ms < 100, `GET /api/health took ${health.ms.toFixed(0)} ms during the worker's computation`);

    const echo = await timed(() =>
      fetch(`${serve.url}/api/models/echo/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1,"name":"meanwhile"}' }),
    );
    assert.deepEqual(await echo.value.json(), { doubled: 2, greeting: 'hello meanwhile' });
    assert.ok(echo.ms < 100, `the echo model took ${echo.ms.toFixed(0)} ms during the worker's computation`);

    const answer = await busy.pending;
    assert.equal(answer.status, 200);
    assert.deepEqual(await answer.json(), { n: 27, square: 729, collatz_steps: 111, label: 'n=27', via: 'predict' });
    assert.deepEqual(await serve.stop(), { code: 0, signal: null });
  });

  it('is blocked by the same predict on the main thread (workers: 0)', async (t) => {
    const { serve, startedFile } = await serveBusy(0);
    t.after(() => serve.kill());
    const busy = await startBusyPrediction(serve.url, startedFile);

    const health = await timed(() => fetch(`${serve.url}/api/health`));
    assert.equal(health.value.status, 200);
    assert.ok(health.ms > 300, `GET /api/health took only ${health.ms.toFixed(0)} ms although the main thread was computing`);
    const answer = await busy.pending;
    assert.equal(answer.status, 200);
    assert.equal(((await answer.json()) as { square: number }).square, 729);
    assert.deepEqual(await serve.stop(), { code: 0, signal: null });
  });
});

describe('workers: shutdown', () => {
  it("runs the model's unload() in every worker on SIGTERM, then the process exits with 0", async (t) => {
    const dir = tempDir();
    const file = writeConfig(
      configYaml([{ class_path: fixture('worker-lifecycle.ts', 'UnloadMarkerModel'), workers: 2, configuration: { unload_dir: dir } }], {
        logging: { level: 'info' },
      }),
      { dir },
    );
    const serve = await startServe(['--config', file, '--port', '0']);
    t.after(() => serve.kill());
    await serve.waitForLog('model loading finished');
    const response = await fetch(`${serve.url}/api/models/unload_marker/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":41}',
    });
    assert.deepEqual(await response.json(), { y: 42, loaded_in: 'worker' });

    const exit = await timed(() => serve.stop('SIGTERM', 10_000));
    assert.deepEqual(exit.value, { code: 0, signal: null }, serve.stderr());
    assert.ok(exit.ms < 4000, `shutdown took ${exit.ms.toFixed(0)} ms`);
    const markers = readdirSync(dir).filter((name) => name.startsWith('unloaded-'));
    assert.equal(markers.length, 2, `unload markers: ${markers.join(', ')}`);
    assert.ok(!markers.includes('unloaded-main'), 'the main-thread instance is never loaded or unloaded');
    assert.ok(serve.lines.some((line) => line.msg === 'longshore stopped'));
    assert.equal(serve.stderr(), '', 'no warnings or errors on stderr');
  });
});
