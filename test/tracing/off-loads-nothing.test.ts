/**
 * Tracing off and gRPC off (the defaults) load no OpenTelemetry and no gRPC module, and a config without a Hugging Face
 * model loads neither @huggingface/tokenizers nor the transformers runtime: a spawned server (its own module
 * graph, unlike this process, which other tests share) records every module URL it resolves, answers a prediction,
 * and reports the @opentelemetry and @grpc ones. With each turned on, the same script does load them (the check can
 * see them).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { it } from 'node:test';
import { REPO_ROOT, writeConfig } from '../helpers/service.ts';
import { FIXTURES } from '../runtimes/onnx-harness.ts';

// Resolve hooks see every ESM import (they run off the main thread; they report on stderr).
const HOOKS = `data:text/javascript,${encodeURIComponent(
  "export async function resolve(s, c, next) { const r = await next(s, c); if (r.url.includes('@opentelemetry') || r.url.includes('@grpc') || r.url.includes('@huggingface') || r.url.includes('runtimes/transformers/')) process.stderr.write('LOADED ' + r.url + '\\n'); return r; }",
)}`;

const SCRIPT = `
import { register } from 'node:module';
register(${JSON.stringify(HOOKS)});
const { loadConfigFile } = await import(${JSON.stringify(join(REPO_ROOT, 'src/config/load.ts'))});
const { startServer } = await import(${JSON.stringify(join(REPO_ROOT, 'src/server.ts'))});
const pino = (await import('pino')).default;
const server = await startServer({ loaded: loadConfigFile(process.argv[1]), host: '127.0.0.1', port: 0, logger: pino({ level: 'silent' }) });
await server.modelsLoaded;
const response = await fetch(server.url + '/api/models/iris_logreg/prediction', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: [5.1, 3.5, 1.4, 0.2] }) });
process.stderr.write('STATUS ' + response.status + '\\n');
await server.close();
`;

function loadedModules(
  tracing: Record<string, unknown> | undefined,
  server?: Record<string, unknown>,
  extraModels: Record<string, unknown>[] = [],
): { status: string | undefined; otel: string[]; grpc: string[]; huggingface: string[] } {
  const models = [{ model_path: `${FIXTURES}iris_logreg.onnx` }, ...extraModels];
  const file = writeConfig(JSON.stringify({ ...(tracing ? { tracing } : {}), ...(server ? { server } : {}), models }));
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, file], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stderr.split('\n');
  const loaded = lines.filter((line) => line.startsWith('LOADED '));
  return {
    status: lines.find((line) => line.startsWith('STATUS '))?.slice(7),
    otel: loaded.filter((line) => line.includes('@opentelemetry')),
    grpc: loaded.filter((line) => line.includes('@grpc')),
    huggingface: loaded.filter((line) => line.includes('@huggingface') || line.includes('runtimes/transformers/')),
  };
}

it('tracing off: no @opentelemetry module is loaded; tracing on: they are', () => {
  const off = loadedModules(undefined);
  assert.equal(off.status, '200');
  assert.deepEqual(off.otel, []);
  assert.deepEqual(off.grpc, [], 'gRPC off: grpc-js is not loaded either');
  assert.deepEqual(off.huggingface, [], 'no Hugging Face model: neither the tokenizer nor the transformers runtime is loaded');
  // Exports go nowhere (a closed port); the server still answers and closes.
  const on = loadedModules({ enabled: true, endpoint: 'http://127.0.0.1:9/v1/traces', export_timeout_ms: 500 });
  assert.equal(on.status, '200');
  assert.ok(on.otel.length > 0, 'the check sees the SDK when it is loaded');
});

it('gRPC on (server.grpc_port): grpc-js is loaded', () => {
  const on = loadedModules(undefined, { grpc_port: 0 });
  assert.equal(on.status, '200');
  assert.ok(on.grpc.length > 0, 'the check sees grpc-js when it is loaded');
  assert.deepEqual(on.otel, []);
});

it('a Hugging Face model: the tokenizer and the transformers runtime are loaded (the check above can see them)', () => {
  const on = loadedModules(undefined, undefined, [{ qualified_name: 'sentiment', model_path: join(REPO_ROOT, 'test/fixtures/hf/tiny-bert-sentiment') }]);
  assert.equal(on.status, '200');
  assert.ok(on.huggingface.some((line) => line.includes('@huggingface/tokenizers')), on.huggingface.join('\n'));
  assert.ok(on.huggingface.some((line) => line.includes('runtimes/transformers/')));
});
