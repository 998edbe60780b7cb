/**
 * longshore as a user gets it: `npm pack` of this repository, installed into fresh projects outside the clone with the
 * README's .npmrc, and used there with plain `node`, `npx longshore` and a strict `tsc`. Slow (two npm installs), so
 * it runs as `npm run test:package`, after the unit and HTTP suites.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { documentedNpmrc, installedVersion, mustRun, pack, REPO_ROOT, run, ServeProcess, TempDirs, type Packed } from './packed-project.ts';
import { CLIENT_USE, CONSUMER_TSCONFIG, docsMinimalModel, IMPORT_CHECK, REQUIRE_CHECK, SCALER_MODEL } from './consumer-files.ts';
import { postJson } from '../helpers/server.ts';

const MAX_TARBALL_BYTES = 3 * 1024 * 1024;
const temp = new TempDirs();
const servers: ServeProcess[] = [];
let packed: Packed;
let app: string;

before(async () => {
  packed = await pack(temp.make('pack'));
  app = temp.make('app');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'user-app', version: '1.0.0', private: true }, null, 2));
  writeFileSync(join(app, '.npmrc'), documentedNpmrc());
  await mustRun('npm', ['install', packed.tarball, `onnxruntime-node@${installedVersion('onnxruntime-node')}`, `@sinclair/typebox@${installedVersion('@sinclair/typebox')}`], app);
  await mustRun('npm', ['install', '--save-dev', `typescript@${installedVersion('typescript')}`, '@types/node@^20.19.0'], app);
});

after(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  temp.removeAll();
});

describe('the packed tarball', () => {
  test('is under 3 MB and holds the built package, its docs and licence, and no tests, benchmarks or model files', () => {
    assert.ok(packed.size < MAX_TARBALL_BYTES, `tarball is ${packed.size} bytes`);
    const paths = packed.files.map((file) => file.path);
    for (const required of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/bin.js', 'dist/client/index.js', 'dist/client/index.d.ts', 'dist/runtimes/worker-entry.js', 'dist/runtimes/onnx-worker.js', 'proto/open_inference_grpc.proto', 'proto/model_repository.proto', 'dist/config/validators.generated.cjs']) {
      assert.ok(paths.includes(required), `${required} is missing from the tarball`);
    }
    const unexpected = paths.filter((path) => !/^(dist\/.+\.(js|d\.ts)|dist\/config\/validators\.generated\.cjs|docs\/[^/]+\.md|proto\/[a-z_]+\.proto|package\.json|README\.md|LICENSE|CHANGELOG\.md)$/.test(path));
    assert.deepEqual(unexpected, []);
    assert.deepEqual(paths.filter((path) => /(^|\/)(test|bench|examples|src)\/|\.(onnx|ts)$/.test(path) && !path.endsWith('.d.ts')), []);
  });
});

describe('a project that installed the tarball', () => {
  test('imports longshore and longshore/client from a plain .mjs with plain node', async () => {
    writeFileSync(join(app, 'check-imports.mjs'), IMPORT_CHECK);
    const { stdout } = await mustRun(process.execPath, ['check-imports.mjs'], app);
    assert.deepEqual(JSON.parse(stdout), { startServer: 'function', LongshoreClient: 'function', SchemaValidationError: 400, client: 'LongshoreClient' });
  });

  test('requires longshore and longshore/client from a plain .cjs (require of ES modules, Node >= 20.19)', async () => {
    writeFileSync(join(app, 'check-require.cjs'), REQUIRE_CHECK);
    const { stdout } = await mustRun(process.execPath, ['check-require.cjs'], app);
    assert.deepEqual(JSON.parse(stdout), { startServer: 'function', LongshoreClient: 'function' });
  });

  test('compiles a TypeScript model and client code against the shipped types with strict options, skipLibCheck on and off', async () => {
    mkdirSync(join(app, 'models'), { recursive: true });
    writeFileSync(join(app, 'models/scaler.ts'), SCALER_MODEL);
    writeFileSync(join(app, 'models/minimal.ts'), docsMinimalModel(join(app, 'node_modules/longshore/docs/writing-a-model.md')));
    writeFileSync(join(app, 'client-use.ts'), CLIENT_USE);
    for (const skipLibCheck of [true, false]) {
      writeFileSync(join(app, 'tsconfig.json'), CONSUMER_TSCONFIG(skipLibCheck));
      const result = await run('npx', ['tsc', '-p', 'tsconfig.json'], app);
      assert.equal(result.code, 0, `tsc with skipLibCheck ${skipLibCheck}:\n${result.stdout}${result.stderr}`);
    }
  });

  test('a strict tsc rejects a model that misses predict(), so the check above can fail', async () => {
    const broken = join(app, 'broken');
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, 'model.ts'), SCALER_MODEL.replace(/predict\(/, 'guess('));
    writeFileSync(join(broken, 'tsconfig.json'), CONSUMER_TSCONFIG(true, ['model.ts']));
    const result = await run('npx', ['tsc', '-p', 'tsconfig.json'], broken);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stdout, /model\.ts\(\d+,\d+\): error TS2420[\s\S]*Property 'predict' is missing/);
  });

  test('npx longshore serve answers a .ts model and an .onnx file correctly with TMPDIR pointing at a folder that does not exist', async () => {
    copyFileSync(join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.onnx'), join(app, 'models/iris.onnx'));
    writeFileSync(
      join(app, 'longshore.yaml'),
      [
        'models:',
        '  - class_path: ./models/scaler.ts#Scaler',
        '    configuration: {factor: 3}',
        '  - class_path: ./models/scaler.ts#Scaler', // the same class in a worker thread, which loads .ts on its own
        '    qualified_name: scaler_in_worker',
        '    workers: 1',
        '    configuration: {factor: 5}',
        '  - model_path: ./models/iris.onnx',
        '    qualified_name: iris',
        '',
      ].join('\n'),
    );
    const missingTmp = join(app, 'no-such-tmp');
    const server = new ServeProcess(app, ['--port', '0', '--host', '127.0.0.1'], { TMPDIR: missingTmp });
    servers.push(server);
    const url = await server.url;
    await waitReady(url);

    const scaled = await postJson(`${url}/api/models/scaler/prediction`, { x: 14 });
    assert.deepEqual(scaled, { status: 200, body: { y: 42 } });
    assert.deepEqual(await postJson(`${url}/api/models/scaler_in_worker/prediction`, { x: 14 }), { status: 200, body: { y: 70 } });

    const reference = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.json'), 'utf8')) as {
      inputs: { input: { data: number[] } };
      outputs: { label: { data: number[] }; probabilities: { data: number[] } };
    };
    const rows = chunk(reference.inputs.input.data, 4);
    const answer = await postJson<{ label: number; probabilities: number[] }[]>(`${url}/api/models/iris/predictions`, rows.map((input) => ({ input })));
    assert.equal(answer.status, 200);
    const records = answer.body;
    assert.deepEqual(records.map((record) => record.label), reference.outputs.label.data);
    const expected = chunk(reference.outputs.probabilities.data, 3);
    records.forEach((record, i) => record.probabilities.forEach((p, j) => assert.ok(Math.abs(p - (expected[i]?.[j] ?? NaN)) < 1e-5)));

    const v2 = await postJson(`${url}/v2/models/scaler/infer`, { inputs: [{ name: 'x', datatype: 'FP64', shape: [2], data: [1, 2.5] }] });
    assert.equal(v2.status, 200, JSON.stringify(v2.body));
    assert.deepEqual((v2.body as { outputs: { name: string; data: number[] }[] }).outputs.find((output) => output.name === 'y')?.data, [3, 7.5]);

    await server.stop();
    assert.match(server.output, /"msg":"longshore stopped"/, 'SIGTERM drained and stopped the server');
    assert.equal(existsSync(missingTmp), false, 'nothing created the missing TMPDIR');
  });

  test('longshore/client reaches the gRPC port of npx longshore serve from a plain .mjs (the proto ships in the package)', async () => {
    copyFileSync(join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.onnx'), join(app, 'models/iris-grpc.onnx'));
    const server = new ServeProcess(app, ['--model', 'iris=./models/iris-grpc.onnx', '--port', '0', '--host', '127.0.0.1'], { LONGSHORE_SERVER__GRPC_PORT: '0' });
    servers.push(server);
    const url = await server.url;
    await waitReady(url);
    const grpc = /"grpc_url":"([^"]+)"/.exec(server.output)?.[1];
    assert.ok(grpc, `the listening line names the gRPC address:\n${server.output}`);
    writeFileSync(
      join(app, 'grpc-client.mjs'),
      [
        "import { LongshoreClient } from 'longshore/client';",
        'const client = new LongshoreClient(process.argv[2], { grpc: process.argv[3] });',
        "const request = { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: new Float32Array([5.1, 3.5, 1.4, 0.2, 6.3, 3.3, 6.0, 2.5]) }] };",
        'const typed = await client.infer(\'iris\', request);',
        'const raw = await client.infer(\'iris\', request, { binary: true });',
        "console.log(JSON.stringify({ ready: await client.serverReady(), typed: Array.from(typed.output('label', 'INT64').data, Number), raw: Array.from(raw.output('label', 'INT64').data, Number) }));",
        'client.close();',
        '',
      ].join('\n'),
    );
    const { stdout } = await mustRun('node', ['grpc-client.mjs', url, grpc], app);
    assert.deepEqual(JSON.parse(stdout), { ready: true, typed: [0, 2], raw: [0, 2] });
    await server.stop();
  });

  test('npx longshore serve answers a Hugging Face folder as the Python pipeline did, over REST and /v1/embeddings', async () => {
    const fixtures = join(REPO_ROOT, 'test/fixtures/hf');
    cpSync(join(fixtures, 'tiny-bert-sentiment'), join(app, 'models/sentiment'), { recursive: true });
    cpSync(join(fixtures, 'tiny-bert-embeddings'), join(app, 'models/embeddings'), { recursive: true });
    const server = new ServeProcess(app, ['--model', 'sentiment=./models/sentiment', '--model', 'embeddings=./models/embeddings', '--port', '0', '--host', '127.0.0.1']);
    servers.push(server);
    const url = await server.url;
    await waitReady(url);
    const sentiment = JSON.parse(readFileSync(join(fixtures, 'tiny-bert-sentiment.reference.json'), 'utf8')) as { cases: { text: string; output: { label: string; score: number }[] }[] };
    for (const item of sentiment.cases) {
      const answer = await postJson<{ label: string; score: number }>(`${url}/api/models/sentiment/prediction`, { text: item.text });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.label, item.output[0]?.label);
      assert.ok(Math.abs(answer.body.score - (item.output[0]?.score ?? NaN)) < 1e-4, `${item.text}: ${answer.body.score}`);
    }
    const embeddings = JSON.parse(readFileSync(join(fixtures, 'tiny-bert-embeddings.reference.json'), 'utf8')) as { cases: { text: string; embedding: number[]; num_tokens: number }[] };
    const first = embeddings.cases[0];
    assert.ok(first);
    const answer = await postJson<{ data: { embedding: number[] }[]; usage: { prompt_tokens: number } }>(`${url}/v1/embeddings`, { model: 'embeddings', input: [first.text] });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    answer.body.data[0]?.embedding.forEach((value, index) => assert.ok(Math.abs(value - (first.embedding[index] ?? NaN)) < 1e-4));
    assert.equal(answer.body.usage.prompt_tokens, first.num_tokens);
    await server.stop();
  });

  test('npx longshore bench measures an ONNX file in the installed project, its load thread and autocannon from the package', async () => {
    copyFileSync(join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.onnx'), join(app, 'models/iris-bench.onnx'));
    const result = await run('npx', ['longshore', 'bench', '--model', 'iris=./models/iris-bench.onnx', '--duration', '0.5s', '--concurrency', '1,4', '--json'], app);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as { models: { name: string; rows: { concurrency: number; requests: number; breakdown: { source: string } }[] }[] };
    assert.deepEqual(report.models.map((model) => model.name), ['iris']);
    assert.deepEqual(report.models[0]?.rows.map((row) => row.concurrency), [1, 4]);
    for (const row of report.models[0]?.rows ?? []) {
      assert.ok(row.requests > 0);
      assert.equal(row.breakdown.source, 'server-timing');
    }
  });

  test('an .onnx entry in a project without onnxruntime-node exits 2 naming the package to install', async () => {
    const bare = temp.make('bare');
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ name: 'bare-app', version: '1.0.0', private: true }));
    writeFileSync(join(bare, '.npmrc'), documentedNpmrc());
    await mustRun('npm', ['install', packed.tarball], bare);
    assert.equal(existsSync(join(bare, 'node_modules/onnxruntime-node')), false, 'onnxruntime-node is an optional peer, not installed by default');
    copyFileSync(join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.onnx'), join(bare, 'iris.onnx'));
    const onnx = await run('npx', ['longshore', 'validate', '--model', 'iris=iris.onnx'], bare);
    assert.equal(onnx.code, 2, onnx.stderr);
    assert.match(onnx.stderr, /needs the package 'onnxruntime-node', which is not installed: run `npm install onnxruntime-node`/);
    const pretty = await run('npx', ['longshore', 'serve', '--model', 'iris=iris.onnx', '--log-format', 'pretty', '--port', '0', '--host', '127.0.0.1'], bare, {}, 30_000);
    assert.equal(pretty.code, 2, pretty.stderr);
    assert.match(pretty.stderr, /--log-format pretty \(or LONGSHORE_LOG_FORMAT\): pretty logs need the package 'pino-pretty'/);
  });

  test('npx longshore init scaffolds a project whose own npm test and typecheck pass', async () => {
    const parent = temp.make('init');
    const project = join(parent, 'my-service');
    await mustRun('npx', ['longshore', 'init', project], app);
    await mustRun('npm', ['install', packed.tarball], project);
    const tested = await mustRun('npm', ['test'], project);
    assert.match(tested.stdout, /# fail 0/);
    assert.match(tested.stdout, /# pass [1-9]/);
    await mustRun('npm', ['run', 'typecheck'], project);
    const again = await run('npx', ['longshore', 'init', project], app);
    assert.equal(again.code, 2, 'init refuses to overwrite');
  });
});

async function waitReady(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${url}/api/health/ready`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
    if (response?.status === 200) return;
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  throw new Error(`${url} did not become ready within 30 s`);
}

function chunk(values: readonly number[], size: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < values.length; i += size) rows.push(values.slice(i, i + size));
  return rows;
}
