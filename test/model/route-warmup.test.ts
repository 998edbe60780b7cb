/**
 * The server's route warmup at start (http/route-warmup.ts): once the models are loaded, and before readiness, each
 * model with an example gets one POST of it to its /prediction route over loopback, so the first caller does not pay
 * for the HTTP layer's first run. That request reaches the model, but counts in no metric, access log line or
 * prediction log; `warmup: 0` skips it, and so does a server with API keys (the warmup has none).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { CountingModel } from '../fixtures/code-models/counting.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { captureLogger, configYaml, fixture, tempDir, writeConfig } from '../helpers/service.ts';
import { metricValue } from '../monitoring/monitoring-harness.ts';
import { join } from 'node:path';

const COUNTING = fixture('counting.ts', 'CountingModel');

async function served(entry: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const { logger, lines } = captureLogger('info');
  const server = await startServerFromFile(writeConfig(configYaml([{ class_path: COUNTING, qualified_name: 'counting', ...entry }], extra)), logger);
  after(() => server.close());
  const model = server.registry.require('counting').model as unknown as CountingModel;
  return { server, lines, calls: model.calls };
}

describe('route warmup at start', () => {
  it('sends the example to /prediction once after the self-test, before readiness, and counts it nowhere', async () => {
    const dir = tempDir();
    after(() => rmSync(dir, { recursive: true, force: true }));
    const log = join(dir, 'predictions.jsonl');
    const { server, lines, calls } = await served({}, { logging: { access_log: true }, monitoring: { enabled: true, flush_interval_ms: 20, destination: { type: 'file', path: log } } });
    assert.equal(calls, 2, 'one self-test run (warmup: 1), then one POST of the example through the HTTP route');
    assert.equal(await metricValue(server.service, 'longshore_requests_total', { model: 'counting', operation: 'predict' }), 0);
    const accessLines = lines.filter((line) => typeof line.request_id === 'string' && String(line.request_id).startsWith('longshore-warmup-'));
    assert.deepEqual(accessLines, [], 'no access log line for the warmup request');
    const predictions = /^http_requests_total\{method="POST",status="2xx",handler="\/api\/models\/\{name\}\/prediction"\} (\d+)$/m;
    const before = predictions.exec(await (await fetch(`${server.url}/metrics`)).text());
    assert.equal(before, null, 'no HTTP metric for it');
    const answer = await fetch(`${server.url}/api/models/counting/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":2}' });
    assert.deepEqual(await answer.json(), { y: 4 });
    assert.equal(await metricValue(server.service, 'longshore_requests_total', { model: 'counting', operation: 'predict' }), 1, 'a real request counts');
    assert.equal(predictions.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1], '1', 'and is in the HTTP metric the warmup is not');
    const accessed = () => lines.filter((line) => line.method === 'POST' && line.model === 'counting').length;
    for (let i = 0; i < 50 && accessed() === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(accessed(), 1, 'the access log has the real request only');
    const records = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
    for (let i = 0; i < 100 && records().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(records().length, 1, 'the prediction log has the real request only');
    assert.match(records()[0] ?? '', /"x":2/);
  });

  it('is skipped by warmup: 0 and by a server with API keys', async () => {
    assert.equal((await served({ warmup: 0 })).calls, 0);
    const dir = tempDir();
    after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'key'), 'route-warmup-test-key\n');
    const withKeys = await served({}, { auth: { keys: [{ file: join(dir, 'key'), scopes: ['predict'] }] } });
    assert.equal(withKeys.calls, 1, 'the self-test only');
  });
});
