/** What the client does without a good answer: readiness 503s from a real server, timeouts, refused connections, non-JSON errors. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LongshoreClient, LongshoreClientError } from '../../src/client/index.ts';
import type { RunningServer } from '../../src/server.ts';
import { configYaml, fixture } from '../helpers/service.ts';
import { startServerFromYaml } from './example-server.ts';

/** A plain HTTP server on 127.0.0.1 whose handler the test picks. */
async function stubServer(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function closeStub(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

describe('LongshoreClient readiness with a model that failed to load', () => {
  let server: RunningServer;
  let client: LongshoreClient;

  before(async () => {
    server = await startServerFromYaml(configYaml([{ class_path: fixture('failing-load.ts', 'FailingLoadModel') }]));
    client = new LongshoreClient(server.url);
  });
  after(() => server.close());

  it('health() is still true; ready() and serverReady() are false (503)', async () => {
    assert.equal(await client.health(), true);
    assert.equal(await client.ready(), false);
    assert.equal(await client.serverReady(), false);
  });

  it('modelReady() is false for the failed model', async () => {
    assert.equal(await client.modelReady('failing'), false);
  });

  it('listModels() reports the failure', async () => {
    const [model] = await client.listModels();
    assert.equal(model?.status, 'failed');
    assert.match(model?.error ?? '', /corrupt/);
  });

  it('calling the failed model is a 503 with the server message', async () => {
    await assert.rejects(client.predict('failing', {}), (error: unknown) => {
      assert.ok(error instanceof LongshoreClientError);
      assert.equal(error.status, 503);
      assert.equal(error.type, 'ModelNotReadyError');
      assert.match(error.message, /failing/);
      return true;
    });
  });
});

describe('LongshoreClient deadlines', () => {
  it('sends its timeoutMs as x-request-timeout-ms, so the server can drop work nobody will read', async () => {
    const seen: (string | undefined)[] = [];
    const { url, server } = await stubServer((request, response) => {
      seen.push(request.headers['x-request-timeout-ms'] as string | undefined);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ name: 'stub', version: '0', extensions: [] }));
    });
    try {
      await new LongshoreClient(url, { timeoutMs: 250 }).serverMetadata();
      await new LongshoreClient(url).serverMetadata();
      assert.deepEqual(seen, ['250', undefined]);
    } finally {
      await closeStub(server);
    }
  });
});

describe('LongshoreClient without a usable answer', () => {
  it('a server that never answers times out after timeoutMs (status 0)', async () => {
    const { url, server } = await stubServer(() => {});
    try {
      const client = new LongshoreClient(url, { timeoutMs: 50 });
      await assert.rejects(client.serverMetadata(), (error: unknown) => {
        assert.ok(error instanceof LongshoreClientError);
        assert.equal(error.status, 0);
        assert.equal(error.requestId, undefined);
        assert.equal(error.message, `GET ${url}/v2: no complete answer within 50 ms (timeoutMs)`);
        assert.equal((error.cause as Error).name, 'TimeoutError');
        return true;
      });
    } finally {
      await closeStub(server);
    }
  });

  it('a refused connection is status 0 with the cause', async () => {
    const { url, server } = await stubServer(() => {});
    await closeStub(server);
    await assert.rejects(new LongshoreClient(url).health(), (error: unknown) => {
      assert.ok(error instanceof LongshoreClientError);
      assert.equal(error.status, 0);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
  });

  it('an error answer without a longshore body keeps the status and the text', async () => {
    const { url, server } = await stubServer((_request, response) => {
      response.writeHead(502, { 'x-request-id': 'proxy-1' }).end('upstream down');
    });
    try {
      await assert.rejects(new LongshoreClient(url).listModels(), {
        name: 'LongshoreClientError',
        status: 502,
        requestId: 'proxy-1',
        message: `GET ${url}/api/models answered 502 Bad Gateway: upstream down`,
      });
    } finally {
      await closeStub(server);
    }
  });

  it('a 200 whose body is not JSON is a malformed response', async () => {
    const { url, server } = await stubServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<html>');
    });
    try {
      await assert.rejects(new LongshoreClient(url).modelMetadata('x'), { status: 200, message: /^GET .*\/v2\/models\/x: malformed response: the body is not valid JSON/ });
    } finally {
      await closeStub(server);
    }
  });

  it('sends the default headers, and escapes names in paths', async () => {
    let seen: { url?: string; auth?: string } = {};
    const { url, server } = await stubServer((request, response) => {
      seen = { url: request.url, auth: request.headers.authorization };
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"a/b","ready":true}');
    });
    try {
      const client = new LongshoreClient(new URL(url), { headers: { authorization: 'Bearer t0ken' } });
      assert.equal(await client.modelReady('a/b', '1 0'), true);
      assert.deepEqual(seen, { url: '/v2/models/a%2Fb/versions/1%200/ready', auth: 'Bearer t0ken' });
    } finally {
      await closeStub(server);
    }
  });

  it('rejects a base URL that is not http(s), and a timeout that is not positive', () => {
    assert.throws(() => new LongshoreClient('ftp://example.org'), TypeError);
    assert.throws(() => new LongshoreClient('not a url'), TypeError);
    assert.throws(() => new LongshoreClient('http://127.0.0.1:1', { timeoutMs: 0 }), RangeError);
  });
});
