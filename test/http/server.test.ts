/**
 * startServer over a real socket on 127.0.0.1:0: it listens before models load, serves requests, and close() drains
 * (readiness off, models unloaded) once, however often it is called.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfigFile } from '../../src/config/load.ts';
import { ConfigError } from '../../src/errors.ts';
import { startServer } from '../../src/server.ts';
import type { EchoModel } from '../fixtures/code-models/echo.ts';
import type { SlowModel } from '../fixtures/code-models/slow.ts';
import { configYaml, fixture, silentLogger, writeConfig } from '../helpers/service.ts';

describe('startServer', () => {
  it('listens on the given host and a free port, and serves models over HTTP', async (t) => {
    const loaded = loadConfigFile(writeConfig(configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }], { server: { port: 1 } })));
    const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
    t.after(() => server.close());
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.url, 'http://127.0.0.1:0');
    await server.modelsLoaded;

    const ready = await fetch(`${server.url}/api/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { readiness_status: 'ACCEPTING_TRAFFIC' });

    const response = await fetch(`${server.url}/api/models/echo/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'socket-1' },
      body: JSON.stringify({ x: 3, name: 'net' }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-request-id'), 'socket-1');
    assert.deepEqual(await response.json(), { doubled: 6, greeting: 'hello net' });
  });

  it('rejects a body over the limit with 413 over a real socket', async (t) => {
    const loaded = loadConfigFile(
      writeConfig(configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }], { server: { body_limit_bytes: 64 } })),
    );
    const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
    t.after(() => server.close());
    await server.modelsLoaded;
    const response = await fetch(`${server.url}/api/models/echo/prediction`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ x: 1, name: 'z'.repeat(200) }),
    });
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as { type: string }).type, 'PayloadTooLargeError');
    assert.ok(response.headers.get('x-request-id'));
  });

  it('answers probes while a model is still loading', async (t) => {
    const loaded = loadConfigFile(writeConfig(configYaml([{ class_path: fixture('slow.ts', 'SlowModel') }])));
    const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
    t.after(() => server.close());
    assert.equal((await fetch(`${server.url}/api/health`)).status, 200);
    assert.equal((await fetch(`${server.url}/api/health/startup`)).status, 503);
    assert.equal((await fetch(`${server.url}/api/health/ready`)).status, 503);
    (server.registry.require('slow').model as SlowModel).release();
    await server.modelsLoaded;
    assert.equal((await fetch(`${server.url}/api/health/startup`)).status, 200);
    assert.equal((await fetch(`${server.url}/api/health/ready`)).status, 200);
  });

  it('drains on close: readiness off, socket closed, models unloaded, idempotent', async () => {
    const loaded = loadConfigFile(writeConfig(configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }])));
    const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
    await server.modelsLoaded;
    const first = server.close();
    const second = server.close();
    assert.equal(first, second, 'close() returns the same promise when called twice');
    await first;
    assert.equal(server.registry.draining, true);
    assert.equal(server.service.dataplane.ready(), false);
    assert.equal(server.registry.require('echo').state, 'unloaded');
    assert.equal((server.registry.require('echo').model as EchoModel).unloaded, true);
    await assert.rejects(fetch(`${server.url}/api/health`));
  });

  it('keeps serving during server.drain_delay_ms after close() while readiness already answers 503', async () => {
    const loaded = loadConfigFile(
      writeConfig(configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }], { server: { drain_delay_ms: 300 } })),
    );
    const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() });
    await server.modelsLoaded;
    const closing = server.close();
    try {
      const ready = await fetch(`${server.url}/api/health/ready`);
      assert.equal(ready.status, 503);
      assert.deepEqual(await ready.json(), { readiness_status: 'REFUSING_TRAFFIC' });
      const response = await fetch(`${server.url}/api/models/echo/prediction`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ x: 1, name: 'late' }),
      });
      assert.equal(response.status, 200, 'in-flight traffic is still served while load balancers catch up');
    } finally {
      await closing;
    }
    await assert.rejects(fetch(`${server.url}/api/health`));
  });

  it('rejects a bad config with ConfigError before listening', async () => {
    const loaded = loadConfigFile(writeConfig(configYaml([{ class_path: fixture('missing.ts', 'Missing') }])));
    await assert.rejects(startServer({ loaded, host: '127.0.0.1', port: 0, logger: silentLogger() }), ConfigError);
  });
});
