/**
 * The hot path of `workers: N` on an ONNX model, measured per mechanism (issue 15: one worker-thread mechanism for
 * code models and ONNX sessions, if it costs nothing):
 *
 * - `main`: the session on the main thread (`createLocalSession`), for scale;
 * - `hand-rolled`: today's ONNX path (`createWorkerSessions`, onnx-worker.js: one session per thread, postMessage);
 * - `piscina`: the same session and the same run code in a piscina pool, set up as the code-model pool is
 *   (worker-pool.ts: `atomics: 'disabled'`, one task per worker);
 * - `piscina tuned`: piscina at its fastest for a session (no timers or channels to keep alive in the worker):
 *   `atomics: 'sync'` (piscina's default; `BENCH_TUNED_ATOMICS=async|disabled` to try the others), `recordTiming: false`;
 * - an `echo` row: the bare round trip (no session), a raw Worker's postMessage against piscina.run.
 *
 * Every mechanism runs 2 threads (`workers: 2`), with 1 or 2 calls in flight. The blocks of calls alternate between
 * the mechanisms, round after round (the order reversed every other round), so a slow spell of the shared machine hits
 * all of them; each cell is the median over rounds of the mean µs per call. Calls go through the `SessionBackend` the
 * runtime model calls (`run(feeds, fetches)`), with the feeds `OnnxModel` builds (typed arrays, structured-cloned;
 * neither pool transfers them): what `OnnxModel` adds around it is the same for every mechanism.
 *
 *   npm run bench:workers                 BENCH_ROUNDS=7 BENCH_SCALE=2 npm run bench:workers
 *
 * Results: docs/worker-threads.md ("Why two pools").
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { Piscina } from 'piscina';
import { createLocalSession, createWorkerSessions, type RunTensor } from '../src/runtimes/onnx-session.ts';
import { log, machine, machineLine, positiveInteger, ROOT } from './environment.ts';
import { median } from './stats.ts';
import { markdownTable } from './table.ts';

const ROUNDS = positiveInteger(process.env, 'BENCH_ROUNDS', 5, 100);
const SCALE = positiveInteger(process.env, 'BENCH_SCALE', 1, 100);
const THREADS = 2;
const TUNED_ATOMICS = (process.env.BENCH_TUNED_ATOMICS ?? 'sync') as 'sync' | 'async' | 'disabled';
if (!['sync', 'async', 'disabled'].includes(TUNED_ATOMICS)) throw new Error(`BENCH_TUNED_ATOMICS must be sync, async or disabled, got '${TUNED_ATOMICS}'`);
const FIXTURES = join(ROOT, 'test/fixtures/onnx');
const OPTIONS: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, executionProviders: ['cpu'], logSeverityLevel: 4 };

type Feeds = Record<string, RunTensor>;
interface Mechanism {
  readonly name: string;
  run(feeds: Feeds, fetches: readonly string[]): Promise<unknown>;
  close(): Promise<void>;
}

// The piscina worker: the run code of onnx-worker.js as a piscina task handler. Plain JavaScript in a temp file (tsx
// does not reach worker threads on Node 20); onnxruntime-node is imported by URL, since the file is outside the repo.
const PISCINA_WORKER = `
import { workerData } from 'node:worker_threads';
const { default: ort } = await import(workerData.ort);
ort.env.logLevel = 'fatal';
const session = workerData.path ? await ort.InferenceSession.create(workerData.path, workerData.options) : undefined;
export default async function task(message) {
  if (message.echo !== undefined) return message.echo;
  const tensors = {};
  for (const [name, feed] of Object.entries(message.feeds)) tensors[name] = new ort.Tensor(feed.type, feed.data, feed.dims);
  const results = await session.run(tensors, message.fetches);
  const outputs = {};
  for (const name of message.fetches) {
    const tensor = results[name];
    outputs[name] = { type: tensor.type, dims: [...tensor.dims], data: tensor.data };
  }
  return outputs;
}
`;

// The bare hand-rolled round trip for the echo row: what onnx-worker.js does around a run, without the run.
const RAW_ECHO_WORKER = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', ({ id, echo }) => parentPort.postMessage({ id, echo }));
`;

const scratch = mkdtempSync(join(os.tmpdir(), 'longshore-bench-workers-'));
const piscinaWorker = join(scratch, 'piscina-worker.mjs');
const rawEchoWorker = join(scratch, 'raw-echo-worker.mjs');
writeFileSync(piscinaWorker, PISCINA_WORKER);
writeFileSync(rawEchoWorker, RAW_ECHO_WORKER);
const ORT_URL = import.meta.resolve('onnxruntime-node');

async function piscinaPool(name: string, atomics: 'disabled' | 'sync' | 'async', modelPath?: string, recordTiming = true): Promise<Mechanism> {
  const pool = new Piscina({
    filename: piscinaWorker,
    minThreads: THREADS,
    maxThreads: THREADS,
    idleTimeout: Infinity,
    concurrentTasksPerWorker: 1,
    atomics,
    recordTiming,
    workerData: { ort: ORT_URL, path: modelPath, options: OPTIONS },
  });
  // Wait until every thread has started (and created its session): a first call on each.
  await Promise.all(Array.from({ length: THREADS * 2 }, () => pool.run({ echo: 0 })));
  // Without a model, the call is an echo of its feeds.
  const run = modelPath ? (feeds: Feeds, fetches: readonly string[]) => pool.run({ feeds, fetches }) : (feeds: Feeds) => pool.run({ echo: feeds });
  return { name, run, close: () => pool.destroy() };
}

/** N raw workers, a call to the one with the fewest pending (as onnx-session.ts picks). */
async function rawEcho(): Promise<Mechanism> {
  const workers = Array.from({ length: THREADS }, () => {
    const worker = new Worker(rawEchoWorker);
    const waiting = new Map<number, (value: unknown) => void>();
    worker.on('message', ({ id, echo }: { id: number; echo: unknown }) => {
      waiting.get(id)?.(echo);
      waiting.delete(id);
    });
    return { worker, waiting };
  });
  let nextId = 0;
  return {
    name: 'hand-rolled',
    run(feeds) {
      const target = workers.reduce((best, worker) => (worker.waiting.size < best.waiting.size ? worker : best));
      const id = nextId++;
      return new Promise((resolve) => {
        target.waiting.set(id, resolve);
        target.worker.postMessage({ id, echo: feeds });
      });
    },
    close: async () => void (await Promise.all(workers.map(({ worker }) => worker.terminate()))),
  };
}

async function sessionMechanisms(modelPath: string): Promise<Mechanism[]> {
  const local = await createLocalSession(modelPath, OPTIONS);
  const handRolled = await createWorkerSessions(modelPath, OPTIONS, THREADS);
  return [
    { name: 'main', run: (feeds, fetches) => local.run(feeds, fetches), close: () => local.release() },
    { name: 'hand-rolled', run: (feeds, fetches) => handRolled.run(feeds, fetches), close: () => handRolled.release() },
    await piscinaPool('piscina', 'disabled', modelPath),
    await piscinaPool('piscina tuned', TUNED_ATOMICS, modelPath, false),
  ];
}

interface FixtureInput {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: readonly number[];
}

/** The fixture's first row repeated `batch` times, as OnnxModel's feeds (FP32 inputs only: both fixtures are). */
function feedsOf(fixture: string, batch: number): Feeds {
  const { inputs } = JSON.parse(readFileSync(join(FIXTURES, fixture), 'utf8')) as { inputs: Record<string, FixtureInput> };
  const feeds: Feeds = {};
  for (const [name, input] of Object.entries(inputs)) {
    if (input.datatype !== 'FP32') throw new Error(`${fixture}: input ${name} is ${input.datatype}; this benchmark builds FP32 only`);
    const instance = input.shape.slice(1);
    const size = instance.reduce((product, dim) => product * dim, 1);
    const first = input.data.slice(0, size);
    feeds[name] = { type: 'float32', dims: [batch, ...instance], data: Float32Array.from(Array.from({ length: batch }, () => first).flat()) };
  }
  return feeds;
}

interface Scenario {
  readonly label: string;
  readonly batch: number;
  /** Calls per block (times BENCH_SCALE). */
  readonly calls: number;
  readonly feeds: Feeds;
  readonly fetches: readonly string[];
}

/** `calls` calls with `inFlight` of them outstanding at any time; the mean µs per call. */
async function block(mechanism: Mechanism, scenario: Scenario, inFlight: number): Promise<number> {
  let left = scenario.calls * SCALE;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (left-- > 0) await mechanism.run(scenario.feeds, scenario.fetches);
    }),
  );
  return ((performance.now() - started) * 1000) / (scenario.calls * SCALE);
}

interface Cell {
  readonly scenario: string;
  readonly batch: number;
  readonly inFlight: number;
  /** Median over rounds of the mean µs per call, by mechanism name. */
  readonly us: Map<string, number>;
  /** piscina / hand-rolled per round (same round, adjacent blocks), for the spread. */
  readonly ratios: number[];
}

async function measure(mechanisms: Mechanism[], scenarios: readonly Scenario[], cells: Cell[]): Promise<void> {
  for (const scenario of scenarios) {
    for (const inFlight of [1, 2]) {
      for (const mechanism of mechanisms) await block(mechanism, { ...scenario, calls: Math.ceil(scenario.calls / 10) }, inFlight); // warm-up
      const samples = new Map<string, number[]>(mechanisms.map((mechanism) => [mechanism.name, []]));
      const ratios: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? mechanisms : [...mechanisms].reverse();
        const times = new Map<string, number>();
        for (const mechanism of order) times.set(mechanism.name, await block(mechanism, scenario, inFlight));
        for (const [name, us] of times) samples.get(name)?.push(us);
        ratios.push((times.get('piscina') as number) / (times.get('hand-rolled') as number));
      }
      const us = new Map([...samples].map(([name, values]) => [name, median(values)]));
      cells.push({ scenario: scenario.label, batch: scenario.batch, inFlight, us, ratios });
      log(`${scenario.label} batch ${scenario.batch} in flight ${inFlight}: ${[...us].map(([name, value]) => `${name} ${value.toFixed(1)} µs`).join(', ')}`);
    }
  }
}

function scenario(label: string, fixture: string, batch: number, calls: number, fetches: readonly string[]): Scenario {
  return { label, batch, calls, feeds: feedsOf(fixture, batch), fetches };
}

async function main(): Promise<void> {
  const host = machine();
  log(`${ROUNDS} rounds, scale ${SCALE}, ${THREADS} threads per pool`);
  const cells: Cell[] = [];
  const groups: [string | undefined, Scenario[]][] = [
    [undefined, [scenario('echo (no session)', 'iris_logreg.json', 1, 2000, []), scenario('echo (no session)', 'mlp_heavy.json', 64, 400, [])]],
    [join(FIXTURES, 'iris_logreg.onnx'), [scenario('iris_logreg', 'iris_logreg.json', 1, 2000, ['label', 'probabilities']), scenario('iris_logreg', 'iris_logreg.json', 64, 1500, ['label', 'probabilities'])]],
    [join(FIXTURES, 'mlp_heavy.onnx'), [scenario('mlp_heavy', 'mlp_heavy.json', 1, 800, ['probs']), scenario('mlp_heavy', 'mlp_heavy.json', 64, 100, ['probs'])]],
  ];
  for (const [modelPath, scenarios] of groups) {
    const mechanisms = modelPath ? await sessionMechanisms(modelPath) : [await rawEcho(), await piscinaPool('piscina', 'disabled'), await piscinaPool('piscina tuned', TUNED_ATOMICS, undefined, false)];
    try {
      await measure(mechanisms, scenarios, cells);
    } finally {
      await Promise.all(mechanisms.map((mechanism) => mechanism.close()));
    }
  }
  const names = ['main', 'hand-rolled', 'piscina', 'piscina tuned'];
  const percent = (value: number) => `${value >= 1 ? '+' : ''}${((value - 1) * 100).toFixed(1)}%`;
  const lines = cells.map((cell) => {
    const base = cell.us.get('hand-rolled') as number;
    const tuned = cell.us.get('piscina tuned') as number;
    return [
      cell.scenario,
      String(cell.batch),
      String(cell.inFlight),
      ...names.map((name) => (cell.us.has(name) ? (cell.us.get(name) as number).toFixed(1) : '—')),
      percent((cell.us.get('piscina') as number) / base),
      `${percent(Math.min(...cell.ratios))} … ${percent(Math.max(...cell.ratios))}`,
      percent(tuned / base),
    ];
  });
  const header = ['Scenario', 'Batch', 'In flight', ...names.map((name) => `${name} µs/call`), 'piscina vs hand-rolled', 'per round', 'piscina tuned vs hand-rolled'];
  console.log(machineLine(host));
  console.log(`${THREADS} threads per pool, intra_op_threads 1; median of ${ROUNDS} alternating rounds (scale ${SCALE}); lower is better.\n`);
  console.log(markdownTable(header, lines, new Set([0])));
}

try {
  await main();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
