/**
 * The access log (logging.access_log): one info line per request with its id, method, route template, model, status
 * and duration; a 5xx failure is that same line at level error with the full error, never a second line; a client
 * that leaves before its answer gets a 499 line (and is counted); access_log: false writes no line and leaves 5xx
 * logging to the error handler.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it } from 'node:test';
import { PREDICT_FAILURE } from '../fixtures/code-models/throwing-predict.ts';
import { serve, waitFor } from '../batching-http/http-harness.ts';
import { buildService, captureLogger, configYaml, fixture, type LogLine } from '../helpers/service.ts';

/** The access log is off by default (it costs throughput); these tests turn it on. */
const ACCESS_LOG_ON = { logging: { access_log: true } };
import { parseExposition, valueOf } from './exposition.ts';

const ECHO = { class_path: fixture('echo.ts', 'EchoModel') };
const THROWER = { class_path: fixture('throwing-predict.ts', 'ThrowingPredictModel') };
const DELAYED = { class_path: fixture('delayed-predict.ts', 'DelayedPredictModel'), configuration: { delay_ms: 300 } };

const accessLines = (lines: LogLine[]) => lines.filter((line) => 'request_id' in line && 'status' in line);

describe('access log', () => {
  it('writes one info line per request: request id, method, route template, model, status, duration', async () => {
    const { logger, lines } = captureLogger();
    const service = await buildService(configYaml([ECHO], ACCESS_LOG_ON), { logger });
    try {
      const ok = await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: { x: 1, name: 'a' }, headers: { 'x-request-id': 'req-1' } });
      assert.equal(ok.statusCode, 200);
      await service.app.inject({ method: 'POST', url: '/api/models/nothere/prediction', payload: { x: 1, name: 'a' } });
      await service.app.inject({ url: '/nope/123?q=1' });
      await service.app.inject({ url: '/api/health' });
      const access = accessLines(lines);
      assert.equal(access.length, 4, JSON.stringify(access));
      const [first, unknownModel, unknownUrl, health] = access;
      assert.deepEqual(
        { ...first, time: 0, pid: 0, hostname: '', duration_ms: 0 },
        { level: 30, time: 0, pid: 0, hostname: '', request_id: 'req-1', method: 'POST', route: '/api/models/{name}/prediction', model: 'echo', status: 200, duration_ms: 0, msg: 'request completed' },
      );
      assert.equal(typeof first?.duration_ms, 'number');
      assert.ok((first?.duration_ms as number) > 0);
      assert.equal(unknownModel?.model, 'nothere');
      assert.equal(unknownModel?.status, 404);
      assert.equal(unknownModel?.error_type, 'ModelNotFoundError');
      assert.equal(unknownUrl?.route, null);
      assert.equal(unknownUrl?.url, '/nope/123?q=1', 'the URL is logged only when no route matched');
      assert.equal(unknownUrl?.error_type, 'RouteNotFoundError');
      assert.equal(health?.route, '/api/health');
      assert.ok(!('model' in (health ?? {})));
      assert.equal(new Set(access.map((line) => line.request_id)).size, 4);
    } finally {
      await service.close();
    }
  });

  it('logs a 5xx once: the access line, at level error, carries the full error', async () => {
    const { logger, lines } = captureLogger();
    const service = await buildService(configYaml([THROWER], ACCESS_LOG_ON), { logger });
    try {
      const response = await service.app.inject({ method: 'POST', url: '/api/models/thrower/prediction', payload: {} });
      assert.equal(response.statusCode, 500);
      const id = response.headers['x-request-id'];
      const forRequest = lines.filter((line) => line.request_id === id);
      assert.equal(forRequest.length, 1, JSON.stringify(forRequest));
      const [line] = forRequest;
      assert.equal(line?.level, 50);
      assert.equal(line?.status, 500);
      assert.equal(line?.route, '/api/models/{name}/prediction');
      assert.equal(line?.error_type, 'InferenceError');
      const err = line?.err as { message: string; stack: string };
      assert.equal(err.message, PREDICT_FAILURE);
      assert.match(err.stack, /throwing-predict\.ts/);
    } finally {
      await service.close();
    }
  });

  it('access_log: false writes no line per request; the error handler still logs a 5xx in full', async () => {
    const { logger, lines } = captureLogger();
    const service = await buildService(configYaml([ECHO, THROWER], { logging: { access_log: false } }), { logger });
    try {
      await service.app.inject({ method: 'POST', url: '/api/models/echo/prediction', payload: { x: 1, name: 'a' } });
      await service.app.inject({ url: '/nope' });
      const response = await service.app.inject({ method: 'POST', url: '/api/models/thrower/prediction', payload: {} });
      const forRequests = lines.filter((line) => 'request_id' in line);
      assert.equal(forRequests.length, 1, JSON.stringify(forRequests));
      assert.equal(forRequests[0]?.request_id, response.headers['x-request-id']);
      assert.equal(forRequests[0]?.level, 50);
      assert.equal((forRequests[0]?.err as { message: string }).message, PREDICT_FAILURE);
      assert.ok(!('status' in (forRequests[0] ?? {})), 'the error handler line, not an access line');
    } finally {
      await service.close();
    }
  });

  it('logs and counts a request whose client left before the answer as 499', async () => {
    const { logger, lines } = captureLogger();
    const served = await serve(configYaml([DELAYED], ACCESS_LOG_ON), {}, logger);
    try {
      const { port } = new URL(served.url);
      const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/api/models/delayed/prediction', headers: { 'content-type': 'application/json', 'x-request-id': 'gone-1' } });
      request.on('error', () => {});
      request.end(JSON.stringify({ value: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      request.destroy();
      await waitFor(() => accessLines(lines).some((line) => line.request_id === 'gone-1'), 2000, 'the abort line');
      // The model's answer comes later, on a closed connection: still one line for the request.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const forRequest = lines.filter((line) => line.request_id === 'gone-1');
      assert.equal(forRequest.length, 1, JSON.stringify(forRequest));
      assert.equal(forRequest[0]?.status, 499);
      assert.equal(forRequest[0]?.level, 30);
      assert.equal(forRequest[0]?.msg, 'request aborted by the client');
      const metrics = parseExposition(await (await fetch(`${served.url}/metrics`)).text());
      assert.equal(valueOf(metrics, 'http_requests_total', { method: 'POST', status: '4xx', handler: '/api/models/{name}/prediction' }), 1);
    } finally {
      await served.close();
    }
  });
});
