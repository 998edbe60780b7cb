/**
 * Property-based fuzzing of the example service (examples/longshore.yaml: TypeScript, ONNX, decorated and graph models)
 * over every route of its OpenAPI document, REST and V2, with valid and hostile requests on real sockets. Every answer
 * must pass checks.ts (no undocumented 5xx, catalogue error bodies, bounded time), and the server must still be
 * healthy and right afterwards.
 * CI runs a fixed seed and a bounded number of requests; `npm run test:fuzz` runs 66× more with a fresh seed (see
 * harness.ts for FUZZ_SEED / FUZZ_RUNS / FUZZ_PATH / FUZZ_COLLECT).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { EXAMPLE_CONFIG } from '../helpers/service.ts';
import { CI_RUNS, fuzz, newReport, settings, startFuzzServer, summary, type FuzzReport, type FuzzServer } from './harness.ts';
import { apiRequests, readServedApi, routeRequests, type ServedApi } from './routes.ts';
import { assertClose, assertHealthyAfter, IRIS_PROBABILITIES, IRIS_ROW, irisOverV2, rawCorpus, runRawCorpus } from './corpus.ts';

describe('fuzzing the example service (examples/longshore.yaml)', () => {
  let fuzzServer: FuzzServer;
  let api: ServedApi;
  const report: FuzzReport = newReport();

  before(async () => {
    fuzzServer = await startFuzzServer(EXAMPLE_CONFIG);
    api = await readServedApi(fuzzServer.base);
  });
  after(async () => {
    await fuzzServer.close();
  });

  it('derives a route for every path and method of its OpenAPI document, model prediction paths included', () => {
    const templates = api.routes.map((route) => `${route.method} ${route.template}`);
    for (const expected of ['GET /api/health/ready', 'POST /v2/models/{name}/infer', 'POST /api/models/iris_model/prediction', 'POST /api/models/topic_text/score']) {
      assert.ok(templates.includes(expected), `${expected} in ${templates.join(', ')}`);
    }
    assert.deepEqual(api.models.sort(), ['embeddings', 'entities', 'iris_ab', 'iris_model', 'iris_onnx', 'iris_onnx_named', 'sentiment', 'topic', 'topic_text']);
  });

  it('answers random valid and hostile requests on every route without an undocumented 5xx, in the catalogue format, in bounded time', async (t) => {
    await fuzz(report, fuzzServer.base, apiRequests(api), settings(CI_RUNS), { file: import.meta.filename, test: t.name });
    t.diagnostic(summary(report));
  });

  it('answers random V2 infer and explain requests for every model (TypeScript, ONNX, BYTES, graphs), JSON, binary and raw, likewise', async (t) => {
    const v2 = api.routes.filter((route) => route.binary);
    assert.equal(v2.length, 4, 'infer and explain, with and without a version');
    await fuzz(report, fuzzServer.base, fc.oneof(...v2.map((route) => routeRequests(api, route))), settings(300), { file: import.meta.filename, test: t.name });
    t.diagnostic(summary(report));
  });

  it('answers every route with at least a few requests each (no route starved by the random mix)', async (t) => {
    for (const route of api.routes) await fuzz(report, fuzzServer.base, routeRequests(api, route), settings(6), { file: import.meta.filename, test: t.name });
    assert.ok([...report.statuses.keys()].some((status) => status === 200), 'some valid requests succeeded');
    assert.ok([...report.statuses.keys()].some((status) => status === 400), 'some hostile requests were refused');
  });

  it('answers malformed HTTP (raw bytes on a socket) in the catalogue format', async (t) => {
    await runRawCorpus(report, fuzzServer.base, rawCorpus({ model: 'iris_onnx', restModel: 'iris_model', incompleteBodies: false, bodyLimitBytes: 10 * 1024 * 1024 }));
    t.diagnostic(summary(report));
  });

  it('is still ready and still gives the reference answers after the run', async () => {
    const [sepal_length, sepal_width, petal_length, petal_width] = IRIS_ROW;
    await assertHealthyAfter(fuzzServer.base, [
      {
        name: 'iris_model (TypeScript) on a setosa',
        path: '/api/models/iris_model/prediction',
        body: { sepal_length, sepal_width, petal_length, petal_width },
        check: (answer) => {
          const output = answer as { species: string; label: number; probabilities: number[] };
          assert.equal(output.species, 'setosa');
          assertClose(output.probabilities, IRIS_PROBABILITIES, 1e-6, 'iris_model probabilities');
        },
      },
      {
        name: 'iris_onnx over REST on a setosa',
        path: '/api/models/iris_onnx/prediction',
        body: { input: IRIS_ROW },
        check: (answer) => {
          const output = answer as { label: unknown; probabilities: number[] };
          assert.equal(Number(output.label), 0);
          assertClose(output.probabilities, IRIS_PROBABILITIES, 1e-6, 'iris_onnx probabilities');
        },
      },
      irisOverV2('iris_onnx'),
    ]);
  });
});
