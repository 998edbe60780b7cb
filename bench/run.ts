/**
 * longshore's benchmark (`npm run bench`). One run measures, side by side on this machine:
 *   1. the floor — a bare node:http server answering a fixed small JSON (bench/floor-server.ts), c = 1, 32, 64;
 *   2. the in-process ceiling — onnxruntime-node session.run at batch 1 for iris_logreg and mlp_heavy
 *      (bench/session-rate.ts, its own process);
 *   3. longshore serving both models over REST /api/models/{name}/prediction with default config:
 *      iris_logreg at c = 1, 32, 64 and mlp_heavy at c = 1, 32.
 * Compare the ratios within one run, not absolute numbers across runs or machines.
 *
 * Prints the machine and a markdown table on stdout (progress goes to stderr) and writes bench/results/latest.json.
 * Settings: BENCH_DURATION_S (measured seconds per cell, default 5), BENCH_QUICK=1 (1 s cells: a smoke run).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './children.ts';
import { cellProblems, measureCell, type CellResult } from './load.ts';
import { renderTable, type Row } from './table.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURES = 'test/fixtures/onnx';
const CHILD_START_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 60_000;

interface Settings {
  readonly quick: boolean;
  readonly warmupS: number;
  readonly durationS: number;
  /** Bounds of the in-process loop: whichever comes first. */
  readonly sessionSeconds: number;
  readonly sessionIterations: number;
}

interface InProcessResult {
  readonly model: string;
  readonly runs: number;
  readonly seconds: number;
  readonly runsPerSecond: number;
  readonly medianUs: number;
  readonly p99Us: number;
}

interface Cell extends CellResult {
  readonly scenario: 'floor' | 'served';
  readonly model?: string;
  readonly problems: string[];
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const quick = env.BENCH_QUICK === '1';
  let durationS = quick ? 1 : 5;
  if (env.BENCH_DURATION_S !== undefined && env.BENCH_DURATION_S !== '') {
    durationS = Number(env.BENCH_DURATION_S);
    if (!Number.isInteger(durationS) || durationS < 1 || durationS > 600) {
      throw new Error(`BENCH_DURATION_S must be a whole number of seconds from 1 to 600, got '${env.BENCH_DURATION_S}'`);
    }
  }
  return { quick, warmupS: 1, durationS, sessionSeconds: quick ? 1 : 3, sessionIterations: quick ? 5_000 : 20_000 };
}

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    autocannon: packageVersion('autocannon'),
  };
}

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function inProcessRate(model: string, settings: Settings): Promise<InProcessResult> {
  const child = new Child(`session-rate ${model}`, [
    '--import',
    'tsx',
    'bench/session-rate.ts',
    `${FIXTURES}/${model}.onnx`,
    `${FIXTURES}/${model}.json`,
    String(settings.sessionSeconds),
    String(settings.sessionIterations),
  ], ROOT);
  try {
    await child.finished(60_000);
    const lastLine = child.stdout.trim().split('\n').pop() ?? '';
    return { model, ...(JSON.parse(lastLine) as Omit<InProcessResult, 'model'>) };
  } finally {
    await child.stop();
  }
}

async function waitForReady(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/api/health/ready`);
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`longshore was not ready within ${READY_TIMEOUT_MS} ms (last: ${last})`);
}

/** One prediction before loading, so a wrong body or route fails loudly instead of producing a table of 4xx. */
async function checkPrediction(url: string, body: string): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const cellSeconds = settings.warmupS + settings.durationS;
  // The run must end by itself: a generous bound over what the cells need, then everything is killed.
  const watchdogMs = (180 + 8 * cellSeconds * 2) * 1000;
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${watchdogMs / 1000} s, killing child processes`);
    process.exit(1);
  }, watchdogMs);
  watchdog.unref();

  const started = new Date();
  const host = machine();
  // Another busy process on a 2-core machine skews every ratio; say so rather than print a quiet-looking table.
  const loadAtStart = os.loadavg()[0] ?? 0;
  if (loadAtStart > host.cores * 0.5) log(`WARNING: 1-minute load average is ${loadAtStart.toFixed(2)} on ${host.cores} cores; results will be noisy`);
  log(`${host.cpu}, ${host.cores} cores, Node ${host.node}, onnxruntime-node ${host.onnxruntimeNode}`);
  log(`${settings.warmupS} s warm-up + ${settings.durationS} s measured per cell${settings.quick ? ' (quick)' : ''}`);

  const irisBody = '{"input":[5.1,3.5,1.4,0.2]}';
  const mlpFixture = JSON.parse(readFileSync(join(ROOT, FIXTURES, 'mlp_heavy.json'), 'utf8')) as { inputs: { x: { data: number[] } } };
  const mlpBody = JSON.stringify({ x: mlpFixture.inputs.x.data.slice(0, 512) });

  // 1. In-process ceiling, alone on the machine.
  const inProcess: Record<string, InProcessResult> = {};
  for (const model of ['iris_logreg', 'mlp_heavy']) {
    log(`in-process session.run ${model}`);
    const result = await inProcessRate(model, settings);
    inProcess[model] = result;
    log(`  ${Math.round(result.runsPerSecond)} runs/s, median ${result.medianUs.toFixed(1)} µs (${result.runs} runs)`);
  }

  const cells: Cell[] = [];
  const measure = async (scenario: Cell['scenario'], url: string, body: string, connections: number, model?: string) => {
    log(`${scenario}${model ? ` ${model}` : ''} c=${connections}`);
    const result = await measureCell({ url, body, connections, warmupS: settings.warmupS, durationS: settings.durationS });
    const problems = cellProblems(result);
    const cell: Cell = { scenario, ...(model ? { model } : {}), ...result, problems };
    cells.push(cell);
    log(`  ${Math.round(cell.requestsPerSecond)} req/s, p50 ${cell.p50Ms.toFixed(3)} ms, p99 ${cell.p99Ms.toFixed(3)} ms`);
    for (const problem of problems) log(`  PROBLEM: ${problem}`);
  };

  // 2. Floor.
  const floor = new Child('floor-server', ['--import', 'tsx', 'bench/floor-server.ts'], ROOT);
  try {
    const url = await floor.waitForUrl(CHILD_START_TIMEOUT_MS);
    for (const connections of [1, 32, 64]) await measure('floor', url, irisBody, connections);
  } finally {
    await floor.stop();
  }

  // 3. longshore, default config, both models.
  const server = new Child('longshore', [
    'bin/longshore.js',
    'serve',
    '--model',
    `iris_logreg=${FIXTURES}/iris_logreg.onnx`,
    '--model',
    `mlp_heavy=${FIXTURES}/mlp_heavy.onnx`,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--log-level',
    'info',
  ], ROOT);
  let serverLogLinesDuringLoad = 0;
  const sampleResponses: Record<string, unknown> = {};
  try {
    const url = await server.waitForUrl(CHILD_START_TIMEOUT_MS);
    await waitForReady(url);
    const iris = `${url}/api/models/iris_logreg/prediction`;
    const mlp = `${url}/api/models/mlp_heavy/prediction`;
    sampleResponses.iris_logreg = await checkPrediction(iris, irisBody);
    sampleResponses.mlp_heavy = await checkPrediction(mlp, mlpBody);
    const linesBefore = server.stdoutLines;
    for (const connections of [1, 32, 64]) await measure('served', iris, irisBody, connections, 'iris_logreg');
    for (const connections of [1, 32]) await measure('served', mlp, mlpBody, connections, 'mlp_heavy');
    serverLogLinesDuringLoad = server.stdoutLines - linesBefore;
  } finally {
    await server.stop();
  }

  // Table.
  const floorAt = (connections: number) => cells.find((cell) => cell.scenario === 'floor' && cell.connections === connections);
  const rows: Row[] = [];
  for (const cell of cells.filter((candidate) => candidate.scenario === 'floor')) {
    rows.push({
      scenario: 'floor: bare node:http, fixed JSON',
      concurrency: String(cell.connections),
      requestsPerSecond: cell.requestsPerSecond,
      p50Ms: cell.p50Ms,
      p99Ms: cell.p99Ms,
      problems: cell.problems,
    });
  }
  for (const model of ['iris_logreg', 'mlp_heavy']) {
    const ceiling = inProcess[model] as InProcessResult;
    rows.push({
      scenario: `in-process session.run ${model} (batch 1)`,
      concurrency: '1 (loop)',
      requestsPerSecond: ceiling.runsPerSecond,
      p50Ms: ceiling.medianUs / 1000,
      p99Ms: ceiling.p99Us / 1000,
    });
    for (const cell of cells.filter((candidate) => candidate.scenario === 'served' && candidate.model === model)) {
      const base = floorAt(cell.connections);
      rows.push({
        scenario: `served REST ${model}`,
        concurrency: String(cell.connections),
        requestsPerSecond: cell.requestsPerSecond,
        p50Ms: cell.p50Ms,
        p99Ms: cell.p99Ms,
        ...(base ? { vsFloor: cell.requestsPerSecond / base.requestsPerSecond } : {}),
        servedVsInProcess: cell.requestsPerSecond / ceiling.runsPerSecond,
        problems: cell.problems,
      });
    }
  }

  const loadAtEnd = os.loadavg()[0] ?? 0;
  const table = renderTable(rows);
  const header = [
    `Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.platform}; Node ${host.node}, ` +
      `onnxruntime-node ${host.onnxruntimeNode}, autocannon ${host.autocannon}`,
    `Date: ${started.toISOString()}`,
    `Cells: ${settings.warmupS} s warm-up (discarded) + ${settings.durationS} s measured, keep-alive, pipelining 1; ` +
      `in-process: ${settings.sessionSeconds} s or ${settings.sessionIterations} runs after 300 warm-up runs`,
    `1-minute load average: ${loadAtStart.toFixed(2)} at start (before the run), ${loadAtEnd.toFixed(2)} at end (includes the run)`,
  ];
  const problems = cells.flatMap((cell) =>
    cell.problems.map((problem) => `${cell.scenario}${cell.model ? ` ${cell.model}` : ''} c=${cell.connections}: ${problem}`),
  );
  if (serverLogLinesDuringLoad > 0) problems.push(`longshore wrote ${serverLogLinesDuringLoad} stdout log lines during the load`);
  const report = [...header, '', table, ...(problems.length > 0 ? ['', 'Problems:', ...problems.map((line) => `- ${line}`)] : [])].join('\n');
  process.stdout.write(`${report}\n`);

  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const results = {
    date: started.toISOString(),
    machine: host,
    settings,
    loadAverage: { start: loadAtStart, end: loadAtEnd },
    inProcess,
    cells,
    rows,
    serverLogLinesDuringLoad,
    sampleResponses,
    problems,
    table,
  };
  writeFileSync(join(resultsDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${join('bench', 'results', 'latest.json')}`);
  if (problems.length > 0) process.exitCode = 1;
  clearTimeout(watchdog);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
