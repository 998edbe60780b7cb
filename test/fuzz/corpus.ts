/**
 * The fixed part of the fuzz suite: malformed HTTP written as raw bytes on a socket (what no HTTP client sends: bad
 * request lines, lying or conflicting Content-Length, broken chunking, oversized headers and bodies, V2 framing cut
 * short), and the after-run check that the server is still ready and still gives its reference answers.
 */
import assert from 'node:assert/strict';
import { record, type FuzzReport } from './harness.ts';
import { sendRaw, type FuzzRequest } from './wire.ts';

export interface RawCase {
  name: string;
  bytes: Buffer;
  /** The path the request line names (decides REST or V2 error format); '' when there is none. */
  path: string;
}

const CRLF = '\r\n';

function http(lines: string[], body: Buffer | string = ''): Buffer {
  return Buffer.concat([Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
}

export interface CorpusOptions {
  /** A served single-input FP32 model for V2 framing cases. */
  model: string;
  /** A served model for REST cases. */
  restModel: string;
  /** Include bodies shorter than their Content-Length (answered 408 after server.request_timeout_ms: only on a server with a short one). */
  incompleteBodies: boolean;
  /** The server's body limit, to send one byte more. */
  bodyLimitBytes?: number;
}

export function rawCorpus(options: CorpusOptions): RawCase[] {
  const infer = `/v2/models/${options.model}/infer`;
  const predict = `/api/models/${options.restModel}/prediction`;
  const json = '{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}';
  const host = 'Host: 127.0.0.1';
  const cases: RawCase[] = [
    { name: 'garbage request line', bytes: http(['GARBAGE']), path: '' },
    { name: 'HTTP/2 preface on HTTP/1.1', bytes: Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), path: '' },
    { name: 'unknown HTTP version', bytes: http([`GET /v2 HTTP/9.9`, host]), path: '/v2' },
    { name: 'absolute-form URI', bytes: http([`POST http://127.0.0.1${infer} HTTP/1.1`, host, 'Content-Type: application/json', `Content-Length: ${json.length}`], json), path: '' },
    { name: 'asterisk-form OPTIONS', bytes: http(['OPTIONS * HTTP/1.1', host]), path: '' },
    { name: 'HTTP/1.1 without Host', bytes: http([`GET /api/models HTTP/1.1`]), path: '/api/models' },
    { name: 'HTTP/1.0 without Host', bytes: http([`GET /v2/health/ready HTTP/1.0`]), path: '/v2/health/ready' },
    { name: 'header without colon (V2)', bytes: http([`GET /v2 HTTP/1.1`, host, 'NoColonHere']), path: '/v2' },
    { name: 'NUL in a header value', bytes: http([`GET /api/health HTTP/1.1`, host, 'X-A: a\u0000b']), path: '/api/health' },
    { name: 'non-numeric Content-Length', bytes: http([`POST ${predict} HTTP/1.1`, host, 'Content-Type: application/json', 'Content-Length: abc'], '{}'), path: predict },
    { name: 'negative Content-Length', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/json', 'Content-Length: -1'], '{}'), path: infer },
    { name: 'two different Content-Lengths', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/json', 'Content-Length: 2', 'Content-Length: 3'], '{} '), path: infer },
    { name: 'Content-Length and Transfer-Encoding together', bytes: http([`POST ${predict} HTTP/1.1`, host, 'Content-Type: application/json', 'Content-Length: 2', 'Transfer-Encoding: chunked'], '2\r\n{}\r\n0\r\n\r\n'), path: predict },
    { name: 'bad chunk size', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/json', 'Transfer-Encoding: chunked'], 'zz\r\n{}\r\n0\r\n\r\n'), path: infer },
    { name: 'chunk extensions too large', bytes: http([`POST ${predict} HTTP/1.1`, host, 'Content-Type: application/json', 'Transfer-Encoding: chunked'], `2;${'x'.repeat(20_000)}\r\n{}\r\n0\r\n\r\n`), path: predict },
    { name: 'unknown Transfer-Encoding', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/json', 'Transfer-Encoding: gzip, chunked'], '2\r\n{}\r\n0\r\n\r\n'), path: infer },
    { name: 'headers larger than 16 KiB (V2)', bytes: http([`GET /v2 HTTP/1.1`, host, `X-Big: ${'a'.repeat(20_000)}`]), path: '/v2' },
    { name: 'URL longer than 16 KiB', bytes: http([`GET /api/models/${'a'.repeat(20_000)}/metadata HTTP/1.1`, host]), path: '/api/models/' },
    { name: 'Expect other than 100-continue (V2)', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Expect: teapot', 'Content-Type: application/json', `Content-Length: ${json.length}`], json), path: infer },
    { name: 'chunked V2 JSON body', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/json', 'Transfer-Encoding: chunked'], `${json.length.toString(16)}\r\n${json}\r\n0\r\n\r\n`), path: infer },
    {
      name: 'V2 framed body with Inference-Header-Content-Length beyond the body',
      bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/octet-stream', 'Inference-Header-Content-Length: 100000', `Content-Length: ${json.length}`], json),
      path: infer,
    },
    {
      name: 'V2 two Inference-Header-Content-Length headers',
      bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/octet-stream', `Inference-Header-Content-Length: ${json.length}`, 'Inference-Header-Content-Length: 3', `Content-Length: ${json.length}`], json),
      path: infer,
    },
    { name: 'V2 path with a NUL byte escape', bytes: http([`GET /v2/models/%00/ready HTTP/1.1`, host]), path: '/v2/models/%00/ready' },
    { name: 'docs static path leaving its directory', bytes: http([`GET /docs/static/%2e%2e/%2e%2e/package.json HTTP/1.1`, host]), path: '/docs/static/%2e%2e/%2e%2e/package.json' },
    { name: 'docs static backslash traversal', bytes: http([`GET /docs/static/..%5c..%5cpackage.json HTTP/1.1`, host]), path: '/docs/static/..%5c..%5cpackage.json' },
    { name: 'docs static unsatisfiable Range', bytes: http([`GET /docs/static/index.css HTTP/1.1`, host, 'Range: bytes=99999999-']), path: '/docs/static/index.css' },
    { name: 'docs static failed precondition', bytes: http([`GET /docs/static/index.css HTTP/1.1`, host, 'If-Match: "nope"']), path: '/docs/static/index.css' },
    { name: 'bad percent-encoding in the path', bytes: http([`GET /api/models/%zz/metadata HTTP/1.1`, host]), path: '/api/models/%zz/metadata' },
  ];
  if (options.bodyLimitBytes !== undefined) {
    const over = Buffer.alloc(options.bodyLimitBytes + 1, 0x20);
    cases.push(
      { name: 'REST body one byte over the limit', bytes: http([`POST ${predict} HTTP/1.1`, host, 'Content-Type: application/json', `Content-Length: ${over.length}`], over), path: predict },
      { name: 'V2 body one byte over the limit', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/json', `Content-Length: ${over.length}`], over), path: infer },
    );
  }
  if (options.incompleteBodies) {
    cases.push(
      { name: 'REST body shorter than its Content-Length', bytes: http([`POST ${predict} HTTP/1.1`, host, 'Content-Type: application/json', 'Content-Length: 100'], '{"a":'), path: predict },
      { name: 'V2 framed body shorter than its Content-Length', bytes: http([`POST ${infer} HTTP/1.1`, host, 'Content-Type: application/octet-stream', `Inference-Header-Content-Length: ${json.length}`, `Content-Length: ${json.length + 64}`], json), path: infer },
      { name: 'unfinished headers', bytes: Buffer.from(`GET /v2/health/live HTTP/1.1\r\n${host}\r\nX-Slow: 1`, 'latin1'), path: '/v2/health/live' },
    );
  }
  return cases;
}

/** Sends every case on its own connection and judges the answer; a case answered by a silent close fails. */
export async function runRawCorpus(report: FuzzReport, base: URL, cases: RawCase[]): Promise<void> {
  for (const rawCase of cases) {
    const firstLine = rawCase.bytes.subarray(0, Math.max(0, rawCase.bytes.indexOf('\r\n'))).toString('latin1');
    const req: FuzzRequest = { method: firstLine.split(' ')[0] ?? '', path: rawCase.path, headers: {}, body: rawCase.bytes, label: `raw: ${rawCase.name}`, raw: true };
    let res;
    try {
      res = await sendRaw(base, rawCase.bytes);
    } catch (error) {
      record(report, base, req, undefined, error as Error);
      continue;
    }
    record(report, base, req, res, res === undefined ? new Error('the server closed the connection without an answer') : undefined);
  }
}

export interface KnownGood {
  /** What is checked, for the message. */
  name: string;
  path: string;
  body: unknown;
  check(answer: unknown): void;
}

/** After a fuzz run: readiness is 200 on both protocols, and each known-good request still gives its reference answer. */
export async function assertHealthyAfter(base: URL, goods: KnownGood[]): Promise<void> {
  for (const probe of ['/api/health/ready', '/v2/health/ready', '/api/health']) {
    const response = await fetch(new URL(probe, base), { signal: AbortSignal.timeout(5000) });
    assert.equal(response.status, 200, `${probe} after the fuzz run: ${await response.text()}`);
  }
  for (const good of goods) {
    const response = await fetch(new URL(good.path, base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(good.body),
      signal: AbortSignal.timeout(5000),
    });
    const text = await response.text();
    assert.equal(response.status, 200, `${good.name} after the fuzz run: ${text}`);
    good.check(JSON.parse(text) as unknown);
  }
}

/** Asserts `actual` is within `tolerance` of `expected`, element by element. */
export function assertClose(actual: unknown, expected: readonly number[], tolerance: number, what: string): void {
  assert.ok(Array.isArray(actual), `${what}: ${JSON.stringify(actual)} is not an array`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((value, i) => assert.ok(Math.abs(Number(actual[i]) - value) <= tolerance, `${what}[${i}]: ${String(actual[i])} is not within ${tolerance} of ${value}`));
}

/** The iris reference (test/fixtures/onnx/iris_logreg.json, row 0): a setosa. */
export const IRIS_ROW = [5.1, 3.5, 1.4, 0.2];
export const IRIS_PROBABILITIES = [0.9815794229507446, 0.018420549109578133, 1.459569620720913e-8];

/** The iris ONNX model served as `model`, asked over V2 for IRIS_ROW: label 0 and the reference probabilities. */
export function irisOverV2(model: string): KnownGood {
  return {
    name: `${model} over V2 on a setosa`,
    path: `/v2/models/${model}/infer`,
    body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: IRIS_ROW }] },
    check: (answer) => {
      const outputs = (answer as { outputs: { name: string; data: unknown[] }[] }).outputs;
      assert.deepEqual(outputs.find((o) => o.name === 'label')?.data.map(Number), [0]);
      assertClose(outputs.find((o) => o.name === 'probabilities')?.data, IRIS_PROBABILITIES, 1e-6, `${model} V2 probabilities`);
    },
  };
}
