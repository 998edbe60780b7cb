/**
 * The memory report of an ONNX model over HTTP: `memory` in GET /api/models/{name}/metadata (the session estimate:
 * the file's bytes × sessions, plus the session threads' heap with workers) and longshore_model_memory_bytes.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../helpers/service.ts';
import { serveModels, type WorkerService } from '../workers/harness.ts';

const IRIS = join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.onnx');
const BYTES = statSync(IRIS).size;

describe('ONNX: memory report', () => {
  let service: WorkerService;
  before(async () => {
    service = await serveModels([
      { model_path: IRIS, qualified_name: 'iris_main' },
      { model_path: IRIS, qualified_name: 'iris_workers', workers: 2 },
    ]);
  });
  after(() => service.close());

  it('estimates the sessions at the file size per session, and counts the session threads’ heap', async () => {
    const main = await service.get('/api/models/iris_main/metadata');
    assert.deepEqual((main.body.memory as { bytes: unknown }).bytes, { onnx_session: BYTES });
    const workers = (await service.get('/api/models/iris_workers/metadata')).body.memory as { bytes: Record<string, number>; method: string };
    assert.equal(workers.bytes.onnx_session, 2 * BYTES);
    assert.ok((workers.bytes.worker_heap ?? 0) > 100_000, `worker_heap ${workers.bytes.worker_heap}`);
    assert.match(workers.method, /an estimate/);
  });

  it('exports longshore_model_memory_bytes by kind at scrape time', async () => {
    const text = await (await fetch(`${service.url}/metrics`)).text();
    assert.match(text, new RegExp(`^longshore_model_memory_bytes\\{model="iris_main",version="1",kind="onnx_session"\\} ${BYTES}$`, 'm'));
    assert.match(text, new RegExp(`^longshore_model_memory_bytes\\{model="iris_workers",version="1",kind="onnx_session"\\} ${2 * BYTES}$`, 'm'));
    assert.match(text, /^longshore_model_memory_bytes\{model="iris_workers",version="1",kind="worker_heap"\} \d+$/m);
    assert.doesNotMatch(text, /model="iris_main",version="1",kind="worker_heap"/);
  });
});
