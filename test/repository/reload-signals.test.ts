/**
 * Reloading a running `longshore serve`: SIGHUP reads the config again and switches to changed models; a config that
 * no longer reads changes nothing; --watch reloads on a change to the file; with --processes the primary sends SIGHUP
 * on to every worker, and the repository API is refused at start.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { postJson } from '../helpers/server.js';
import { runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { configYaml, fixture, writeConfig } from '../helpers/service.js';

const VERSIONED = fixture('versioned.ts', 'VersionedModel');
const yaml = (label: string, server: Record<string, unknown> = {}) =>
  configYaml([{ class_path: VERSIONED, qualified_name: 'm', configuration: { label } }], { server: { host: '127.0.0.1', port: 0, ...server } });

/** Polls the model until `count` answers in a row have `label` (each process of a cluster answers some). */
async function untilLabel(serve: ServeProcess, label: string, count = 1, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let streak = 0;
  let last: unknown;
  while (Date.now() < deadline) {
    const answer = await postJson<{ label: string }>(`${serve.url}/api/models/m/prediction`, { x: 1 }, 5000).catch((error: Error) => {
      throw new Error(`${error.message}: ${String((error.cause as Error | undefined)?.message)}; log: ${JSON.stringify(serve.lines.slice(-8))}`);
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    last = answer.body.label;
    streak = last === label ? streak + 1 : 0;
    if (streak >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`the model still answers '${String(last)}', not '${label}'`);
}

describe('reloads of a running server', () => {
  it('SIGHUP switches to a changed model, and a broken config changes nothing', async () => {
    const file = writeConfig(yaml('a'));
    const serve = await startServe(['--config', file]);
    try {
      await untilLabel(serve, 'a');
      writeFileSync(file, yaml('b'));
      serve.signal('SIGHUP');
      await untilLabel(serve, 'b');
      assert.ok((await serve.waitForLog('reload finished')).loaded, 'the log names the models loaded');
      writeFileSync(file, 'models: [');
      serve.signal('SIGHUP');
      const failed = await serve.waitForLog('reload failed: the config did not read; every model keeps serving as before');
      assert.match(JSON.stringify(failed.err), /longshore.yaml:1: YAML syntax error/);
      await untilLabel(serve, 'b', 3);
      assert.deepEqual(await serve.stop(), { code: 0, signal: null });
    } finally {
      serve.kill();
    }
  });

  it('--watch reloads when the config file changes', async () => {
    const file = writeConfig(yaml('a'));
    const serve = await startServe(['--config', file, '--watch']);
    try {
      await untilLabel(serve, 'a');
      writeFileSync(file, yaml('c'));
      await untilLabel(serve, 'c');
    } finally {
      serve.kill();
    }
  });

  it('with --processes 2, SIGHUP to the primary reloads every worker', async () => {
    const file = writeConfig(yaml('a'));
    const serve = await startServe(['--config', file, '--processes', '2'], { timeoutMs: 30_000 });
    try {
      await untilLabel(serve, 'a');
      writeFileSync(file, yaml('b'));
      serve.signal('SIGHUP');
      await untilLabel(serve, 'b', 20);
    } finally {
      serve.kill();
    }
  });

  it('refuses the repository API with --processes 2 at start, saying what to do instead', async () => {
    const result = await runCli(['serve', '--config', writeConfig(yaml('a')), '--processes', '2', '--repository-api']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /the model repository API \(server\.repository_api, --repository-api\) needs one process, and processes is 2: .*Change models with SIGHUP instead/);
  });
});
