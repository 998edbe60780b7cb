/**
 * Issue 14: never a 5xx for a client's request, and every status a client can provoke in longshore's format, including
 * errors raised before routing (Node's HTTP parser, the headers and request timeouts) and those of fastify's plugins.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildService, configYaml, fixture, type TestService } from '../helpers/service.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** ms from the first write until the server closed the connection (or the wait ended). */
  ms: number;
  closed: boolean;
}

/** Sends `chunks` on a raw socket (each after `gapMs`), returns what came back when the server closes, within `waitMs`. */
function raw(port: number, chunks: string[], options: { gapMs?: number; waitMs?: number } = {}): Promise<RawResponse> {
  const { gapMs = 0, waitMs = 3000 } = options;
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const started = Date.now();
    let data = '';
    const timers: NodeJS.Timeout[] = [];
    const finish = (closed: boolean) => {
      for (const timer of timers) clearTimeout(timer);
      socket.destroy();
      const [head = '', body = ''] = splitOnce(data, '\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((line) => splitOnce(line, ': ')).map(([k, v]) => [k!.toLowerCase(), v ?? '']));
      resolve({ status: Number(statusLine.split(' ')[1] ?? 0), headers, body, ms: Date.now() - started, closed });
    };
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      chunks.forEach((chunk, i) => timers.push(setTimeout(() => socket.writable && socket.write(chunk), i * gapMs)));
    });
    timers.push(setTimeout(() => finish(false), waitMs));
  });
}

function splitOnce(text: string, separator: string): string[] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + separator.length)];
}

function port(service: TestService): number {
  return (service.app.server.address() as net.AddressInfo).port;
}

describe('errors a client can provoke, in the catalogue and in longshore format', () => {
  let service: TestService;
  before(async () => {
    const yaml = configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }], { server: { headers_timeout_ms: 400, request_timeout_ms: 800 } });
    service = await buildService(yaml);
    await service.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => service.close());

  it('answers paths leaving /docs/static with 404 RouteNotFoundError, not 500', async () => {
    for (const path of ['/docs/static/%2e%2e/%2e%2e/package.json', '/docs/static/..%5c..%5cpackage.json', '/docs/static/%00']) {
      const response = await raw(port(service), [`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
      assert.equal(response.status, 404, path);
      assert.equal(JSON.parse(response.body).type, 'RouteNotFoundError', path);
    }
  });

  it('answers an unsatisfiable Range on a docs file with 416 RangeNotSatisfiableError', async () => {
    const response = await service.app.inject({ url: '/docs/static/logo.svg', headers: { range: 'bytes=99999999-' } });
    assert.equal(response.statusCode, 416);
    assert.deepEqual(response.json(), { type: 'RangeNotSatisfiableError', message: response.json().message, details: [] });
  });

  it('answers a failed If-Match on a docs file with 412 PreconditionFailedError', async () => {
    const response = await service.app.inject({ url: '/docs/static/logo.svg', headers: { 'if-match': '"nope"' } });
    assert.equal(response.statusCode, 412);
    assert.equal(response.json().type, 'PreconditionFailedError');
  });

  it('answers a too long model name with 414 UriTooLongError and a bad percent-encoding with 400, with x-request-id', async () => {
    const long = await service.app.inject({ url: `/api/models/${'x'.repeat(150)}/metadata` });
    assert.equal(long.statusCode, 414);
    assert.equal(long.json().type, 'UriTooLongError');
    assert.ok(long.headers['x-request-id']);
    const bad = await service.app.inject({ url: '/v2/models/%zz/ready' });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(Object.keys(bad.json()), ['error']);
  });

  it('answers a malformed request line with 400 MalformedRequestError in the REST body', async () => {
    const response = await raw(port(service), ['GARBAGE\r\n\r\n']);
    assert.equal(response.status, 400);
    assert.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    assert.ok(response.headers['x-request-id']);
    const body = JSON.parse(response.body);
    assert.equal(body.type, 'MalformedRequestError');
    assert.deepEqual(body.details, []);
  });

  it('answers headers larger than Node allows with 431 HeadersTooLargeError, the V2 body under /v2', async () => {
    const big = 'a'.repeat(20_000);
    const rest = await raw(port(service), [`GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`]);
    assert.equal(rest.status, 431);
    assert.equal(JSON.parse(rest.body).type, 'HeadersTooLargeError');
    const v2 = await raw(port(service), [`GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Big: ${big}\r\n\r\n`]);
    assert.equal(v2.status, 431);
    assert.match(JSON.parse(v2.body).error, /larger than/);
  });

  it('answers an HTTP/1.1 request without Host, and an unknown Expect, in longshore format', async () => {
    const noHost = await raw(port(service), ['GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n']);
    assert.equal(noHost.status, 400);
    assert.equal(JSON.parse(noHost.body).type, 'MalformedRequestError');
    const expect = await raw(port(service), ['GET /api/health HTTP/1.1\r\nHost: x\r\nExpect: coffee\r\nConnection: close\r\n\r\n']);
    assert.equal(expect.status, 417);
    assert.equal(JSON.parse(expect.body).type, 'ExpectationFailedError');
  });

  it("answers an unknown Expect with what to send instead, keeping the client's x-request-id as every answer does", async () => {
    const kept = await raw(port(service), ['GET /api/health HTTP/1.1\r\nHost: x\r\nExpect: coffee\r\nX-Request-Id: trace-417\r\nConnection: close\r\n\r\n']);
    assert.equal(kept.status, 417);
    assert.equal(kept.headers['x-request-id'], 'trace-417');
    assert.equal(JSON.parse(kept.body).message, 'unsupported Expect header "coffee"; send Expect: 100-continue or no Expect header');
    const replaced = await raw(port(service), ['GET /api/health HTTP/1.1\r\nHost: x\r\nExpect: coffee\r\nX-Request-Id: not ok!\r\nConnection: close\r\n\r\n']);
    assert.match(replaced.headers['x-request-id'] ?? '', /^[0-9a-f-]{36}$/, 'an unsafe id is replaced by a UUID');
  });

  it('answers a body sent slowly with 408 RequestTimeoutError within server.request_timeout_ms, V2 body under /v2', async () => {
    // The body would take 10 × 300 ms = 3 s; the request timeout is 800 ms.
    const body = '{"inputs":[]}';
    const chunks = [`POST /v2/models/echo/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, ...body.split('')];
    const response = await raw(port(service), chunks, { gapMs: 300, waitMs: 4000 });
    assert.equal(response.status, 408);
    assert.ok(response.closed, 'the connection is closed after the 408');
    assert.ok(response.ms < 2500, `answered after ${response.ms} ms`);
    assert.match(JSON.parse(response.body).error, /server\.request_timeout_ms/);
    assert.ok(response.headers['x-request-id']);

    const rest = await raw(port(service), [`POST /api/models/echo/prediction HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{`], {
      waitMs: 4000,
    });
    assert.equal(rest.status, 408);
    assert.equal(JSON.parse(rest.body).type, 'RequestTimeoutError');
  });

  it('drops an unfinished header within server.headers_timeout_ms, with a 408 in the REST body', async () => {
    const response = await raw(port(service), ['GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: '], { waitMs: 4000 });
    assert.ok(response.closed, 'the connection was dropped');
    assert.ok(response.ms < 1500, `dropped after ${response.ms} ms`);
    assert.equal(response.status, 408);
    assert.equal(JSON.parse(response.body).type, 'RequestTimeoutError');
  });

  it('still answers a normal request', async () => {
    const response = await raw(port(service), ['GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    assert.equal(response.status, 200);
  });
});

describe('slow models are not cut by the request timeout', () => {
  it('answers a model call longer than server.request_timeout_ms', async () => {
    const yaml = configYaml([{ class_path: fixture('delayed-predict.ts', 'DelayedPredictModel'), configuration: { delay_ms: 1200 } }], {
      server: { headers_timeout_ms: 200, request_timeout_ms: 400 },
    });
    const service = await buildService(yaml);
    try {
      const address = await service.app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${address}/api/models/delayed/prediction`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"value":1}',
        signal: AbortSignal.timeout(5000),
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { value: 2 });
    } finally {
      await service.close();
    }
  });
});
