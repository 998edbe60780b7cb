/**
 * `npm test` and `npm run test:slow`: Node's test runner over test/<area>/*.test.ts, one process per area.
 *
 * Node 20 runs every test file in a process of its own, and on this project each process pays ~1 s of CPU to start
 * (tsx's loader, then fastify, ajv, pino and the sources) before its first test: over a hundred files, that start-up
 * was more than a third of the suite's CPU. Here the files of one folder (an area: test/v2, test/cli, ...) are imported
 * by one entry module, so they share one process and its loaded modules; the areas run in parallel
 * (`--test-concurrency`). Inside an area, files run one after the other, in name order, as top-level tests of one
 * process always do; each test still starts its own servers, on port 0, and removes its own files.
 *
 * What a shared process changes for a test file, and the rule that follows (docs/testing.md):
 * - A top-level beforeEach/afterEach would run around every test of the area, not only the file's: a file that needs
 *   one is listed in OWN_PROCESS. Top-level before/after run once per process, before the area's first test and after
 *   its last.
 * - Module state (a fixture's counter, process.env, process listeners) is seen by the files that run later: restore
 *   what you change (t.after), as the tests already do.
 *
 * Usage: node --import tsx test/helpers/suite.ts [--slow] [--concurrency N] [node --test options...] [files...]
 *   --slow           the slow tests (SLOW_FILES and the fuzz suite in its long mode) instead of the default suite
 *   --concurrency N  areas run at once (default: TEST_CONCURRENCY, else DEFAULT_CONCURRENCY)
 *   files            only these test files (still grouped by area)
 * Other options go to `node --test` as they are; give them with `=` (`--test-name-pattern=binary`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const TEST_DIR = join(REPO_ROOT, 'test');

/**
 * Load loops, not behaviour checks: kept out of `npm test`, run by `npm run test:slow` (and CI). Each behaviour they
 * touch is also checked in `npm test` by a smaller test (named here).
 */
export const SLOW_FILES: readonly string[] = [
  // 2,000 requests at concurrency 256 against mlp_heavy.onnx, four times; the refusals themselves (503 QueueFullError,
  // Retry-After, 504 at the deadline, own rows only) are checked in test/batching-http/early-refusal.test.ts,
  // deadlines.test.ts and onnx-correctness.test.ts.
  'test/batching-http/overload.test.ts',
  // 50 load/predict/unload cycles of mlp_heavy.onnx, in-process and with workers: 2 (about 35 s); the short run (20
  // cycles, in-process) is test/memory/onnx-unload-cycles.test.ts.
  'test/memory/onnx-unload-cycles-long.test.ts',
  // 50 unload/load cycles of mlp_heavy.onnx through the repository API with workers: 2 (about 25 s: two worker threads
  // start per load); the in-process run is test/memory/repository-cycles.test.ts.
  'test/memory/repository-cycles-long.test.ts',
];

/** In `npm run test:slow`: the fuzz suite with FUZZ_MODE=long (20× the runs, a fresh seed: test/fuzz/harness.ts). */
const SLOW_FUZZ_DIR = 'test/fuzz';

/** Files that need a process of their own, and why. */
export const OWN_PROCESS: readonly string[] = [
  // Top-level beforeEach/afterEach turn node:test's mock timers on around each test: they would do so for the whole area.
  'test/batching/batcher.test.ts',
];

/**
 * Areas that take longest (wall clock, measured: docs/testing.md) start first, so that no long one starts last and
 * runs alone at the end; the others follow in name order. Only the order changes, never what runs.
 */
export const LONGEST_FIRST: readonly string[] = ['cli', 'cluster', 'http', 'deploy', 'workers', 'batching-http', 'runtimes', 'fuzz', 'graphs'];

/**
 * Areas run at once. Measured on the 2-core machine CI uses (docs/testing.md): 2, 3 and 4 took the same time within
 * the noise (the suite is CPU-bound once grouped); more only brings the timing-based tests (deadlines, a free event
 * loop, a slow receiver) closer to their bounds.
 */
export const DEFAULT_CONCURRENCY = 3;

interface Options {
  slow: boolean;
  concurrency: number;
  files: string[];
  passThrough: string[];
}

function parseArguments(argv: readonly string[]): Options {
  const options: Options = { slow: false, concurrency: Number(process.env.TEST_CONCURRENCY ?? DEFAULT_CONCURRENCY), files: [], passThrough: [] };
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument === '--slow') options.slow = true;
    else if (argument === '--concurrency') options.concurrency = Number(argv[++index]);
    else if (argument.startsWith('--concurrency=')) options.concurrency = Number(argument.slice('--concurrency='.length));
    else if (argument.startsWith('-')) options.passThrough.push(argument);
    else options.files.push(relative(REPO_ROOT, resolve(argument)));
  }
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new Error(`the concurrency must be a whole number of at least 1 (--concurrency N or TEST_CONCURRENCY), got ${String(options.concurrency)}`);
  }
  return options;
}

/** Every test/<area>/*.test.ts, as paths relative to the repository, sorted. */
export function allTestFiles(): string[] {
  const files: string[] = [];
  for (const area of readdirSync(TEST_DIR, { withFileTypes: true })) {
    if (!area.isDirectory()) continue;
    for (const file of readdirSync(join(TEST_DIR, area.name))) {
      if (file.endsWith('.test.ts')) files.push(`test/${area.name}/${file}`);
    }
  }
  return files.sort();
}

/** The files a run takes: the default suite (all but the slow files) or the slow one. */
export function selectFiles(all: readonly string[], slow: boolean): string[] {
  if (!slow) return all.filter((file) => !SLOW_FILES.includes(file));
  return all.filter((file) => SLOW_FILES.includes(file) || dirname(file) === SLOW_FUZZ_DIR);
}

/** Files grouped into the processes they run in: one per area, and one for each OWN_PROCESS file. */
export function groupFiles(files: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const file of files) {
    const name = OWN_PROCESS.includes(file) ? `${basename(dirname(file))}-${basename(file, '.test.ts')}` : basename(dirname(file));
    groups.set(name, [...(groups.get(name) ?? []), file]);
  }
  const rank = (name: string) => (LONGEST_FIRST.includes(name) ? LONGEST_FIRST.indexOf(name) : LONGEST_FIRST.length);
  return new Map([...groups].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b)));
}

/**
 * Writes one entry module per group (static imports, so every file's tests and hooks are declared before any runs),
 * named `<position>-<group>.mjs`: `node --test` sorts the files it is given by name.
 */
function writeEntries(dir: string, groups: Map<string, string[]>): string[] {
  return [...groups].map(([name, files], position) => {
    const entry = join(dir, `${String(position).padStart(2, '0')}-${name}.mjs`);
    writeFileSync(entry, files.map((file) => `import ${JSON.stringify(pathToFileURL(join(REPO_ROOT, file)).href)};\n`).join(''));
    return entry;
  });
}

function main(): void {
  const options = parseArguments(process.argv.slice(2));
  const known = allTestFiles();
  const unknown = options.files.filter((file) => !known.includes(file));
  if (unknown.length > 0) throw new Error(`not a test file (test/<area>/<name>.test.ts): ${unknown.join(', ')}`);
  const files = options.files.length > 0 ? options.files : selectFiles(known, options.slow);
  const dir = mkdtempSync(join(tmpdir(), 'longshore-suite-'));
  const removeEntries = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', removeEntries);
  const entries = writeEntries(dir, groupFiles(files));
  const hasReporter = options.passThrough.some((argument) => /^--test-reporter(=|$)/.test(argument));
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${options.concurrency}`, ...(hasReporter ? [] : ['--test-reporter=spec']), ...options.passThrough, ...entries];
  const env = options.slow ? { ...process.env, FUZZ_MODE: process.env.FUZZ_MODE ?? 'long' } : process.env;
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: 'inherit' });
  // Ctrl+C reaches the runner through the terminal's process group; a SIGTERM sent to this process is passed on.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('close', (code, signal) => {
    removeEntries();
    process.exitCode = code ?? (signal === null ? 1 : 128);
  });
}

if (import.meta.filename === resolve(process.argv[1] ?? '')) {
  try {
    main();
  } catch (error) {
    console.error(`test/helpers/suite.ts: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}
