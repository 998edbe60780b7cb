/**
 * `npm run lint` enforces the import direction of docs/import-rules.md (eslint.import-rules.js) and at most 400 lines
 * a module in src/. Each test lints a temp copy of src/ with the repository's ESLint config (node_modules linked), so
 * the imports it adds never touch the real sources: the untouched copy passes, each listed known violation is still a
 * real one, and every kind of forbidden import (added to the copy, then linted in one run) fails naming its file,
 * line and rule.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT } from '../helpers/service.ts';

const CONFIG_FILES = ['eslint.config.js', 'eslint.import-rules.js', 'tsconfig.json', 'package.json'];
const RESTRICTED_PATHS = 'import-x/no-restricted-paths';

interface LintMessage {
  ruleId: string | null;
  line: number;
  message: string;
}
interface LintRun {
  code: number | null;
  /** Problems by file, relative to the copy (`src/tensors/codec.ts`). */
  problems: Map<string, LintMessage[]>;
  output: string;
}

let copy = '';

/** Runs ESLint's CLI in the copy over `paths` (relative to it); `strict` leaves the known violations out. */
function lint(paths: string[], strict = false): Promise<LintRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.LONGSHORE_LINT_STRICT;
  delete env.NODE_TEST_CONTEXT;
  if (strict) env.LONGSHORE_LINT_STRICT = '1';
  const eslint = join(copy, 'node_modules/eslint/bin/eslint.js');
  return new Promise((done, fail) => {
    execFile(process.execPath, [eslint, '--format', 'json', ...paths], { cwd: copy, env, timeout: 120_000, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return fail(error);
      let results: { filePath: string; messages: LintMessage[] }[];
      try {
        results = JSON.parse(stdout) as typeof results;
      } catch {
        return fail(new Error(`eslint printed no JSON (exit ${String(error?.code ?? 0)}): ${stderr}${stdout}`));
      }
      const problems = new Map(results.filter((r) => r.messages.length > 0).map((r) => [relative(copy, r.filePath), r.messages]));
      done({ code: error ? (error.code as number) : 0, problems, output: JSON.stringify([...problems], null, 1) });
    });
  });
}

/** KNOWN_VIOLATIONS of eslint.import-rules.js. */
async function knownViolations(): Promise<{ file: string; imports: string }[]> {
  const rules = (await import(pathToFileURL(join(REPO_ROOT, 'eslint.import-rules.js')).href)) as { KNOWN_VIOLATIONS: { file: string; imports: string }[] };
  return rules.KNOWN_VIOLATIONS;
}

/** Appends `code` to a module of the copy (created if missing); returns the line it starts on. */
function append(file: string, code: string): number {
  const path = join(copy, file);
  mkdirSync(dirname(path), { recursive: true });
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (text === '') {
    writeFileSync(path, code + '\n');
    return 1;
  }
  appendFileSync(path, (text.endsWith('\n') ? '' : '\n') + code + '\n');
  return text.split('\n').length + (text.endsWith('\n') ? 0 : 1);
}

before(() => {
  copy = mkdtempSync(join(tmpdir(), 'longshore-lint-'));
  cpSync(join(REPO_ROOT, 'src'), join(copy, 'src'), { recursive: true });
  for (const file of CONFIG_FILES) cpSync(join(REPO_ROOT, file), join(copy, file));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
});

after(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

/**
 * One module of each layer and the modules outside the stack: the untouched copy must pass, so the failures below come
 * from what the cases add, not from the copy. (`npm run lint` itself checks every module of src/.)
 */
const SAMPLE = [
  'src/index.ts', 'src/cli.ts', 'src/service.ts', 'src/http/app.ts', 'src/dataplane/dataplane.ts', 'src/model/served-model.ts',
  'src/runtimes/onnx.ts', 'src/batching/call-plan.ts', 'src/config/load.ts', 'src/tensors/codec.ts', 'src/client/client.ts',
];

describe('the import direction of src/ in npm run lint', () => {
  test('the untouched sources pass', async () => {
    const run = await lint(SAMPLE);
    assert.equal(run.code, 0, `expected no problems in the untouched copy:\n${run.output}`);
  });

  test('each known violation is still a violation, and nothing else is one', async () => {
    const rules = { KNOWN_VIOLATIONS: await knownViolations() };
    const files = [...new Set(rules.KNOWN_VIOLATIONS.map((v) => `src/${v.file}`))];
    const run = await lint(files.length > 0 ? files : SAMPLE, true);
    // What each reported import resolves to, as `file -> imported module` under src/ (a package stays its name).
    const found = new Set<string>();
    for (const [file, messages] of run.problems) {
      for (const m of messages) {
        const specifier = /Unexpected path "([^"]+)"/.exec(m.message)?.[1];
        assert.ok(m.ruleId === RESTRICTED_PATHS && specifier, `unexpected problem in ${file}:${m.line}: ${m.ruleId} ${m.message}`);
        const imported = specifier.startsWith('.') ? relative(join(copy, 'src'), resolve(dirname(join(copy, file)), specifier)).replace(/\.js$/, '.ts') : specifier;
        found.add(`${relative('src', file)} -> ${imported}`);
      }
    }
    const listed = new Set(rules.KNOWN_VIOLATIONS.map((v) => `${v.file} -> ${v.imports}`));
    assert.deepEqual([...listed].filter((v) => !found.has(v)), [], 'listed in KNOWN_VIOLATIONS but no longer a violation: delete these lines');
    assert.deepEqual([...found].filter((v) => !listed.has(v)), [], 'violations in the listed files that the list does not name');
  });});

describe('a copy with forbidden imports, an unplaced module and long modules added (one lint run)', () => {
  const RESTRICTED_IMPORTS = '@typescript-eslint/no-restricted-imports';
  // Each case adds `code` to `file` (a new module unless the file exists: index.ts, model/contract.ts); `rule`: the
  // rule that must report it, on its first line, with `says` in the message; a case without `rule` must pass.
  const CASES: { file: string; code: string; rule?: string; says?: string }[] = [
    // Below http/: neither fastify nor http/, server.ts, cli.ts; static, type-only and dynamic imports alike.
    { file: 'src/tensors/probe-fastify.ts', code: `import 'fastify';`, rule: RESTRICTED_PATHS, says: 'fastify and @fastify/* only from' },
    { file: 'src/batching/probe-fastify.ts', code: `import '@fastify/swagger';`, rule: RESTRICTED_PATHS, says: 'fastify and @fastify/* only from' },
    { file: 'src/model/probe-http.ts', code: `import '../http/app.js';`, rule: RESTRICTED_PATHS, says: "Layer 'model'" },
    { file: 'src/dataplane/probe-server.ts', code: `import type { RunningServer } from '../server.js';\nexport type Up = RunningServer;`, rule: RESTRICTED_PATHS, says: "Layer 'dataplane'" },
    { file: 'src/runtimes/probe-cli.ts', code: `export const up = () => import('../cli.js');`, rule: RESTRICTED_PATHS, says: "Layer 'serving'" },
    // Its own layer is fine, one layer up is not; a module pinned low may not import its folder.
    { file: 'src/config/probe-own-layer.ts', code: `import '../logging/logger.js';` },
    { file: 'src/config/probe-metrics.ts', code: `import '../metrics/catalogue.js';`, rule: RESTRICTED_PATHS, says: "Layer 'config'" },
    { file: 'src/model/probe-target.ts', code: `export const target = 1;` },
    { file: 'src/model/contract.ts', code: `import './probe-target.js';`, rule: RESTRICTED_PATHS, says: "Layer 'base'" },
    // The public API (here through tsconfig's path for 'longshore'), the client, onnxruntime.
    { file: 'src/tensors/probe-api.ts', code: `import 'longshore';`, rule: RESTRICTED_PATHS, says: 'never entry, server' },
    { file: 'src/client/probe-config.ts', code: `import '../config/load.js';`, rule: RESTRICTED_PATHS, says: 'The published client' },
    { file: 'src/model/probe-onnx.ts', code: `import 'onnxruntime-node';`, rule: RESTRICTED_PATHS, says: 'onnxruntime-node and onnxruntime-common only from' },
    { file: 'src/http/probe-otel.ts', code: `export const api = () => import('@opentelemetry/api');`, rule: RESTRICTED_PATHS, says: '@opentelemetry/* only from' },
    { file: 'src/tracing/probe-otel.ts', code: `export const api = () => import('@opentelemetry/api');` },
    { file: 'src/index.ts', code: `export type { FastifyInstance } from 'fastify';` },
    { file: 'src/index.ts', code: `import { fastify } from 'fastify';\nexport const f = fastify;`, rule: RESTRICTED_IMPORTS, says: 'types only' },
    // An import no resolver can follow would slip past the zones.
    { file: 'src/tensors/probe-unresolved.ts', code: `import './no-such-module.js';`, rule: 'import-x/no-unresolved', says: 'no-such-module' },
  ];
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = ${i};\n`).join('');
  const NEW_FILES: Record<string, string> = {
    'src/plugins/extra.ts': 'export const extra = 1;\n',
    'src/tensors/at-limit.ts': lines(400),
    'src/tensors/over-limit.ts': lines(401),
    'src/tensors/big.generated.ts': lines(2000),
  };
  const expected: { file: string; at: number; rule: string; says: string; code: string }[] = [];
  let run: LintRun;
  let knownFile: string | undefined;

  before(async () => {
    const rules = await knownViolations();
    // A file with known violations: its other imports are still checked.
    knownFile = rules[0] && `src/${rules[0].file}`;
    if (knownFile) {
      const specifier = relative(dirname(knownFile), 'src/cli.js');
      CASES.push({ file: knownFile, code: `import '${specifier}';`, rule: RESTRICTED_PATHS, says: `"${specifier}"` });
    }
    const files = new Set<string>();
    for (const c of CASES) {
      const at = append(c.file, c.code);
      files.add(c.file);
      if (c.rule) expected.push({ file: c.file, at, rule: c.rule, says: c.says ?? '', code: c.code });
    }
    mkdirSync(join(copy, 'src/plugins'));
    for (const [file, text] of Object.entries(NEW_FILES)) writeFileSync(join(copy, file), text);
    expected.push({ file: 'src/plugins/extra.ts', at: 1, rule: 'no-restricted-syntax', says: 'in no layer of the import table', code: '(a new folder)' });
    expected.push({ file: 'src/tensors/over-limit.ts', at: 401, rule: 'max-lines', says: 'Maximum allowed is 400', code: '(401 lines)' });
    run = await lint([...files, ...Object.keys(NEW_FILES)]);
  });

  const hit = (file: string, rule: string) => {
    const e = expected.find((x) => x.file === file && x.rule === rule);
    assert.ok(e, `no case for ${file} ${rule}`);
    const message = run.problems.get(file)?.find((m) => m.line === e.at && m.ruleId === rule);
    assert.ok(message, `expected ${rule} at ${file}:${e.at} for ${JSON.stringify(e.code)}; got:\n${run.output}`);
    assert.ok(message.message.includes(e.says), `${file}:${e.at}: ${message.message}`);
  };

  test('the lint fails', () => assert.equal(run.code, 1, run.output));

  test('fastify, http/, server.ts and cli.ts imported below http/ each fail, naming file, line and rule', () => {
    for (const file of ['src/tensors/probe-fastify.ts', 'src/batching/probe-fastify.ts', 'src/model/probe-http.ts', 'src/dataplane/probe-server.ts', 'src/runtimes/probe-cli.ts']) hit(file, RESTRICTED_PATHS);
  });

  test('a layer importing the layer above fails; a module pinned to the bottom layer may not import its folder', () => {
    hit('src/config/probe-metrics.ts', RESTRICTED_PATHS);
    hit('src/model/contract.ts', RESTRICTED_PATHS);
  });

  test('the public API, server modules in the client, onnxruntime outside runtimes/ and a value import of fastify in index.ts fail', () => {
    for (const file of ['src/tensors/probe-api.ts', 'src/client/probe-config.ts', 'src/model/probe-onnx.ts']) hit(file, RESTRICTED_PATHS);
    hit('src/index.ts', RESTRICTED_IMPORTS);
  });

  test('OpenTelemetry outside tracing/ fails', () => hit('src/http/probe-otel.ts', RESTRICTED_PATHS));

  test('an import that does not resolve fails', () => hit('src/tensors/probe-unresolved.ts', 'import-x/no-unresolved'));

  test('in a file with known violations, an import the list does not name still fails', (t) => {
    if (!knownFile) return t.skip('KNOWN_VIOLATIONS is empty');
    hit(knownFile, RESTRICTED_PATHS);
  });

  test('a module in no layer fails until its folder is placed in the table', () => hit('src/plugins/extra.ts', 'no-restricted-syntax'));

  test('a module over 400 lines fails max-lines (counted like wc -l); 400 lines and a *.generated.ts module pass', () => hit('src/tensors/over-limit.ts', 'max-lines'));

  test('nothing else is reported: imports of its own layer, fastify types in index.ts and the known violations pass', () => {
    const reported = [...run.problems].flatMap(([file, messages]) => messages.map((m) => `${file}:${m.line} ${m.ruleId}`));
    const wanted = expected.map((e) => `${e.file}:${e.at} ${e.rule}`);
    assert.deepEqual(reported.filter((r) => !wanted.includes(r)), [], run.output);
  });
});
