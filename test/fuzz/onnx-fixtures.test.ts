/**
 * Property-based fuzzing of a server of the ONNX fixtures (test/fixtures/onnx: one FP32 input, two inputs of FP32 and
 * INT64, a 4-d image input, a BYTES input, a ZipMap output, a regressor) over every route of its OpenAPI document,
 * REST and V2 (JSON, framed binary, raw), plus malformed HTTP on raw sockets. Every answer must pass checks.ts, and one
 * more property guards against silent wrong answers: the same tensors sent as flat JSON, nested JSON, framed binary and
 * REST records give the same outputs.
 * The server has short client timeouts (request 2 s, headers 1 s) so bodies cut short are answered 408 in bounded time,
 * and a 1 MiB body limit so a body over it is cheap to send.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { writeConfig } from '../helpers/service.ts';
import { FIXTURES, readFixture } from '../runtimes/onnx-harness.ts';
import { assertClose, assertHealthyAfter, irisOverV2, rawCorpus, runRawCorpus } from './corpus.ts';
import { checkProperty, CI_RUNS, fuzz, newReport, settings, startFuzzServer, summary, type FuzzReport, type FuzzServer } from './harness.ts';
import { apiRequests, readServedApi, routeRequests, type ServedApi } from './routes.ts';
import { sameAnswerProperty } from './same-answer.ts';

const BODY_LIMIT = 1024 * 1024;
const MODELS: Record<string, string> = {
  iris: 'iris_logreg.onnx',
  iris_zipmap: 'iris_logreg_zipmap.onnx',
  multi_input: 'multi_input.onnx',
  mnist: 'mnist_cnn.onnx',
  text: 'text_clf.onnx',
  diabetes: 'diabetes_gbr.onnx',
};

function onnxConfig(): string {
  const models = Object.entries(MODELS).map(([name, file]) => ({ model_path: join(FIXTURES, file), qualified_name: name }));
  return writeConfig(
    JSON.stringify({
      service_title: 'ONNX fixtures under fuzzing',
      server: { request_timeout_ms: 2000, headers_timeout_ms: 1000, body_limit_bytes: BODY_LIMIT },
      models,
    }),
  );
}

describe('fuzzing a server of the ONNX fixtures', () => {
  let fuzzServer: FuzzServer;
  let api: ServedApi;
  const report: FuzzReport = newReport();

  before(async () => {
    fuzzServer = await startFuzzServer(onnxConfig());
    api = await readServedApi(fuzzServer.base);
  });
  after(async () => {
    await fuzzServer.close();
  });

  it('serves every fixture model and reads the V2 tensors of each', () => {
    assert.deepEqual(api.models.sort(), Object.keys(MODELS).sort());
    const multi = api.tensors.find((model) => model.name === 'multi_input');
    assert.deepEqual(multi?.inputs.map((input) => `${input.name}:${input.datatype}:${input.shape.join('x')}`), ['a:FP32:-1x3', 'b:INT64:-1x1']);
  });

  it('answers random valid and hostile requests on every route without an undocumented 5xx, in the catalogue format, in bounded time', async (t) => {
    await fuzz(report, fuzzServer.base, apiRequests(api), settings(CI_RUNS), { file: import.meta.filename, test: t.name });
    t.diagnostic(summary(report));
  });

  it('answers random V2 infer requests for every model, JSON, binary and raw, valid and hostile, likewise', async (t) => {
    const infer = api.routes.filter((route) => route.template === '/v2/models/{name}/infer' || route.template === '/v2/models/{name}/versions/{version}/infer');
    assert.equal(infer.length, 2);
    await fuzz(report, fuzzServer.base, fc.oneof(...infer.map((route) => routeRequests(api, route))), settings(400), { file: import.meta.filename, test: t.name });
    t.diagnostic(summary(report));
    assert.ok((report.statuses.get(200) ?? 0) > 0, 'some valid V2 requests succeeded');
  });

  it('gives the same outputs for the same tensors as flat JSON, nested JSON, framed binary and REST records', async (t) => {
    await checkProperty(sameAnswerProperty(fuzzServer.base, api.tensors), settings(100), { file: import.meta.filename, test: t.name }, 'same-answer failure');
  });

  it('answers malformed HTTP (raw bytes on a socket), bodies cut short and over the limit included, in the catalogue format', async (t) => {
    await runRawCorpus(report, fuzzServer.base, rawCorpus({ model: 'iris', restModel: 'iris', incompleteBodies: true, bodyLimitBytes: BODY_LIMIT }));
    t.diagnostic(summary(report));
  });

  it('is still ready and still gives the reference answers after the run', async () => {
    const multi = readFixture('multi_input');
    const text = readFixture('text_clf');
    await assertHealthyAfter(fuzzServer.base, [
      irisOverV2('iris'),
      {
        name: 'multi_input over V2 on its reference rows',
        path: '/v2/models/multi_input/infer',
        body: { inputs: Object.entries(multi.inputs).map(([name, tensor]) => ({ name, ...tensor })) },
        check: (answer) => {
          const sum = (answer as { outputs: { name: string; data: number[] }[] }).outputs.find((o) => o.name === 'sum');
          assertClose(sum?.data, multi.outputs.sum?.data as number[], 1e-5, 'sum');
        },
      },
      {
        name: 'text over REST on its reference sentences',
        path: '/api/models/text/predictions',
        body: (text.inputs.input?.data as string[]).map((sentence) => ({ input: [sentence] })),
        check: (answer) => assert.deepEqual((answer as { label: unknown }[]).map((o) => Number(o.label)), (text.outputs.label?.data as number[]).map(Number)),
      },
    ]);
  });
});
