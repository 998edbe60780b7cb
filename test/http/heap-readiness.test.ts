/**
 * Readiness against the heap (server.max_heap_ratio): past that share of the V8 heap limit the server answers not
 * ready, saying why, on REST and V2, while it keeps serving; `longshore_heap_size_limit_bytes` exports the limit. The
 * threshold is set tiny here rather than filling the heap.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { getHeapStatistics } from 'node:v8';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';

const ECHO = { class_path: fixture('echo.ts', 'EchoModel') };
const HEAP_PROBLEM = /^the heap in use \(\d+ MiB\) is \d+% of its limit \(\d+ MiB\), above server\.max_heap_ratio 0\.0001: a model may be leaking memory$/;

async function start(t: TestContext, server: Record<string, unknown>): Promise<TestService> {
  const service = await buildService(configYaml([ECHO], { server }));
  t.after(() => service.close());
  return service;
}

describe('readiness and the heap limit', () => {
  it('refuses traffic with the reason while the heap in use is past server.max_heap_ratio, and keeps serving calls', async (t) => {
    const service = await start(t, { max_heap_ratio: 0.0001 });
    const ready = await service.app.inject({ url: '/api/health/ready' });
    assert.equal(ready.statusCode, 503);
    const body = ready.json() as { readiness_status: string; problems: string[] };
    assert.equal(body.readiness_status, 'REFUSING_TRAFFIC');
    assert.equal(body.problems.length, 1);
    assert.match(body.problems[0] as string, HEAP_PROBLEM);

    const v2 = await service.app.inject({ url: '/v2/health/ready' });
    assert.equal(v2.statusCode, 503);
    assert.match((v2.json() as { error: string }).error, /^server is not ready: the heap in use .* above server\.max_heap_ratio 0\.0001/);

    const call = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: { x: 1, name: 'a' } });
    assert.equal(call.statusCode, 200, 'the heap check is on the probes, not on calls');
  });

  it('is ready below the ratio, and with the check off (0)', async (t) => {
    for (const ratio of [0.9, 0]) {
      const service = await start(t, { max_heap_ratio: ratio });
      assert.equal((await service.app.inject({ url: '/api/health/ready' })).statusCode, 200, `max_heap_ratio ${ratio}`);
      assert.equal((await service.app.inject({ url: '/v2/health/ready' })).statusCode, 200, `max_heap_ratio ${ratio}`);
    }
  });

  it('exports the heap limit as longshore_heap_size_limit_bytes', async (t) => {
    const service = await start(t, {});
    const text = (await service.app.inject({ url: '/metrics' })).body;
    assert.match(text, /^# TYPE longshore_heap_size_limit_bytes gauge$/m);
    assert.ok(text.includes(`\nlongshore_heap_size_limit_bytes ${getHeapStatistics().heap_size_limit}\n`));
    assert.match(text, /^nodejs_heap_size_used_bytes \d+/m, "heap in use: prom-client's process metric, not duplicated");
    assert.match(text, /^nodejs_external_memory_bytes \d+/m);
  });
});
