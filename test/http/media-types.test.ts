/**
 * Request media types and UTF-8 (issue 14, item 7). The V2 routes that take a body (infer, explain) accept JSON, octet
 * stream or no Content-Type, and refuse anything else with a 415 in the V2 body. REST JSON routes refuse a charset
 * other than UTF-8 with a 415 naming it. A JSON body whose bytes are not UTF-8 is a 400 on both protocols (JSON,
 * and the JSON header of a framed V2 body), never decoded with U+FFFD in place of the bad bytes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildService, configYaml, fixture, REPO_ROOT, type TestService } from '../helpers/service.ts';
import { assertError as assertV2Error, okJson } from '../v2/v2-helpers.ts';

const ECHO_BODY = JSON.stringify({ x: 2, name: 'héllo 🙂' });
const V2_BODY = JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: [5.1, 3.5, 1.4, 0.2] }] });
const V2_MEDIA_MESSAGE = (type: string) =>
  `Content-Type "${type}" is not accepted by the Open Inference Protocol routes; send application/json (UTF-8), or application/octet-stream for the binary tensor extension`;

/** `text` as UTF-8 with the bytes of `marker` (an ASCII placeholder of the same length) replaced by `bytes`. */
function withBytes(text: string, marker: string, bytes: number[]): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  const at = utf8.indexOf(marker);
  assert.ok(at >= 0 && marker.length === bytes.length);
  Buffer.from(bytes).copy(utf8, at);
  return utf8;
}

describe('request media types and UTF-8', () => {
  let service: TestService;
  before(async () => {
    service = await buildService(
      configYaml([{ class_path: fixture('echo.ts', 'EchoModel') }, { model_path: join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx'), qualified_name: 'iris' }]),
    );
  });
  after(() => service.close());

  const post = (url: string, payload: string | Buffer, headers: Record<string, string> = {}) => service.app.inject({ method: 'POST', url, payload, headers });

  describe('V2 infer and explain', () => {
    it('accept application/json (any case, charset utf-8), application/octet-stream, or no Content-Type', async () => {
      const expected = okJson(await post('/v2/models/iris/infer', V2_BODY, { 'content-type': 'application/json' }));
      for (const type of [undefined, 'Application/JSON', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/octet-stream']) {
        const response = await post('/v2/models/iris/infer', V2_BODY, type === undefined ? {} : { 'content-type': type });
        assert.deepEqual(okJson(response), expected, String(type));
      }
    });

    it('refuse any other Content-Type with a 415 in the V2 body, before reading it', async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'json']) {
        assertV2Error(await post('/v2/models/iris/infer', V2_BODY, { 'content-type': type }), 415, V2_MEDIA_MESSAGE(type));
        assertV2Error(await post('/v2/models/iris/versions/1/infer', V2_BODY, { 'content-type': type }), 415, V2_MEDIA_MESSAGE(type));
      }
      // explain checks the type too (before its 501 for a model without explain()).
      assertV2Error(await post('/v2/models/iris/explain', V2_BODY, { 'content-type': 'text/plain' }), 415, V2_MEDIA_MESSAGE('text/plain'));
      // The type is checked before the body is read: a body over the limit (10 MiB by default) is still a 415, not a 413.
      const oversized = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
      assertV2Error(await post('/v2/models/iris/infer', oversized, { 'content-type': 'text/plain' }), 415, V2_MEDIA_MESSAGE('text/plain'));
    });

    it('refuse JSON in a charset other than UTF-8 with a 415 naming the charset', async () => {
      const response = await post('/v2/models/iris/infer', V2_BODY, { 'content-type': 'application/json; charset=utf-16' });
      assertV2Error(response, 415, 'Content-Type charset "utf-16" is not supported; JSON must be sent UTF-8 encoded (application/json, or application/json; charset=utf-8)');
    });

    it('a JSON body that is not UTF-8 is a 400 (was: decoded with U+FFFD)', async () => {
      const body = withBytes(JSON.stringify({ id: 'AB', ...JSON.parse(V2_BODY) }), 'AB', [0xff, 0x41]);
      assertV2Error(await post('/v2/models/iris/infer', body, { 'content-type': 'application/json' }), 400, 'request body is not valid UTF-8; send JSON UTF-8 encoded');
    });

    it('a framed JSON header that is not UTF-8 is a 400', async () => {
      const header = withBytes(JSON.stringify({ id: 'AB', inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }] }), 'AB', [0xc3, 0x28]);
      const payload = Buffer.concat([header, Buffer.from(Float32Array.of(5.1, 3.5, 1.4, 0.2).buffer)]);
      const response = await post('/v2/models/iris/infer', payload, { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) });
      assertV2Error(response, 400, `the JSON header (the first ${header.length} bytes) is not valid UTF-8; send JSON UTF-8 encoded`);
    });
  });

  describe('REST JSON routes', () => {
    it('accept charset utf-8 in any case or spelling, quoted or not, and no charset', async () => {
      for (const type of ['application/json', 'application/json; charset=utf-8', 'application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json; charset=utf8']) {
        const response = await post('/api/models/echo/prediction', ECHO_BODY, { 'content-type': type });
        assert.equal(response.statusCode, 200, `${type}: ${response.body}`);
        assert.deepEqual(response.json(), { doubled: 4, greeting: 'hello héllo 🙂' }, type);
      }
    });

    it('refuse a charset other than UTF-8 with a 415 naming it', async () => {
      for (const charset of ['latin1', 'utf-16', 'ISO-8859-1']) {
        const response = await post('/api/models/echo/prediction', ECHO_BODY, { 'content-type': `application/json; charset=${charset}` });
        assert.equal(response.statusCode, 415, response.body);
        assert.deepEqual(response.json(), {
          type: 'UnsupportedMediaTypeError',
          message: `Content-Type charset "${charset}" is not supported; JSON must be sent UTF-8 encoded (application/json, or application/json; charset=utf-8)`,
          details: [],
        });
      }
    });

    it('a body that is not UTF-8 is a 400 MalformedRequestError, on every JSON route (was: U+FFFD sent to the model)', async () => {
      for (const bytes of [[0xff, 0x41], [0xc3, 0x28], [0xed, 0xa0]]) {
        const body = withBytes(JSON.stringify({ x: 2, name: 'AB' }), 'AB', bytes);
        for (const url of ['/api/models/echo/prediction', '/api/models/echo/predictions']) {
          const response = await post(url, body, { 'content-type': 'application/json' });
          assert.equal(response.statusCode, 400, response.body);
          assert.deepEqual(response.json(), { type: 'MalformedRequestError', message: 'request body is not valid UTF-8; send JSON UTF-8 encoded', details: [] });
        }
      }
    });

    it("keeps fastify's JSON errors: an empty body and invalid JSON are 400s, __proto__ keys are refused", async () => {
      const empty = await post('/api/models/echo/prediction', '', { 'content-type': 'application/json' });
      assert.equal(empty.statusCode, 400);
      assert.equal(empty.json<{ type: string }>().type, 'MalformedRequestError');
      const invalid = await post('/api/models/echo/prediction', '{"x":', { 'content-type': 'application/json' });
      assert.equal(invalid.json<{ type: string }>().type, 'MalformedRequestError');
      const poisoned = await post('/api/models/echo/prediction', '{"x":1,"name":"a","__proto__":{"polluted":1}}', { 'content-type': 'application/json' });
      assert.equal(poisoned.statusCode, 400);
    });
  });
});
