/**
 * `longshore init [dir]`, spawned as `node bin/longshore.js init ...`: the files it writes and their contents, that it
 * never overwrites (exit 2, nothing written), package-name sanitising, and that the scaffold's config passes
 * `longshore validate`. (Whether the scaffold's own `npm install && npm test` passes is the packaging test's job.)
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { initProject, InitRefusedError, sanitizePackageName } from '../../src/scaffold/init.ts';
import { LONGSHORE_VERSION } from '../../src/version.ts';
import { runCli } from '../helpers/cli.ts';
import { REPO_ROOT } from '../helpers/service.ts';

/** What init writes, spelled out here so a change to the list is a deliberate change to this test too. */
const EXPECTED_FILES = [
  '.dockerignore',
  '.gitignore',
  '.npmrc',
  'Dockerfile',
  'README.md',
  'longshore.yaml',
  'models/price-model.ts',
  'package.json',
  'test/model.test.js',
  'tsconfig.json',
];

let root: string;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'longshore-init-'));
});

after(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory path under the test's temp root (not created), ending in `name`. */
let counter = 0;
function freshPath(name = 'project'): string {
  return join(root, `${++counter}`, name);
}

/** Every file under `dir`, relative and sorted, leaving out node_modules. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .filter((path) => !path.startsWith('node_modules'))
    .sort();
}

describe('longshore init', { concurrency: true }, () => {
  it('writes exactly the scaffold into an empty directory, and says what it wrote and what to do next', async () => {
    const parent = join(root, 'empty-case');
    const dir = join(parent, 'price-service');
    mkdirSync(dir, { recursive: true });
    const result = await runCli(['init', 'price-service'], { cwd: parent });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(filesUnder(dir), EXPECTED_FILES);
    for (const file of EXPECTED_FILES) assert.match(result.stdout, new RegExp(`^  ${file.replaceAll('.', '\\.')}$`, 'm'));
    assert.match(result.stdout, /^created price-service in /);
    assert.match(result.stdout, /^ {2}cd price-service\n {2}npm install\n {2}npm test .*\n {2}npm start /m);

    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    const own = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.equal(manifest.name, 'price-service');
    assert.equal(manifest.type, 'module');
    assert.equal(manifest.private, true);
    assert.deepEqual(manifest.engines, { node: '>=20.19' });
    assert.deepEqual(manifest.scripts, { start: 'longshore serve', test: 'node --test', typecheck: 'tsc --noEmit' });
    assert.deepEqual(manifest.dependencies, { '@sinclair/typebox': own.dependencies['@sinclair/typebox'], longshore: `^${LONGSHORE_VERSION}` });
    assert.deepEqual(manifest.devDependencies, { '@types/node': '^20.19.0', typescript: '~5.9.3' });
    assert.deepEqual(manifest.allowScripts, { esbuild: true, 'onnxruntime-node': false });

    const config = parseYaml(readFileSync(join(dir, 'longshore.yaml'), 'utf8')) as {
      server: { host: string; port: number };
      models: { class_path: string }[];
    };
    assert.deepEqual(config.server, { host: '127.0.0.1', port: 8000 });
    assert.equal(config.models.length, 1);
    const [file, exportName] = (config.models[0]?.class_path ?? '').split('#');
    assert.equal(resolve(dir, file ?? ''), join(dir, 'models/price-model.ts'));
    assert.match(readFileSync(join(dir, 'models/price-model.ts'), 'utf8'), new RegExp(`^export class ${exportName} implements Model<`, 'm'));

    const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown>; include: string[] };
    for (const flag of ['strict', 'exactOptionalPropertyTypes', 'noPropertyAccessFromIndexSignature', 'noUncheckedIndexedAccess', 'noEmit', 'skipLibCheck']) {
      assert.equal(tsconfig.compilerOptions[flag], true, flag);
    }
    assert.deepEqual(tsconfig.include, ['models/']);

    const npmrc = readFileSync(join(dir, '.npmrc'), 'utf8');
    assert.match(npmrc, /^onnxruntime-node-install=skip$/m);
    assert.equal(npmrc.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length, 1, 'one setting, the rest comments');
    assert.match(readFileSync(join(dir, '.gitignore'), 'utf8'), /^node_modules\/?$/m);
    assert.match(readFileSync(join(dir, 'README.md'), 'utf8'), /npm install onnxruntime-node/);
    assert.match(readFileSync(join(dir, 'test/model.test.js'), 'utf8'), /from 'longshore\/client'/);
  });

  it('writes nothing and exits 2 naming the clashing file when one file exists', async () => {
    const dir = freshPath();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'longshore.yaml'), 'mine\n');
    const result = await runCli(['init', dir]);
    assert.equal(result.code, 2);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, result.stderr);
    assert.match(result.stderr, /^longshore init: refusing to overwrite existing files in .*: longshore\.yaml \(nothing was written; init a new folder with `longshore init <dir>`, or add longshore to this project .*\)\n$/);
    assert.deepEqual(filesUnder(dir), ['longshore.yaml']);
    assert.equal(readFileSync(join(dir, 'longshore.yaml'), 'utf8'), 'mine\n');
  });

  it('sanitises --name into a valid npm package name, and refuses one with nothing valid in it', async () => {
    const dir = freshPath();
    const named = await runCli(['init', dir, '--name', 'My Price Service!!']);
    assert.equal(named.code, 0, named.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }).name, 'my-price-service');

    const empty = freshPath();
    const refused = await runCli(['init', empty, '--name', '!!!']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^longshore init: --name '!!!' has nothing that can make a valid npm package name\n$/);
  });

  it('takes the package name from the directory name, sanitised', async () => {
    const dir = freshPath('My Models (v2)');
    const result = await runCli(['init', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string }).name, 'my-models-v2');
  });

  it('creates a directory that does not exist yet, parents included', async () => {
    const dir = join(freshPath(), 'a', 'b', 'c');
    const result = await runCli(['init', dir]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(filesUnder(dir), EXPECTED_FILES);
    assert.match(result.stdout, new RegExp(`^ {2}cd ${dir.replaceAll('/', '\\/')}$`, 'm'));
  });

  it('writes a config that `longshore validate` accepts, its model loaded and its self-tests passed', async () => {
    const dir = freshPath();
    assert.equal((await runCli(['init', dir])).code, 0);
    // The model imports @sinclair/typebox, which must resolve from the project ('longshore' is a type import, erased).
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const result = await runCli(['validate', '--config', join(dir, 'longshore.yaml')], { timeoutMs: 60000 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `ok: ${join(dir, 'longshore.yaml')} is valid and 1 model(s) loaded: price_model (1.0.0)\n`);
  });
});

describe('init without the CLI', () => {
  it('sanitises package names', () => {
    const cases: [string, string | undefined][] = [
      ['price-service', 'price-service'],
      ['My Price Service!!', 'my-price-service'],
      ['.hidden_dir', 'hidden_dir'],
      ['__init__', 'init'],
      ['--x--', 'x'],
      ['caf\u00e9 cr\u00e8me', 'caf-cr-me'],
      ["it's (mine)*", 'it-s-mine'],
      ['a~b', 'a-b'],
      ['@Acme/Price Model', '@acme/price-model'],
      ['@/x', 'x'],
      ['@!!/x', undefined],
      ['http', 'http-service'],
      ['node_modules', 'node_modules-service'],
      ['!!!', undefined],
      ['', undefined],
      ['x'.repeat(300), 'x'.repeat(214)],
    ];
    for (const [raw, expected] of cases) assert.equal(sanitizePackageName(raw), expected, raw);
  });

  it('refuses a target that is a file, and a file where a folder of the scaffold goes', () => {
    const base = freshPath();
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'file'), '');
    assert.throws(() => initProject(join(base, 'file')), (error: unknown) => error instanceof InitRefusedError && /is not a directory/.test(error.message));

    const project = join(base, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'models'), '');
    assert.throws(
      () => initProject(project),
      (error: unknown) => error instanceof InitRefusedError && /existing files in .*: models \(nothing was written;/.test(error.message),
    );
    assert.deepEqual(filesUnder(project), ['models']);
  });

  it('falls back to a default name when the directory name leaves nothing', () => {
    const dir = join(freshPath(), '!!!');
    assert.equal(initProject(dir).name, 'longshore-service');
  });
});
