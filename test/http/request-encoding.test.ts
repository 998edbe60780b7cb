/**
 * Compressed request bodies (issue 14, item 7): `Content-Encoding: gzip` / `deflate` (what Triton's clients send with
 * request_compression_algorithm), `br` and `identity` are decoded on REST and V2, never parsed as garbled JSON. The
 * decoded body is bounded by server.body_limit_bytes (a zip bomb is a 413); a corrupt body is a 400 naming the
 * coding; any other coding is a 415. Errors keep each protocol's body format.
 */
import assert from 'node:assert/strict';
import { Agent, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { buildService, configYaml, fixture, REPO_ROOT, type TestService } from '../helpers/service.ts';
import { assertError as assertV2Error, framed, okJson } from '../v2/v2-helpers.ts';

const BODY_LIMIT = 64 * 1024;
const ECHO_BODY = JSON.stringify({ x: 21, name: 'zïp 🙂' });
const ECHO_ANSWER = { doubled: 42, greeting: 'hello zïp 🙂' };
const V2_BODY = JSON.stringify({ id: 'c1', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });

const CODINGS: Record<string, (body: Buffer) => Buffer> = {
  gzip: (body) => gzipSync(body),
  'x-gzip': (body) => gzipSync(body),
  deflate: (body) => deflateSync(body),
  br: (body) => brotliCompressSync(body),
  identity: (body) => body,
  GZIP: (body) => gzipSync(body),
  'identity, gzip': (body) => gzipSync(body),
};

/**
 * A gzip body that decodes to `members` MiB of zeros: one compressed MiB repeated as gzip members (a valid gzip stream
 * is any number of members), about 1 KiB each.
 */
function gzipBomb(members: number): Buffer {
  const member = gzipSync(Buffer.alloc(1024 * 1024), { level: 9 });
  return Buffer.concat(Array.from({ length: members }, () => member));
}

function restError(response: { statusCode: number; json(): unknown }, status: number, type: string, message: RegExp): void {
  assert.equal(response.statusCode, status);
  const body = response.json() as { type: string; message: string; details: unknown[] };
  assert.equal(body.type, type);
  assert.match(body.message, message);
  assert.deepEqual(body.details, []);
}

describe('compressed request bodies', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(
      configYaml(
        [{ class_path: fixture('echo.ts', 'EchoModel') }, { model_path: join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx'), qualified_name: 'iris' }],
        { server: { body_limit_bytes: BODY_LIMIT } },
      ),
    );
  });
  after(() => service.close());

  const post = (url: string, payload: Buffer, headers: Record<string, string>) => service.app.inject({ method: 'POST', url, payload, headers });
  const restPost = (payload: Buffer, encoding: string) =>
    post('/api/models/echo/prediction', payload, { 'content-type': 'application/json', 'content-encoding': encoding });

  it('REST decodes gzip, x-gzip, deflate, br and identity (any case, identity listed or not)', async () => {
    for (const [encoding, encode] of Object.entries(CODINGS)) {
      const response = await restPost(encode(Buffer.from(ECHO_BODY)), encoding);
      assert.equal(response.statusCode, 200, `${encoding}: ${response.body}`);
      assert.deepEqual(response.json(), ECHO_ANSWER, encoding);
    }
  });

  it('V2 decodes a compressed JSON body to the same answer as the plain one', async () => {
    const plain = okJson(await post('/v2/models/iris/infer', Buffer.from(V2_BODY), { 'content-type': 'application/json' }));
    for (const [encoding, encode] of Object.entries(CODINGS)) {
      const response = await post('/v2/models/iris/infer', encode(Buffer.from(V2_BODY)), { 'content-type': 'application/json', 'content-encoding': encoding });
      assert.deepEqual(okJson(response), plain, encoding);
    }
  });

  it('V2 decodes a compressed framed binary body; Inference-Header-Content-Length counts decoded bytes', async () => {
    const request = framed({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] }, Buffer.from(Float32Array.of(5.1, 3.5, 1.4, 0.2).buffer));
    const response = await post('/v2/models/iris/infer', deflateSync(request.payload), { ...request.headers, 'content-encoding': 'deflate' });
    assert.deepEqual(okJson(response).outputs[0]?.data, [0]);
  });

  it('a coding longshore does not decode is a 415 naming it (REST and V2 bodies)', async () => {
    for (const encoding of ['zstd', 'compress', 'gzip, br']) {
      const response = await restPost(gzipSync(ECHO_BODY), encoding);
      restError(response, 415, 'UnsupportedMediaTypeError', /^Content-Encoding "(zstd|compress|gzip, br)" (is not supported|applies 2 codings); send the body/);
      assert.equal(response.headers['accept-encoding'], 'gzip, deflate, br', 'the 415 says which codings are taken (RFC 9110 12.5.3)');
    }
    const v2 = await post('/v2/models/iris/infer', Buffer.from(V2_BODY), { 'content-encoding': 'zstd' });
    assertV2Error(v2, 415, 'Content-Encoding "zstd" is not supported; send the body uncompressed (identity) or compressed with gzip, deflate or br');
  });

  it('a body that is not valid data of its coding is a 400 naming the coding, never parsed as JSON', async () => {
    const cases: [string, Buffer][] = [
      ['gzip', Buffer.from(ECHO_BODY)],
      ['gzip', gzipSync(ECHO_BODY).subarray(0, 20)],
      ['deflate', deflateRawSync(ECHO_BODY)],
      ['br', Buffer.from('not brotli at all')],
    ];
    for (const [encoding, payload] of cases) {
      const response = await restPost(payload, encoding);
      restError(response, 400, 'MalformedRequestError', new RegExp(`^request body is not valid ${encoding} data \\(Content-Encoding: ${encoding}\\): `));
    }
    const v2 = await post('/v2/models/iris/infer', Buffer.from(V2_BODY), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    assertV2Error(v2, 400, /^request body is not valid gzip data \(Content-Encoding: gzip\): /);
  });

  it('a body that decodes past server.body_limit_bytes is a 413 on REST and V2', async () => {
    const big = gzipSync(JSON.stringify({ x: 1, name: 'a'.repeat(BODY_LIMIT) }));
    assert.ok(big.length < BODY_LIMIT / 10, 'the compressed body is well under the limit');
    restError(await restPost(big, 'gzip'), 413, 'PayloadTooLargeError', new RegExp(`^request body is larger than the limit of ${BODY_LIMIT} bytes \\(server.body_limit_bytes\\) once decoded from gzip$`));
    assertV2Error(await post('/v2/models/iris/infer', big, { 'content-encoding': 'gzip' }), 413, /once decoded from gzip$/);
  });

  it('a zip bomb (1 GiB of zeros in 1 MiB of gzip) is a 413 over a real connection, and the server keeps serving', async () => {
    const address = await listen(service);
    const bomb = gzipBomb(1024);
    const heapBefore = process.memoryUsage().rss;
    const answer = await send(address, '/api/models/echo/prediction', bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.length) });
    assert.equal(answer.status, 413, answer.body);
    assert.equal((JSON.parse(answer.body) as { type: string }).type, 'PayloadTooLargeError');
    assert.ok(process.memoryUsage().rss - heapBefore < 256 * 1024 * 1024, 'decoding stopped at the limit');
    const next = await send(address, '/api/models/echo/prediction', Buffer.from(ECHO_BODY), { 'content-type': 'application/json' });
    assert.equal(next.status, 200, next.body);
    assert.deepEqual(JSON.parse(next.body), ECHO_ANSWER);
  });

  it('a corrupt compressed body refused for its Content-Type is a 415 with no error left behind, on a connection that stays usable', async () => {
    const address = await listen(service);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      for (const contentType of ['text/plain', '']) {
        const refused = await send(address, '/api/models/echo/prediction', Buffer.from('{"a":1}'), { 'content-type': contentType, 'content-encoding': 'gzip' }, agent);
        assert.equal(refused.status, 415, refused.body);
        assert.equal((JSON.parse(refused.body) as { type: string }).type, 'UnsupportedMediaTypeError');
        const next = await send(address, '/api/models/echo/prediction', Buffer.from(ECHO_BODY), { 'content-type': 'application/json' }, agent);
        assert.equal(next.status, 200, next.body);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(uncaught, [], 'the refused body left no uncaught exception');
    } finally {
      process.removeListener('uncaughtException', onUncaught);
      agent.destroy();
    }
  });
});

async function listen(service: TestService): Promise<AddressInfo> {
  if (!service.app.server.listening) await service.app.listen({ host: '127.0.0.1', port: 0 });
  return service.app.server.address() as AddressInfo;
}

function send(address: AddressInfo, path: string, body: Buffer, headers: Record<string, string>, agent?: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const options = { host: address.address, port: address.port, path, method: 'POST', headers: agent ? headers : { ...headers, connection: 'close' }, ...(agent ? { agent } : {}) };
    const request = httpRequest(options, (response) => {
      answered = true;
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    // The server may answer (and close) before the whole body is written; the answer is what counts.
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.end(body);
  });
}
