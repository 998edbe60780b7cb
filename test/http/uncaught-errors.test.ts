/**
 * Errors no call can catch, on the main thread of `longshore serve`: an exception thrown from a model's timer and a
 * promise rejection nobody handles. The server keeps serving; each is logged at error level with the model whose file
 * the stack points into ("unknown" when none) and counted in longshore_model_uncaught_errors_total{model, kind}.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startServe, type ServeProcess } from '../helpers/cli.ts';
import { configYaml, fixture, writeConfig } from '../helpers/service.ts';
import { postJson } from '../helpers/server.ts';

describe('longshore serve: errors thrown outside any call', { concurrency: false }, () => {
  let server: ServeProcess;
  const predict = (mode: string) => postJson(`${server.url}/api/models/timer_throw/prediction`, { mode });
  /** The log lines about errors outside calls, waiting until there are `count`. */
  const outsideCallLines = async (count: number) => {
    const deadline = performance.now() + 5000;
    const matching = () => server.lines.filter((line) => typeof line.kind === 'string' && line.level === 50);
    while (matching().length < count) {
      if (performance.now() > deadline) assert.fail(`fewer than ${count} error lines within 5 s; stderr: ${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return matching();
  };
  const counted = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return text.split('\n').filter((line) => line.startsWith('longshore_model_uncaught_errors_total{'));
  };

  before(async () => {
    const file = writeConfig(configYaml([{ class_path: fixture('timer-throw.ts', 'TimerThrowModel') }]));
    server = await startServe(['--config', file, '--port', '0', '--host', '127.0.0.1']);
    await server.waitForLog('model loading finished');
  });
  after(() => server.kill());

  it("keeps serving after a model's timer throws, and logs the error with the model's name", async () => {
    assert.equal((await predict('timer')).status, 200);
    const [line] = await outsideCallLines(1);
    assert.equal(line?.model, 'timer_throw');
    assert.equal(line?.kind, 'uncaught_exception');
    assert.equal(line?.msg, "uncaught exception outside any call (a bug in model 'timer_throw'); the server keeps running");
    assert.equal((line?.err as { message?: string }).message, 'the model failed in a timer');
    assert.deepEqual(await predict('ok'), { status: 200, body: { ok: true, thread: 0 } });
  });

  it('logs and counts an unhandled rejection the same way', async () => {
    assert.equal((await predict('rejection')).status, 200);
    const line = (await outsideCallLines(2))[1];
    assert.equal(line?.model, 'timer_throw');
    assert.equal(line?.kind, 'unhandled_rejection');
    assert.equal(line?.msg, "unhandled promise rejection outside any call (a bug in model 'timer_throw'); the server keeps running");
  });

  it('counts an error it cannot attribute to a model under model="unknown"', async () => {
    assert.equal((await predict('anonymous')).status, 200);
    const line = (await outsideCallLines(3))[2];
    assert.equal(line?.model, 'unknown');
    assert.equal(line?.msg, 'uncaught exception outside any call (a bug in a model or longshore); the server keeps running');
    assert.deepEqual((await counted()).sort(), [
      'longshore_model_uncaught_errors_total{model="timer_throw",kind="uncaught_exception"} 1',
      'longshore_model_uncaught_errors_total{model="timer_throw",kind="unhandled_rejection"} 1',
      'longshore_model_uncaught_errors_total{model="unknown",kind="uncaught_exception"} 1',
    ]);
    assert.equal((await fetch(`${server.url}/api/health/ready`)).status, 200);
  });
});
