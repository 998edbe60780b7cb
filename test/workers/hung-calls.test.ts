/**
 * `workers: N` and calls that never end: a call still running when its deadline passes has its worker thread
 * terminated and replaced within a second (a warn line naming the model, longshore_worker_restarts_total{reason=
 * "deadline"}), so hung calls cannot hold every slot and turn each later call into a 504. The model stays ready.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { captureLogger, configYaml, fixture, writeConfig, type LogLine } from '../helpers/service.ts';

const HANG = { class_path: fixture('hang.ts', 'HangModel'), workers: 2, timeout_ms: 10_000 };
/** The hung calls' own deadline (x-request-timeout-ms); later calls have the model's 10 s, time for a new thread to load. */
const DEADLINE_MS = 300;

async function until(condition: () => boolean, ms: number): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > ms) assert.fail(`condition not reached within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

describe('workers: a call past its deadline', { concurrency: false }, () => {
  let server: RunningServer;
  let lines: LogLine[];
  const predict = async (body: unknown, timeoutMs?: number) => {
    const response = await fetch(`${server.url}/api/models/hang/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(timeoutMs === undefined ? {} : { 'x-request-timeout-ms': String(timeoutMs) }) },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const restarts = async () => {
    const metric = server.service.metrics.registry.getSingleMetric('longshore_worker_restarts_total');
    const values = (await metric?.get())?.values ?? [];
    return values.filter((v) => v.labels.model === 'hang' && v.labels.reason === 'deadline').reduce((sum, v) => sum + v.value, 0);
  };

  before(async () => {
    const captured = captureLogger('warn');
    lines = captured.lines;
    server = await startServer({ loaded: loadConfigFile(writeConfig(configYaml([HANG]))), host: '127.0.0.1', port: 0, logger: captured.logger });
    await server.modelsLoaded;
    assert.equal(server.registry.require('hang').state, 'ready');
  });
  after(() => server.close());

  for (const mode of ['spin', 'hang'] as const) {
    it(`terminates and replaces the workers of two ${mode === 'spin' ? 'busy' : 'idle'} hung calls within 1 s of their deadline, then serves again`, async () => {
      const before = await restarts();
      const first = await predict({ mode: 'ok', value: 1 });
      assert.equal(first.status, 200);

      const hung = await Promise.all([predict({ mode, value: 1 }, DEADLINE_MS), predict({ mode, value: 2 }, DEADLINE_MS)]);
      for (const answer of hung) {
        assert.equal(answer.status, 504);
        assert.equal(answer.body.type, 'DeadlineExceededError');
      }
      const queue = server.registry.require('hang').queue;
      assert.ok(queue);
      await until(() => queue.running === 0, 1000);
      await until(() => lines.filter((line) => line.reason === 'deadline').length >= (mode === 'spin' ? 2 : 4), 1000);

      assert.equal(await restarts(), before + 2);
      const readiness = await fetch(`${server.url}/api/health/ready`);
      assert.equal(readiness.status, 200, 'terminating a worker is not a readiness problem');
      const next = await Promise.all([predict({ mode: 'ok', value: 3 }), predict({ mode: 'ok', value: 4 })]);
      assert.deepEqual(next.map((answer) => [answer.status, answer.body.value]), [[200, 6], [200, 8]]);
      const threads = new Set(next.map((answer) => answer.body.thread));
      assert.ok(!threads.has(first.body.thread), 'both threads were replaced');
    });
  }

  it('logs each replacement at warn with the model name, the reason and what happened', () => {
    const line = lines.find((l) => l.reason === 'deadline');
    assert.ok(line, 'a warn line for the terminated worker');
    assert.equal(line.level, 40);
    assert.equal(line.model, 'hang');
    assert.match(String(line.msg), /^model 'hang': a worker thread was replaced \(a call ran past the deadline of every caller, so its thread was terminated\)/);
  });
});
