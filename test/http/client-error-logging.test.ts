/**
 * Issue 14, item 6: a client's errors (4xx) and the documented 501 NotImplementedError are not logged as server errors,
 * so a client cannot flood the log with error lines and stacks; other 5xx keep their error line with the stack.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildService, captureLogger, configYaml, fixture, type LogLine } from '../helpers/service.ts';

const REQUESTS = [
  { url: '/api/models/echo/explain', payload: '{"x":1,"name":"a"}', status: 501 },
  { url: '/v2/models/echo/explain', payload: '{"x":1,"name":"a"}', status: 501 },
  { url: '/api/models/echo/prediction', payload: '{bad', status: 400 },
  { url: '/api/models/nope/prediction', payload: '{}', status: 404 },
  { url: '/docs/static/%2e%2e/package.json', status: 404 },
];

async function logsOf(accessLog: boolean, level: 'info' | 'debug'): Promise<LogLine[]> {
  const { logger, lines } = captureLogger(level);
  const service = await buildService(configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }], { logging: { access_log: accessLog } }), { logger });
  try {
    lines.length = 0;
    for (const request of REQUESTS) {
      const response = await service.app.inject(
        request.payload === undefined
          ? { url: request.url }
          : { method: 'POST', url: request.url, payload: request.payload, headers: { 'content-type': 'application/json' } },
      );
      assert.equal(response.statusCode, request.status, request.url);
    }
  } finally {
    await service.close();
  }
  return lines;
}

describe('logging of client errors and 501', () => {
  for (const accessLog of [false, true]) {
    it(`writes no error line and no stack (access_log: ${accessLog}), at most one line per request`, async () => {
      for (const level of ['info', 'debug'] as const) {
        const lines = (await logsOf(accessLog, level)).filter((line) => line.request_id !== undefined);
        assert.deepEqual(
          lines.filter((line) => line.level >= 40).map((line) => line.msg),
          [],
          `level ${level}`,
        );
        assert.ok(!lines.some((line) => 'err' in line), `no err with a stack (level ${level})`);
        assert.ok(lines.length <= REQUESTS.length, `at most one line per request (level ${level}): ${lines.length}`);
        if (accessLog) assert.equal(lines.length, REQUESTS.length);
      }
    });
  }

  it('still logs a model failure (500) at error with its stack', async () => {
    const { logger, lines } = captureLogger('info');
    const service = await buildService(configYaml([{ class_path: fixture('throwing-predict.ts', 'ThrowingPredictModel') }]), { logger });
    try {
      const response = await service.app.inject({
        method: 'POST',
        url: '/api/models/thrower/prediction',
        payload: '{}',
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(response.statusCode, 500);
      const errors = lines.filter((line) => line.level === 50);
      assert.equal(errors.length, 1);
      assert.match(String((errors[0]!.err as { stack?: string }).stack), /\n\s+at /);
    } finally {
      await service.close();
    }
  });
});
