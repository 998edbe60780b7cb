/**
 * The container images, checked without a container engine: the repository's Dockerfile and the one
 * `longshore dockerfile` prints for a project made by `longshore init` are linted with dockerfile-utils, then checked
 * for the rules a production image keeps (multi-stage, non-root numeric USER, HEALTHCHECK on /api/health with node,
 * EXPOSE 8000, exec-form ENTRYPOINT behind tini, no curl or wget, production dependencies only). Whether the runtime
 * stage's steps really work is test/package/production-install.e2e.ts's job.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dockerfile, dockerignore } from '../../src/scaffold/dockerfile.ts';
import { runCli } from '../helpers/cli.ts';
import { REPO_ROOT, tempDir } from '../helpers/service.ts';
import { argDefault, assignments, execForm, find, healthcheck, last, parseDockerfile, runCommands, type ParsedDockerfile, type Stage } from './dockerfile-instructions.ts';

interface Diagnostic {
  readonly message: string;
  readonly range: { readonly start: { readonly line: number } };
}

/** dockerfile-utils (a devDependency), loaded by name: its diagnostics for a Dockerfile's text, with every check on. */
async function lint(text: string): Promise<string[]> {
  const specifier = 'dockerfile-utils';
  const utils = (await import(specifier)) as { validate(content: string, settings?: Record<string, number>): Diagnostic[] };
  const error = 2;
  const settings = {
    deprecatedMaintainer: error,
    directiveCasing: error,
    emptyContinuationLine: error,
    instructionCasing: error,
    instructionCmdMultiple: error,
    instructionEntrypointMultiple: error,
    instructionHealthcheckMultiple: error,
    instructionJSONInSingleQuotes: error,
    instructionWorkdirRelative: error,
  };
  return utils.validate(text, settings).map((diagnostic) => `line ${diagnostic.range.start.line + 1}: ${diagnostic.message}`);
}

const REPO_DOCKERFILE = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
const REPO_DOCKERIGNORE = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8');

/** The image a stage's FROM names, with the global ARG defaults filled in. */
function baseImage(parsed: ParsedDockerfile, stage: Stage): string {
  const defaults = Object.fromEntries(parsed.globalArgs.map(argDefault).map(({ name, value }) => [name, value ?? '']));
  return stage.image.replace(/\$\{?(\w+)\}?/g, (_match, name: string) => defaults[name] ?? '');
}

function finalEnv(stage: Stage): Record<string, string> {
  return Object.assign({}, ...find(stage, 'ENV').map((instruction) => assignments(instruction.args))) as Record<string, string>;
}

/** The rules both images follow: checked on the last stage (the image that runs) and on the stage list. */
function checkRuntimeImage(parsed: ParsedDockerfile): Stage {
  assert.ok(parsed.stages.length >= 2, 'multi-stage: a build stage and a runtime stage');
  for (const stage of parsed.stages) assert.equal(baseImage(parsed, stage), 'node:20-bookworm-slim');
  const runtime = parsed.stages.at(-1)!;

  const user = last(runtime, 'USER').args;
  const ids = /^(\d+)(?::(\d+))?$/.exec(user);
  assert.ok(ids, `USER must be numeric (uid[:gid]) so runAsNonRoot can verify it, got '${user}'`);
  assert.notEqual(Number(ids[1]), 0, 'USER must not be root');
  assert.notEqual(Number(ids[2] ?? 1), 0, 'the group must not be root');
  const userAt = runtime.instructions.indexOf(last(runtime, 'USER'));
  const writesAfterUser = runtime.instructions.slice(userAt).filter((instruction) => ['RUN', 'COPY', 'ADD'].includes(instruction.keyword));
  assert.deepEqual(writesAfterUser, [], 'everything is installed (as root, so the server cannot change it) before USER');

  const { options, command } = healthcheck(last(runtime, 'HEALTHCHECK'));
  assert.equal(command[0], 'node', 'the health check runs node itself (slim images have no curl)');
  assert.match(command.join(' '), /fetch\('http:\/\/127\.0\.0\.1:'\+\(process\.env\.LONGSHORE_PORT\|\|8000\)\+'\/api\/health'\)/);
  for (const option of ['interval', 'timeout', 'start-period', 'retries']) assert.ok(options[option], `HEALTHCHECK --${option}`);

  assert.equal(last(runtime, 'EXPOSE').args, '8000');
  const env = finalEnv(runtime);
  assert.equal(env.LONGSHORE_PORT, '8000');
  assert.equal(env.LONGSHORE_HOST, '0.0.0.0');
  assert.equal(env.TSX_DISABLE_CACHE, '1');
  assert.equal(env.NODE_ENV, 'production');

  const entrypoint = execForm(last(runtime, 'ENTRYPOINT').args);
  assert.deepEqual(entrypoint.slice(0, 2), ['/usr/bin/tini', '--'], 'tini as PID 1 passes SIGTERM on to the server (exec form: no shell in between)');
  assert.deepEqual(entrypoint.slice(2), ['node', '/app/node_modules/longshore/dist/bin.js']);
  const bin = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.longshore;
  assert.equal(`/app/node_modules/longshore/${bin!.replace(/^\.\//, '')}`, entrypoint[3], "the ENTRYPOINT runs the package's bin");
  assert.equal(execForm(last(runtime, 'CMD').args)[0], 'serve');
  assert.ok(find(runtime, 'RUN').some((run) => /apt-get install -y --no-install-recommends tini\b/.test(run.args)), 'tini comes from Debian');

  const commands = find(runtime, 'RUN').flatMap(runCommands);
  for (const command of commands) {
    assert.doesNotMatch(command, /\b(curl|wget)\b/, 'no curl or wget in the image');
    if (/\bnpm (install|i|ci|add)\b/.test(command)) assert.match(command, /--omit=dev\b/, `production dependencies only: ${command}`);
  }
  return runtime;
}

/** Top-level names a .dockerignore leaves out (the tests' files use plain names and *.ext globs only). */
function ignored(ignoreFile: string, name: string): boolean {
  return ignoreFile
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .some((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*')}$`).test(name));
}

/** The sources of a stage's COPY instructions that come from the build context (not --from another stage). */
function contextSources(stage: Stage): string[] {
  return find(stage, 'COPY')
    .filter((copy) => !/--from=/.test(copy.args))
    .flatMap((copy) => copy.args.split(/\s+/).filter((word) => !word.startsWith('--')).slice(0, -1));
}

describe("the repository's Dockerfile", () => {
  const parsed = parseDockerfile(REPO_DOCKERFILE);

  it('passes dockerfile-utils with every check on', async () => {
    assert.deepEqual(await lint(REPO_DOCKERFILE), []);
  });

  it('the linter is on: it flags a broken Dockerfile', async () => {
    const problems = await lint(REPO_DOCKERFILE.replace('EXPOSE 8000', 'EXPOSE eight-thousand').replace('WORKDIR /app', 'WORKDIR app'));
    assert.equal(problems.length, 2, problems.join('\n'));
  });

  it('is a production image: non-root numeric USER, HEALTHCHECK on /api/health, EXPOSE 8000, tini, production dependencies', () => {
    checkRuntimeImage(parsed);
  });

  it('builds and packs in a build stage that installs with the .npmrc (no CUDA download), from files that exist', () => {
    const build = parsed.stages[0]!;
    assert.equal(build.name, 'build');
    const sources = contextSources(build);
    assert.ok(sources.includes('.npmrc') && sources.includes('package-lock.json'));
    assert.match(readFileSync(join(REPO_ROOT, '.npmrc'), 'utf8'), /^onnxruntime-node-install=skip$/m);
    const commands = find(build, 'RUN').flatMap(runCommands);
    const ci = commands.findIndex((command) => /^npm ci\b/.test(command));
    assert.ok(ci >= 0 && commands.slice(ci).some((command) => /^npm pack\b/.test(command)), 'npm ci, then npm pack (whose prepack builds dist/)');
    for (const source of sources) {
      assert.ok(existsSync(join(REPO_ROOT, source)), `COPY ${source}: no such file`);
      assert.ok(!ignored(REPO_DOCKERIGNORE, source), `COPY ${source}, which .dockerignore leaves out`);
    }
  });

  it('installs the packed tarball and the locked onnxruntime-node in /app, and copies nothing else into the image', () => {
    const runtime = checkRuntimeImage(parsed);
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version: string }> };
    const arg = find(runtime, 'ARG').map(argDefault).find(({ name }) => name === 'ONNXRUNTIME_NODE_VERSION');
    assert.equal(arg?.value, lock.packages['node_modules/onnxruntime-node']?.version, "ONNXRUNTIME_NODE_VERSION defaults to package-lock.json's onnxruntime-node");
    assert.deepEqual(contextSources(runtime), [], 'the runtime stage takes only the tarball from the build stage');
    assert.deepEqual(find(runtime, 'COPY').map((copy) => copy.args), ['--from=build /pack/longshore.tgz /tmp/longshore.tgz']);
    const install = find(runtime, 'RUN').flatMap(runCommands).find((command) => command.startsWith('npm install'));
    assert.match(install ?? '', /^npm install --omit=dev .*\/tmp\/longshore\.tgz "onnxruntime-node@\$\{ONNXRUNTIME_NODE_VERSION\}"$/);
    const env = finalEnv(runtime);
    assert.equal(env.ONNXRUNTIME_NODE_INSTALL, 'skip');
    assert.equal(env.LONGSHORE_CONFIG, '/config/longshore.yaml');
    assert.equal(last(runtime, 'WORKDIR').args, '/app');
    assert.deepEqual(execForm(last(runtime, 'CMD').args), ['serve']);
    for (const label of ['title', 'description', 'licenses']) {
      assert.ok(find(runtime, 'LABEL').some((instruction) => instruction.args.includes(`org.opencontainers.image.${label}=`)), `OCI label ${label}`);
    }
  });

  it('has a .dockerignore that leaves out what is installed, built or local', () => {
    for (const name of ['node_modules', 'dist', '.git', 'test', 'bench', 'tmp', 'longshore-0.1.0.tgz', 'npm-debug.log', '.env']) {
      assert.ok(ignored(REPO_DOCKERIGNORE, name), `.dockerignore should leave out ${name}`);
    }
  });
});

describe('longshore dockerfile', { concurrency: true }, () => {
  const root = tempDir();

  it('prints a Dockerfile that passes dockerfile-utils and says to add a .dockerignore', async () => {
    const result = await runCli(['dockerfile'], { cwd: root });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, dockerfile());
    assert.match(result.stderr, /add a \.dockerignore .*`longshore dockerfile --write` writes both/);
    assert.deepEqual(await lint(result.stdout), []);
  });

  it("prints a production image of an init project: npm ci then npm prune --omit=dev, the app copied, served on 0.0.0.0:8000", async () => {
    const parsed = parseDockerfile(dockerfile());
    const runtime = checkRuntimeImage(parsed);
    const build = parsed.stages[0]!;
    const commands = find(build, 'RUN').flatMap(runCommands);
    const ci = commands.findIndex((command) => /^npm ci\b/.test(command));
    const prune = commands.findIndex((command) => /^npm prune --omit=dev\b/.test(command));
    assert.ok(ci >= 0 && prune > ci, `npm ci, then npm prune --omit=dev: ${commands.join(' | ')}`);
    assert.ok(!commands.some((command) => /npm run build\b/.test(command)), 'no build step: .ts models load through tsx');
    assert.deepEqual(find(runtime, 'COPY').map((copy) => copy.args), ['--from=build /app /app']);
    assert.ok(!find(runtime, 'RUN').flatMap(runCommands).some((command) => /\bnpm\b/.test(command)), 'no npm in the runtime stage');
    assert.deepEqual(execForm(last(runtime, 'CMD').args), ['serve', '--config', 'longshore.yaml']);
  });

  it('writes the Dockerfile and .dockerignore that init writes, whose COPY sources an init project has', async () => {
    const dir = join(root, 'init-project');
    const init = await runCli(['init', dir]);
    assert.equal(init.code, 0, init.stderr);
    assert.equal(readFileSync(join(dir, 'Dockerfile'), 'utf8'), dockerfile());
    assert.equal(readFileSync(join(dir, '.dockerignore'), 'utf8'), dockerignore());
    const build = parseDockerfile(dockerfile()).stages[0]!;
    for (const source of contextSources(build).filter((source) => source !== '.' && source !== 'package-lock.json')) {
      assert.ok(existsSync(join(dir, source)), `COPY ${source}: init writes no such file`);
    }
    const ignore = dockerignore();
    for (const name of ['node_modules', '.git', 'test', '.env']) assert.ok(ignored(ignore, name), `.dockerignore should leave out ${name}`);
    for (const name of ['package.json', 'package-lock.json', '.npmrc', 'longshore.yaml', 'models', 'tsconfig.json']) {
      assert.ok(!ignored(ignore, name), `.dockerignore must keep ${name}`);
    }
  });

  it('--write writes both into --dir, and refuses (exit 2, nothing written) when either exists', async () => {
    const dir = join(root, 'write');
    mkdirSync(dir);
    const written = await runCli(['dockerfile', '--write', '--dir', dir]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stdout, /^wrote .*Dockerfile and .*\.dockerignore\nno package-lock\.json yet: run npm install/);
    assert.equal(readFileSync(join(dir, 'Dockerfile'), 'utf8'), dockerfile());
    assert.equal(readFileSync(join(dir, '.dockerignore'), 'utf8'), dockerignore());

    const clash = join(root, 'clash');
    mkdirSync(clash);
    writeFileSync(join(clash, '.dockerignore'), 'mine\n');
    const refused = await runCli(['dockerfile', '--write'], { cwd: clash });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^longshore dockerfile: refusing to overwrite \.dockerignore in .* \(nothing was written\)\n$/);
    assert.equal(readFileSync(join(clash, '.dockerignore'), 'utf8'), 'mine\n');
    assert.ok(!existsSync(join(clash, 'Dockerfile')));
  });
});
