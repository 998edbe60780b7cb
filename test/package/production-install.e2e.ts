/**
 * The image's runtime stage, run outside a container: the repository is packed, then the Dockerfile's last stage is
 * read and replayed in a temp folder that stands in for the container's `/` (its ARGs, ENV, WORKDIR, COPY of the
 * tarball and RUN steps, with absolute paths moved under that folder), so the production install here cannot drift
 * from the image's. The server then starts from the ENTRYPOINT and CMD as the image's USER (setpriv), with a TMPDIR
 * that does not exist and an app folder it cannot write, and serves an ONNX file and a TypeScript model mounted under
 * /models with the config at /config/longshore.yaml. Checked: both models answer, the HEALTHCHECK command passes,
 * SIGTERM drains and exits 0, nothing was written.
 *
 * Not replayed: `apt-get install tini` (no apt here; the server is signalled directly, as tini would pass the signal on)
 * and `npm cache clean` (it would empty this machine's npm cache).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { argDefault, assignments, execForm, healthcheck, last, readDockerfile, runCommands, underRoot, type Stage } from '../deploy/dockerfile-instructions.ts';
import { SCALER_MODEL } from './consumer-files.ts';
import { mustRun, pack, REPO_ROOT, run, TempDirs } from './packed-project.ts';
import { postJson } from '../helpers/server.ts';

/** The container's top-level folders the image uses; paths under them are moved under the stand-in root. */
const IMAGE_ROOTS = ['app', 'config', 'models', 'node_modules', 'tmp'];
const STEP_TIMEOUT_MS = 30_000;

const dockerfile = readDockerfile(join(REPO_ROOT, 'Dockerfile'));
const runtime: Stage = dockerfile.stages.at(-1)!;
const isRoot = process.getuid?.() === 0;
const temp = new TempDirs();

let rootfs: string;
/** The image's ENV, with its paths moved under rootfs. */
const imageEnv: Record<string, string> = {};
let workdir: string;
let uid: string;
let gid: string;
const skippedSteps: string[] = [];
let server: ChildProcess | undefined;

/** Maps a path or command of the image to the stand-in root. */
const here = (text: string) => underRoot(text, rootfs, IMAGE_ROOTS);

/** Replays the runtime stage's instructions under rootfs; returns nothing, fills imageEnv, workdir, uid and gid. */
async function replayRuntimeStage(tarball: string): Promise<void> {
  const args: Record<string, string> = {};
  for (const instruction of runtime.instructions) {
    switch (instruction.keyword) {
      case 'ARG': {
        const { name, value } = argDefault(instruction);
        args[name] = value ?? '';
        break;
      }
      case 'ENV':
        for (const [name, value] of Object.entries(assignments(instruction.args))) imageEnv[name] = here(value);
        break;
      case 'WORKDIR':
        workdir = here(instruction.args);
        mkdirSync(workdir, { recursive: true });
        break;
      case 'COPY': {
        const copy = /^--from=build \/pack\/longshore\.tgz (\S+)$/.exec(instruction.args);
        assert.ok(copy, `line ${instruction.line}: this test replays only the COPY of the packed tarball, not COPY ${instruction.args}`);
        const target = here(copy[1]!);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(tarball, target);
        break;
      }
      case 'RUN':
        for (const command of runCommands(instruction)) {
          if (/^(apt-get (update|install -y --no-install-recommends tini)|rm -rf \/var\/lib\/apt\/lists\/\*)$/.test(command) || /^npm cache clean\b/.test(command)) {
            skippedSteps.push(command);
            continue;
          }
          // Docker runs RUN with /bin/sh -c, the stage's ARGs and ENV in its environment.
          await mustRun('sh', ['-c', here(command)], workdir ?? rootfs, { ...args, ...imageEnv });
        }
        break;
      case 'USER':
        [uid = '', gid = uid] = instruction.args.split(':');
        break;
      case 'LABEL':
      case 'EXPOSE':
      case 'HEALTHCHECK':
      case 'ENTRYPOINT':
      case 'CMD':
        break;
      default:
        assert.fail(`line ${instruction.line}: this test does not know how to replay ${instruction.keyword}`);
    }
  }
}

/** Runs a command as the image's user. */
function asImageUser(command: readonly string[]): string[] {
  return ['--reuid', uid, '--regid', gid, '--clear-groups', '--', ...command];
}

/** Every path under dir with its size and modification time, to see that nothing was written. */
function snapshot(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => join(entry.parentPath, entry.name))
    .map((path) => {
      const stat = lstatSync(path);
      return `${relative(dir, path)} ${stat.size} ${stat.mtimeMs}`;
    })
    .sort();
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}

before(async () => {
  if (!isRoot) return;
  // As in a Docker build: root installs with umask 022, so the image's user can read everything and write nothing.
  process.umask(0o022);
  const packed = await pack(temp.make('image-pack'));
  rootfs = temp.make('image-rootfs');
  chmodSync(rootfs, 0o755);
  await replayRuntimeStage(packed.tarball);

  // What a user mounts: the config at $LONGSHORE_CONFIG, model files under /models (paths as seen in the container).
  writeFileSync(
    imageEnv.LONGSHORE_CONFIG!,
    here(`service_title: Container check
models:
  - model_path: /models/iris_logreg.onnx
    qualified_name: iris_onnx
  - class_path: /models/scaler.ts#Scaler
    configuration:
      factor: 3
`),
  );
  copyFileSync(join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx'), here('/models/iris_logreg.onnx'));
  writeFileSync(here('/models/scaler.ts'), SCALER_MODEL);
});

after(() => {
  if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) {
    try {
      process.kill(-server.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  temp.removeAll();
});

describe('the image runtime stage, replayed outside a container', { skip: !isRoot && 'needs root, to switch to the image user with setpriv' }, () => {
  let filesBefore: string[];
  let url: string;
  let output = '';
  let exited: Promise<number | null>;
  let port: number;
  const healthEnv = () => ({ ...imageEnv, LONGSHORE_PORT: String(port) });
  const tmpdir = () => join(rootfs, 'no-such-tmp');

  test('installed production dependencies only, with onnxruntime-node and without its CUDA download', () => {
    const modules = join(workdir, 'node_modules');
    for (const name of ['longshore', 'onnxruntime-node', 'tsx', '@sinclair/typebox', 'fastify']) assert.ok(existsSync(join(modules, name, 'package.json')), `${name} is installed`);
    for (const name of ['typescript', 'eslint', 'pino-pretty', 'openai', 'dockerfile-utils']) assert.ok(!existsSync(join(modules, name)), `${name} is not installed`);
    assert.ok(!existsSync(join(modules, 'onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so')), 'no CUDA provider was downloaded');
    assert.deepEqual(skippedSteps, ['apt-get update', 'apt-get install -y --no-install-recommends tini', 'rm -rf /var/lib/apt/lists/*', 'npm cache clean --force']);
  });

  test('starts from ENTRYPOINT and CMD as the image user, with no temp dir and nothing writable', async () => {
    const entrypoint = execForm(last(runtime, 'ENTRYPOINT').args);
    assert.deepEqual(entrypoint.slice(0, 2), ['/usr/bin/tini', '--']);
    const command = [...entrypoint.slice(2), ...execForm(last(runtime, 'CMD').args)].map(here);
    const notWritable = await run('setpriv', asImageUser(['sh', '-c', `test -w ${workdir} || test -w ${rootfs}`]), rootfs);
    assert.equal(notWritable.code, 1, 'the image user can write neither the app folder nor the root');

    port = await freePort();
    filesBefore = snapshot(rootfs);
    // A container's environment: the image's ENV, nothing of this machine's but PATH (for node) and a HOME. The image
    // listens on every interface (LONGSHORE_HOST=0.0.0.0, checked below); here, outside a container, on loopback only.
    assert.equal(imageEnv['LONGSHORE_HOST'], '0.0.0.0', 'the image listens on every interface');
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/nonexistent', ...imageEnv, LONGSHORE_HOST: '127.0.0.1', LONGSHORE_PORT: String(port), TMPDIR: tmpdir() };
    server = spawn('setpriv', asImageUser(command), { cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = new Promise((resolveExit) => server!.once('close', (code) => resolveExit(code)));
    url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "longshore listening" line within 30 s:\n${output}`)), STEP_TIMEOUT_MS);
      createInterface({ input: server!.stdout! }).on('line', (line) => {
        output += `${line}\n`;
        if (/"msg":"longshore listening"/.test(line)) {
          clearTimeout(timer);
          resolveUrl(`http://127.0.0.1:${port}`);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`longshore exited (${code}) before listening:\n${output}`));
      });
    });
    const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
    assert.match(status, new RegExp(`^Uid:\\s+${uid}\\s+${uid}\\s+${uid}\\s+${uid}$`, 'm'), 'the server runs as the image user');
    assert.match(output, new RegExp(`"url":"http://127\\.0\\.0\\.1:${port}"`), 'it listens where LONGSHORE_HOST and LONGSHORE_PORT say');

    let ready = 0;
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (ready !== 200 && Date.now() < deadline) {
      ready = (await fetch(`${url}/api/health/ready`, { signal: AbortSignal.timeout(5_000) })).status;
      if (ready !== 200) await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    }
    assert.equal(ready, 200, `not ready within 30 s:\n${output}`);
  });

  test('serves the ONNX file and the TypeScript model mounted under /models', async () => {
    const onnx = await postJson(`${url}/api/models/iris_onnx/prediction`, { input: [7.0, 3.2, 4.7, 1.4] }, STEP_TIMEOUT_MS);
    assert.equal(onnx.status, 200, JSON.stringify(onnx.body));
    assert.equal((onnx.body as { label: number }).label, 1);
    const scaler = await postJson(`${url}/api/models/scaler/prediction`, { x: 2 }, STEP_TIMEOUT_MS);
    assert.deepEqual(scaler, { status: 200, body: { y: 6 } });
  });

  test("the image's HEALTHCHECK command passes against it", async () => {
    const { command } = healthcheck(last(runtime, 'HEALTHCHECK'));
    const result = await run('setpriv', asImageUser(command), workdir, healthEnv(), STEP_TIMEOUT_MS);
    assert.equal(result.code, 0, result.stderr);
  });

  test('SIGTERM drains and exits 0, the HEALTHCHECK then fails, and nothing was written', async () => {
    process.kill(server!.pid!, 'SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((resolveWait) => setTimeout(() => resolveWait('timeout'), STEP_TIMEOUT_MS))]);
    assert.equal(code, 0, output);
    assert.match(output, /shutting down: readiness off, draining in-flight requests/);

    const { command } = healthcheck(last(runtime, 'HEALTHCHECK'));
    const result = await run('setpriv', asImageUser(command), workdir, healthEnv(), STEP_TIMEOUT_MS);
    assert.equal(result.code, 1, 'the health check fails with no server');

    assert.deepEqual(snapshot(rootfs), filesBefore, 'the server wrote nothing under the root');
    assert.ok(!existsSync(tmpdir()), 'nor created its TMPDIR');
  });
});
