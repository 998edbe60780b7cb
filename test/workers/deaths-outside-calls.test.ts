/**
 * `workers: N` when a worker thread dies outside any call (process.exit() or an error thrown from a timer, after its
 * call answered): the thread is replaced as before, and now also logged at warn with the model's name and the reason,
 * and counted in longshore_worker_restarts_total{model, reason}.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { captureLogger, configYaml, fixture, writeConfig, type LogLine } from '../helpers/service.ts';
import { postJson } from '../helpers/server.ts';

describe('workers: a thread that dies outside a call', { concurrency: false }, () => {
  let server: RunningServer;
  let lines: LogLine[];
  const predict = (mode: string) => postJson(`${server.url}/api/models/timer_throw/prediction`, { mode });
  const restarts = async (reason: string) => {
    const values = (await server.service.metrics.registry.getSingleMetric('longshore_worker_restarts_total')?.get())?.values ?? [];
    return values.find((v) => v.labels.model === 'timer_throw' && v.labels.reason === reason)?.value ?? 0;
  };
  const replaced = async (reason: string, count: number) => {
    const deadline = performance.now() + 5000;
    while (lines.filter((line) => line.reason === reason).length < count) {
      if (performance.now() > deadline) assert.fail(`no "${reason}" restart logged within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return lines.filter((line) => line.reason === reason)[count - 1] as LogLine;
  };

  before(async () => {
    const captured = captureLogger('warn');
    lines = captured.lines;
    const entry = { class_path: fixture('timer-throw.ts', 'TimerThrowModel'), workers: 1 };
    server = await startServer({ loaded: loadConfigFile(writeConfig(configYaml([entry]))), host: '127.0.0.1', port: 0, logger: captured.logger });
    await server.modelsLoaded;
    assert.equal(server.registry.require('timer_throw').state, 'ready');
  });
  after(() => server.close());

  it('logs and counts a worker that calls process.exit() after its call answered, and serves from its replacement', async () => {
    const answered = await predict('exit');
    assert.equal(answered.status, 200);
    const line = await replaced('exit', 1);
    assert.equal(line.level, 40);
    assert.equal(line.model, 'timer_throw');
    assert.equal(line.detail, 'the thread exited with code 5');
    assert.equal(line.msg, "model 'timer_throw': a worker thread was replaced (the thread exited with code 5); the new thread loads the model again");
    assert.equal(await restarts('exit'), 1);
    const next = await predict('ok');
    assert.equal(next.status, 200);
    assert.notEqual(next.body.thread, answered.body.thread);
  });

  it('logs and counts a worker ended by an error thrown from its timer, with the error', async () => {
    assert.equal((await predict('timer')).status, 200);
    const line = await replaced('error', 1);
    assert.equal(line.model, 'timer_throw');
    assert.equal(line.detail, 'an error thrown outside any call ended the thread: the model failed in a timer');
    assert.equal(await restarts('error'), 1);
    assert.equal(await restarts('exit'), 1, 'the error is not counted twice');
    assert.equal((await predict('ok')).status, 200);
  });
});
