/**
 * `workers: N` for code models, over HTTP on 127.0.0.1:0: predictions from worker threads equal those of the main thread
 * (single, batch with and without predictBatch, V2), each worker gets the configuration, schemas set in load() inside
 * the workers are served, and N workers run N slow calls at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture } from '../helpers/service.ts';
import { serveModels, timed, type WorkerService } from './harness.ts';

/** What BusyModel answers for n, computed by hand. */
function expected(n: number, collatzSteps: number, via: 'predict' | 'predictBatch' = 'predict', prefix = 'n') {
  return { n, square: n * n, collatz_steps: collatzSteps, label: `${prefix}=${n}`, via };
}
const CASES: [number, number][] = [
  [1, 0],
  [7, 16],
  [27, 111],
  [97, 118],
];

describe('workers: predictions', { concurrency: false }, () => {
  let service: WorkerService;

  before(async () => {
    service = await serveModels([
      { class_path: fixture('busy.ts', 'BusyModel'), qualified_name: 'busy_main', workers: 0 },
      { class_path: fixture('busy.ts', 'BusyModel'), qualified_name: 'busy_pool', workers: 2 },
      { class_path: fixture('busy.ts', 'BusyBatchModel'), qualified_name: 'batch_main' },
      { class_path: fixture('busy.ts', 'BusyBatchModel'), qualified_name: 'batch_pool', workers: 2, configuration: { prefix: 'k' } },
      { class_path: fixture('late-schema.ts', 'LateSchemaModel'), workers: 1 },
      { class_path: fixture('busy.ts', 'BusyModel'), qualified_name: 'slow_one', workers: 1, configuration: { spin_ms: 400 } },
      { class_path: fixture('busy.ts', 'BusyModel'), qualified_name: 'slow_two', workers: 2, configuration: { spin_ms: 400 } },
    ]);
  });
  after(() => service.close());

  it('loads every model with workers', async () => {
    const { status, body } = await service.get('/api/models');
    assert.equal(status, 200);
    const models = body.models as { qualified_name: string; status: string }[];
    assert.deepEqual(
      models.map((model) => [model.qualified_name, model.status]),
      ['busy_main', 'busy_pool', 'batch_main', 'batch_pool', 'late', 'slow_one', 'slow_two'].map((name) => [name, 'ready']),
    );
  });

  it('answers single predictions from a worker exactly as the main thread does', async () => {
    for (const [n, steps] of CASES) {
      const main = await service.post('/api/models/busy_main/prediction', { n });
      const pooled = await service.post('/api/models/busy_pool/prediction', { n });
      assert.equal(main.status, 200);
      assert.equal(pooled.status, 200);
      assert.deepEqual(pooled.body, expected(n, steps));
      assert.deepEqual(pooled.body, main.body);
    }
  });

  it('answers /predictions batches from workers exactly as the main thread does (predict per record)', async () => {
    const records = CASES.map(([n]) => ({ n }));
    const main = await service.post('/api/models/busy_main/predictions', records);
    const pooled = await service.post('/api/models/busy_pool/predictions', records);
    assert.equal(pooled.status, 200);
    assert.deepEqual(
      pooled.body,
      CASES.map(([n, steps]) => expected(n, steps)),
    );
    assert.deepEqual(pooled.body, main.body);
  });

  it("runs the class's predictBatch in a worker for /predictions, with the worker's own configuration", async () => {
    const records = CASES.map(([n]) => ({ n }));
    const main = await service.post('/api/models/batch_main/predictions', records);
    const pooled = await service.post('/api/models/batch_pool/predictions', records);
    assert.equal(main.status, 200);
    assert.equal(pooled.status, 200);
    assert.deepEqual(
      main.body,
      CASES.map(([n, steps]) => expected(n, steps, 'predictBatch')),
    );
    assert.deepEqual(
      pooled.body,
      CASES.map(([n, steps]) => expected(n, steps, 'predictBatch', 'k')),
    );
  });

  it('serves Open Inference Protocol requests through the workers with the same outputs as the main thread', async () => {
    const infer = async (name: string) => {
      const response = await fetch(`${service.url}/v2/models/${name}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: [{ name: 'n', datatype: 'INT64', shape: [2], data: [7, 27] }] }),
      });
      assert.equal(response.status, 200);
      return ((await response.json()) as { outputs: unknown[] }).outputs;
    };
    const pooled = await infer('busy_pool');
    assert.deepEqual(pooled, await infer('busy_main'));
    assert.deepEqual(pooled[1], { name: 'square', datatype: 'INT64', shape: [2], data: [49, 729] });
  });

  it('validates inputs on the main thread before any worker runs', async () => {
    const { status, body } = await service.post('/api/models/busy_pool/prediction', { n: 0 });
    assert.equal(status, 400);
    assert.equal(body.type, 'SchemaValidationError');
    assert.match(String(body.message), /must be >= 1/);
  });

  it('serves the schemas a model sets in load() inside its workers', async () => {
    const metadata = await service.get('/api/models/late/metadata');
    assert.equal(metadata.status, 200);
    assert.deepEqual(metadata.body.input_schema, { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] });
    const ok = await service.post('/api/models/late/prediction', { q: 'where' });
    assert.deepEqual(ok, { status: 200, body: { answer: 'you asked where' } });
    const bad = await service.post('/api/models/late/prediction', { q: 5 });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.type, 'SchemaValidationError');
  });

  it('runs two slow calls in parallel on two workers, and one after the other on one worker', async () => {
    const twoCalls = (name: string) =>
      timed(() => Promise.all([service.post(`/api/models/${name}/prediction`, { n: 7 }), service.post(`/api/models/${name}/prediction`, { n: 27 })]));
    const pooled = await twoCalls('slow_two');
    const single = await twoCalls('slow_one');
    for (const { value } of [pooled, single]) {
      assert.deepEqual(
        value.map((response) => response.body),
        [expected(7, 16), expected(27, 111)],
      );
    }
    assert.ok(pooled.ms < 1.5 * 400, `two workers took ${pooled.ms.toFixed(0)} ms for two 400 ms calls; expected under 600 ms`);
    assert.ok(single.ms >= 2 * 400 * 0.95, `one worker took ${single.ms.toFixed(0)} ms for two 400 ms calls; expected about 800 ms`);
  });
});
