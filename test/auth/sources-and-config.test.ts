/**
 * Where keys come from (environment variables, files, relative to the config file, trimmed) and the config errors of
 * `auth:`: a missing variable or unreadable file names its entry, a key in the YAML itself is refused, and the CLI
 * exits 2. Without `auth:` nothing is installed.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { keyDigest } from '../../src/config/auth-schema.ts';
import { loadConfigFile, parseConfig } from '../../src/config/load.ts';
import { runCli } from '../helpers/cli.ts';
import { buildService, irisConfigYaml, tempDir, thrownConfigError, writeConfig } from '../helpers/service.ts';

const AUTH_ENV = { LONGSHORE_TEST_KEY: '  secret-from-env  ' };

test('keys come from variables and files (relative to the config file, trimmed); only digests are kept', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'admin.key'), 'secret-from-file\n');
  const yaml = `auth:\n  keys:\n    - {env: LONGSHORE_TEST_KEY, scopes: [predict, read]}\n    - {file: admin.key, scopes: [admin]}\n`;
  const { config } = loadConfigFile(writeConfig(yaml, { dir }), { env: AUTH_ENV });
  assert.equal(config.auth?.open_health, true);
  assert.deepEqual(config.auth?.keys, [
    { source: 'env LONGSHORE_TEST_KEY', scopes: ['predict', 'read'], digest: keyDigest('secret-from-env').toString('hex') },
    { source: `file ${join(dir, 'admin.key')}`, scopes: ['admin'], digest: keyDigest('secret-from-file').toString('hex') },
  ]);
  assert.ok(!JSON.stringify(config).includes('secret-from'), 'the config holds no key value');
});

test('a missing variable or an unreadable file is a ConfigError naming the entry, with its line', () => {
  const dir = tempDir();
  const yaml = `auth:\n  keys:\n    - {env: LONGSHORE_TEST_MISSING, scopes: [predict]}\n    - {file: nowhere.key, scopes: [read]}\n`;
  const error = thrownConfigError(() => parseConfig(yaml, 'longshore.yaml', dir, { env: {} }));
  const messages = error.details.map((detail) => detail.message);
  assert.deepEqual(error.details.map((detail) => detail.path), ['auth.keys[0].env', 'auth.keys[1].file']);
  assert.match(messages[0]!, /^longshore\.yaml:3 auth\.keys\[0\]\.env: environment variable LONGSHORE_TEST_MISSING is not set$/);
  assert.match(messages[1]!, /^longshore\.yaml:4 auth\.keys\[1\]\.file: cannot read the key file .*nowhere\.key: ENOENT$/);
});

test('an empty key, a key in the YAML, an unknown scope and no keys are config errors', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'empty.key'), '\n');
  const cases: [string, RegExp][] = [
    ['auth:\n  keys:\n    - {file: empty.key, scopes: [read]}\n', /auth\.keys\[0\]: the key from file .*empty\.key is empty/],
    ['auth:\n  keys:\n    - {key: plain-text, scopes: [read]}\n', /auth\.keys\[0\]/],
    ['auth:\n  keys:\n    - {env: LONGSHORE_TEST_KEY, scopes: [everything]}\n', /auth\.keys\[0\]/],
    ['auth:\n  keys:\n    - {env: LONGSHORE_TEST_KEY, scopes: []}\n', /auth\.keys\[0\]/],
    ['auth:\n  keys: []\n', /auth\.keys/],
  ];
  for (const [yaml, expected] of cases) {
    const error = thrownConfigError(() => parseConfig(yaml, 'longshore.yaml', dir, { env: AUTH_ENV }));
    assert.match(error.details.map((detail) => `${detail.path} ${detail.message}`).join('\n'), expected, yaml);
  }
});

test('the CLI exits 2 on a missing key variable, naming it', async () => {
  const file = writeConfig(`${irisConfigYaml()}auth:\n  keys:\n    - {env: LONGSHORE_TEST_UNSET_KEY, scopes: [predict]}\n`);
  const result = await runCli(['validate', '--config', file]);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /auth\.keys\[0\]\.env: environment variable LONGSHORE_TEST_UNSET_KEY is not set/);
});

/** fastify's root onRequest hooks (internal: no public API lists them). */
function onRequestHooks(app: object): number {
  const symbol = Object.getOwnPropertySymbols(app).find((candidate) => candidate.description === 'fastify.hooks');
  assert.ok(symbol, 'fastify keeps its hooks under Symbol(fastify.hooks)');
  return ((app as Record<symbol, { onRequest: unknown[] }>)[symbol]!).onRequest.length;
}

test('without auth: no hook is installed and every route is open', async () => {
  const open = await buildService(irisConfigYaml(), { load: false });
  process.env.LONGSHORE_TEST_KEY = 'k';
  const guarded = await buildService(`${irisConfigYaml()}auth:\n  keys:\n    - {env: LONGSHORE_TEST_KEY, scopes: [read]}\n`, { load: false });
  delete process.env.LONGSHORE_TEST_KEY;
  try {
    assert.equal(open.loaded.config.auth, undefined);
    assert.equal(onRequestHooks(guarded.app), onRequestHooks(open.app) + 1);
    assert.equal((await open.app.inject({ method: 'GET', url: '/api/models' })).statusCode, 200);
    assert.equal((await guarded.app.inject({ method: 'GET', url: '/api/models' })).statusCode, 401);
    const document = (await open.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { components: Record<string, unknown> };
    assert.equal(document.components.securitySchemes, undefined);
  } finally {
    await open.close();
    await guarded.close();
  }
});

test('a key listed twice has the scopes of both entries', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'shared.key'), 'k-shared-0123456789abcdef');
  const keyFile = join(dir, 'shared.key');
  const service = await buildService(`${irisConfigYaml()}auth:\n  keys:\n    - {file: ${keyFile}, scopes: [read]}\n    - {file: ${keyFile}, scopes: [predict]}\n`);
  try {
    const headers = { authorization: 'Bearer k-shared-0123456789abcdef' };
    assert.equal((await service.app.inject({ method: 'GET', url: '/api/models', headers })).statusCode, 200);
    const predicted = await service.app.inject({
      method: 'POST',
      url: '/api/models/iris_model/prediction',
      headers,
      payload: { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 },
    });
    assert.equal(predicted.statusCode, 200, predicted.body);
    assert.equal((await service.app.inject({ method: 'GET', url: '/metrics', headers })).statusCode, 403);
  } finally {
    await service.close();
  }
});
