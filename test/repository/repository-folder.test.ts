/**
 * A model repository folder served over HTTP (issue 16): `<repo>/<name>/<version>/model.onnx` and `model.ts` through a
 * real server (`model_repository:` in YAML) and through `longshore serve --model-repository DIR --repository-api`: the
 * default route serves the newest version, `/versions/{v}/` one version, each version_policy decides what is served
 * (and 404s the rest), the `longshore.yaml` fragment is laid under the versions, and a version folder added or removed
 * at run time is picked up by `POST /v2/repository/models/{name}/load`.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server.ts';
import { startServe, type ServeProcess } from '../helpers/cli.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { fixture, tempDir, writeConfig } from '../helpers/service.ts';

const IRIS = join(import.meta.dirname, '../fixtures/onnx/iris_logreg.onnx');
const ROW = [5.1, 3.5, 1.4, 0.2];
/** A code model version: the fixture's class as the module's default export. */
const CODE_MODEL = `export { VersionedModel as default } from ${JSON.stringify(fixture('versioned.ts'))};\n`;

/** Adds `<repo>/<name>/<version>/model.onnx` (a copy of iris_logreg.onnx). */
function addOnnxVersion(repo: string, name: string, version: string): void {
  mkdirSync(join(repo, name, version), { recursive: true });
  copyFileSync(IRIS, join(repo, name, version, 'model.onnx'));
}

/**
 * iris: versions 1, 2, default policy (all). iris_latest: 1, 2, 10 with {latest: 2} (10 is newer than 2). iris_pinned:
 * 1, 2 with {specific: ["1"]}. labels: a code model, version 1, its configuration from the fragment.
 */
function makeRepository(): string {
  const repo = join(tempDir(), 'models');
  for (const version of ['1', '2']) addOnnxVersion(repo, 'iris', version);
  for (const version of ['1', '2', '10']) addOnnxVersion(repo, 'iris_latest', version);
  writeFileSync(join(repo, 'iris_latest', 'longshore.yaml'), 'version_policy: {latest: 2}\n');
  for (const version of ['1', '2']) addOnnxVersion(repo, 'iris_pinned', version);
  writeFileSync(join(repo, 'iris_pinned', 'longshore.yaml'), 'version_policy:\n  specific: ["1"]\n');
  mkdirSync(join(repo, 'labels', '1'), { recursive: true });
  writeFileSync(join(repo, 'labels', '1', 'model.ts'), CODE_MODEL);
  writeFileSync(join(repo, 'labels', 'longshore.yaml'), 'configuration: {label: from-the-fragment}\ntimeout_ms: 4321\n');
  return repo;
}

/** Small fetch helpers over one server's URL. */
function client(url: () => string) {
  const request = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${url()}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as Record<string, unknown> & unknown[] };
  };
  return {
    get: (path: string) => request('GET', path),
    post: (path: string, body?: unknown) => request('POST', path, body),
    /** V2 infer on `name` (or one of its versions); resolves with the status and the version that answered. */
    infer: async (name: string, version?: string) => {
      const path = version === undefined ? `/v2/models/${name}/infer` : `/v2/models/${name}/versions/${version}/infer`;
      const answer = await request('POST', path, { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 4], data: ROW }] });
      return { status: answer.status, version: answer.body.model_version as string | undefined, body: answer.body };
    },
    versions: async (name: string) => (await request('GET', `/v2/models/${name}`)).body.versions,
  };
}

describe('a model repository folder served by a real server', () => {
  let repo: string;
  let server: RunningServer;
  const http = client(() => server.url);

  before(async () => {
    repo = makeRepository();
    const file = writeConfig('model_repository: ./models\nserver:\n  repository_api: true\n', { dir: join(repo, '..') });
    server = await startServerFromFile(file);
  });
  after(() => server.close());

  it('policy all (the default): every version served, the default route answers with the newest', async () => {
    assert.deepEqual(await http.versions('iris'), ['1', '2']);
    assert.equal((await http.infer('iris')).version, '2');
    const one = await http.infer('iris', '1');
    assert.equal(one.status, 200);
    assert.equal(one.version, '1');
    const rest = await http.post('/api/models/iris/versions/1/prediction', { input: ROW });
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    assert.equal((await http.post('/api/models/iris/prediction', { input: ROW })).status, 200);
    assert.equal((await http.get('/api/models/iris/metadata')).body.version, '2');
  });

  it('policy {latest: 2}: the two newest by number (10 after 2), the one left out is a 404 naming the served ones', async () => {
    assert.deepEqual(await http.versions('iris_latest'), ['2', '10']);
    assert.equal((await http.infer('iris_latest')).version, '10');
    assert.equal((await http.infer('iris_latest', '2')).status, 200);
    const left = await http.infer('iris_latest', '1');
    assert.equal(left.status, 404);
    assert.match(String(left.body.error), /no version '1'; its versions: 2, 10/);
    assert.equal((await http.post('/api/models/iris_latest/versions/1/prediction', { input: ROW })).status, 404);
    assert.equal((await http.get('/v2/models/iris_latest/versions/1')).status, 404);
  });

  it('policy {specific: ["1"]}: only that version, served on the default route too; the other is a 404', async () => {
    assert.deepEqual(await http.versions('iris_pinned'), ['1']);
    assert.equal((await http.infer('iris_pinned')).version, '1');
    assert.equal((await http.infer('iris_pinned', '2')).status, 404);
    assert.equal((await http.get('/v2/models/iris_pinned/versions/2/ready')).status, 404);
  });

  it("a code model version (model.ts's default export), with the fragment's keys laid under it", async () => {
    const answer = await http.post('/api/models/labels/prediction', { x: 7 });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(answer.body, { label: 'from-the-fragment', x: 7 });
    assert.deepEqual(await http.versions('labels'), ['1']);
    const listed = (await http.get('/api/models')).body.models as { qualified_name: string; version: string }[];
    assert.deepEqual(
      listed.map((model) => `${model.qualified_name}/${model.version}`),
      ['iris/1', 'iris/2', 'iris_latest/2', 'iris_latest/10', 'iris_pinned/1', 'labels/1'],
    );
  });

  it('a version folder added at run time serves after a load; the others stay, per the policy', async () => {
    addOnnxVersion(repo, 'iris', '3');
    const load = await http.post('/v2/repository/models/iris/load');
    assert.equal(load.status, 200, JSON.stringify(load.body));
    assert.deepEqual(await http.versions('iris'), ['1', '2', '3']);
    assert.equal((await http.infer('iris')).version, '3');
    assert.equal((await http.infer('iris', '3')).status, 200);
    assert.equal((await http.infer('iris', '1')).status, 200);

    addOnnxVersion(repo, 'iris_latest', '11');
    assert.equal((await http.post('/v2/repository/models/iris_latest/load')).status, 200);
    assert.deepEqual(await http.versions('iris_latest'), ['10', '11']);
    assert.equal((await http.infer('iris_latest')).version, '11');
    assert.equal((await http.infer('iris_latest', '2')).status, 404);
  });

  it('a version folder removed at run time is gone (404) after a load; the others serve', async () => {
    rmSync(join(repo, 'iris', '3'), { recursive: true });
    assert.equal((await http.post('/v2/repository/models/iris/load')).status, 200);
    assert.deepEqual(await http.versions('iris'), ['1', '2']);
    assert.equal((await http.infer('iris', '3')).status, 404);
    assert.equal((await http.post('/api/models/iris/versions/3/prediction', { input: ROW })).status, 404);
    assert.equal((await http.infer('iris')).version, '2');
    assert.equal((await http.infer('iris', '1')).status, 200);

    rmSync(join(repo, 'iris_latest', '11'), { recursive: true });
    assert.equal((await http.post('/v2/repository/models/iris_latest/load')).status, 200);
    assert.deepEqual(await http.versions('iris_latest'), ['2', '10']);
    assert.equal((await http.infer('iris_latest', '2')).status, 200);
    assert.equal((await http.infer('iris_latest', '11')).status, 404);
  });

  it('the index lists the versions served now', async () => {
    const index = (await http.post('/v2/repository/index')).body as unknown as { name: string; version: string; state: string }[];
    assert.deepEqual(
      index.map((row) => `${row.name}/${row.version}/${row.state}`),
      ['iris/1/READY', 'iris/2/READY', 'iris_latest/2/READY', 'iris_latest/10/READY', 'iris_pinned/1/READY', 'labels/1/READY'],
    );
  });
});

describe('longshore serve --model-repository DIR --repository-api (a child process)', () => {
  let serve: ServeProcess | undefined;
  after(async () => {
    await serve?.stop();
  });

  it('serves the folder without a config file: a prediction, the index, and a load that reads the folder again', async () => {
    const repo = makeRepository();
    serve = await startServe(['--model-repository', repo, '--repository-api', '--port', '0', '--host', '127.0.0.1'], { cwd: tempDir(), timeoutMs: 30_000 });
    await serve.waitForLog('model loading finished');
    const http = client(() => serve!.url);
    const answer = await http.infer('iris');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.version, '2');
    const index = await http.post('/v2/repository/index', { ready: true });
    assert.equal(index.status, 200);
    assert.ok((index.body as unknown as { name: string }[]).some((row) => row.name === 'labels'), JSON.stringify(index.body));
    addOnnxVersion(repo, 'iris', '3');
    assert.equal((await http.post('/v2/repository/models/iris/load')).status, 200);
    assert.equal((await http.infer('iris')).version, '3');
    // Nothing on stderr: no warning from the routes' schemas (an ajv strict-types warning was printed there).
    assert.equal(serve.stderr(), '');
  });
});
