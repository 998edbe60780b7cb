/**
 * What batching is worth, in one run (`npm run bench:batching`): mlp_heavy served three times by ONE longshore
 * (bench/batching.bench.yaml: mlp_off with `batching: {policy: off}`, mlp_timed with `timed`, max_batch_size 64,
 * max_latency_ms 2, mlp_eager with `eager`, max_batch_size 64; max_queue_size 8192 and no deadline so nothing is
 * refused), loaded at concurrency 1, 8, 32 and 128 over
 *   - REST JSON: POST /api/models/{name}/prediction with `{"x":[512 floats]}` (one row per request), and
 *   - V2 binary: POST /v2/models/{name}/infer, one FP32 [1, 512] input as the binary tensor extension, binary output;
 * plus, in a child process, onnxruntime-node's own session.run rate of mlp_heavy at batch 1 and batch 64.
 *
 * Cells run grouped by protocol and concurrency, the three policies next to each other (their order alternating from
 * one group to the next), so the ratio "vs off" compares cells measured moments apart. Each cell is a discarded
 * warm-up then a measured autocannon run (bench/load.ts); req/s counts 2xx responses over the measured run.
 *
 * Prints the machine, the date, a markdown table and the goal checks (bench/batching-results.ts) on stdout (progress on
 * stderr). Exit code 1 when a response was not 2xx or a connection failed (listed under "Problems:"); goal FAILs do
 * not change it.
 * Settings (environment):
 *   BENCH_DURATION_S  measured seconds per cell (default 5, quick 1), whole seconds: autocannon ends a run on its
 *                     1-second sampling tick, so 1.5 would measure 2
 *   BENCH_QUICK=1     smoke run: 1 s warm-up + 1 s measured per cell, 1 s in-process loops (≈ 1 min instead of ≈ 3)
 *   BENCH_JSON=FILE   also write every number (per cell, per in-process loop) to FILE as JSON
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { Child } from './children.ts';
import { freePort, log, machine, machineLine, positiveInteger, ROOT, runBench, sessionRateInChild, startWatchdog, waitForReady, writeResults } from './environment.ts';
import { startForeignCpu } from './foreign-cpu.ts';
import { measureRound, roundProblems } from './load.ts';
import { percentile, Samples } from './stats.ts';
import { CONCURRENCIES, goalChecks, POLICIES, PROTOCOL_LABEL, PROTOCOLS, renderResults, type Cell, type CellSpec, type Policy, type SessionRate } from './batching-results.ts';
import { MLP_HEAVY_FIXTURE, mlpHeavyRow, v2Body, type V2Body } from './v2-bodies.ts';
import { LongshoreClient } from '../src/client/index.ts';

const MODEL_FILE = 'test/fixtures/onnx/mlp_heavy.onnx';
/** BENCH_CONFIG picks another service with the same three model names (e.g. the sessions in worker threads). */
const CONFIG_FILE = process.env.BENCH_CONFIG ?? 'bench/batching.bench.yaml';
const READY_TIMEOUT_MS = 60_000;
/** Other processes using more than this many cores during a cell make the run "noisy". */
const NOISY_OTHER_CORES = 0.2;

/** The served name of each policy's copy of mlp_heavy (bench/batching.bench.yaml). */
const SERVED: Record<Policy, string> = { off: 'mlp_off', timed: 'mlp_timed', eager: 'mlp_eager' };

/** The batch size of the in-process ceiling (= max_batch_size of the batched models). */
const CEILING_BATCH = 64;

interface Settings {
  readonly quick: boolean;
  readonly warmupS: number;
  readonly durationS: number;
  /** Bounds of each in-process loop: whichever comes first. */
  readonly sessionSeconds: number;
  readonly sessionIterations: number;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const quick = env.BENCH_QUICK === '1';
  return {
    quick,
    warmupS: 1,
    durationS: positiveInteger(env, 'BENCH_DURATION_S', quick ? 1 : 5, 600),
    sessionSeconds: quick ? 1 : 3,
    sessionIterations: quick ? 5_000 : 20_000,
  };
}

/** The in-process ceiling: bench/session-rate.ts in its own process. */
async function sessionRate(settings: Settings, batch: number): Promise<SessionRate> {
  const result = await sessionRateInChild(`session-rate mlp_heavy batch ${batch}`, MODEL_FILE, MLP_HEAVY_FIXTURE, settings.sessionSeconds, settings.sessionIterations, batch);
  return { batch, ...(result as Omit<SessionRate, 'batch'>) };
}

/**
 * Before the load, with the exact bodies the load sends: every model answers 200 on both routes, and the three
 * policies, REST and V2 binary (decoded by longshore's client) all give the same probabilities. This also warms each
 * model's session once.
 */
async function checkAnswers(serverUrl: string, row: readonly number[], restBody: string, v2: V2Body): Promise<number[]> {
  const client = new LongshoreClient(serverUrl, { timeoutMs: 30_000 });
  let reference: number[] | undefined;
  for (const policy of POLICIES) {
    const name = SERVED[policy];
    const rest = await fetch(`${serverUrl}/api/models/${name}/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: restBody });
    const restText = await rest.text();
    if (rest.status !== 200) throw new Error(`REST ${name} answered ${rest.status}: ${restText}`);
    const probs = (JSON.parse(restText) as { probs?: unknown }).probs;
    if (!Array.isArray(probs) || probs.length !== 10) throw new Error(`REST ${name} answered without 10 probs: ${restText}`);
    const rawRequest = typeof v2.body === 'string' ? v2.body : new Uint8Array(v2.body); // a copy: fetch wants an ArrayBuffer-backed view
    const raw = await fetch(`${serverUrl}/v2/models/${name}/infer`, { method: 'POST', headers: v2.headers, body: rawRequest });
    const rawBody = Buffer.from(await raw.arrayBuffer());
    if (raw.status !== 200) throw new Error(`V2 binary ${name} answered ${raw.status}: ${rawBody.toString('utf8').slice(0, 500)}`);
    const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, row.length], data: Float32Array.from(row) }] };
    const binary = (await client.infer(name, request, { binary: true, binaryOutputs: true })).output('probs', 'FP32').data;
    const restProbs = probs as number[];
    if (binary.length !== 10 || restProbs.some((value, i) => Math.fround(value) !== binary[i])) {
      throw new Error(`${name}: REST ${JSON.stringify(restProbs)} and V2 binary ${JSON.stringify(Array.from(binary))} differ`);
    }
    if (reference && restProbs.some((value, i) => value !== reference?.[i])) {
      throw new Error(`${name} answers ${JSON.stringify(restProbs)}, ${SERVED.off} ${JSON.stringify(reference)}`);
    }
    reference ??= restProbs;
  }
  return reference as number[];
}

/** The load matrix in run order: per protocol and concurrency the three policies, alternating their order. */
function cellSpecs(): CellSpec[] {
  const specs: CellSpec[] = [];
  let group = 0;
  for (const protocol of PROTOCOLS) {
    for (const connections of CONCURRENCIES) {
      const order = group++ % 2 === 0 ? POLICIES : [...POLICIES].reverse();
      for (const policy of order) specs.push({ protocol, connections, policy });
    }
  }
  return specs;
}

async function main(): Promise<number> {
  const settings = readSettings(process.env);
  const specs = cellSpecs();
  // The run must end by itself: a generous bound over what it needs, then everything is killed (children.ts).
  const expectedS = specs.length * (settings.warmupS + settings.durationS) + 2 * (settings.sessionSeconds + 3) + 10;
  const watchdogMs = Math.round((120 + 2 * expectedS) * 1000);
  const watchdog = startWatchdog(watchdogMs);

  const started = new Date();
  const host = machine();
  const loadAtStart = os.loadavg()[0] ?? 0;
  log(`${host.cpu}, ${host.cores} cores, Node ${host.node}, onnxruntime-node ${host.onnxruntimeNode}`);
  log(`${specs.length} cells of ${settings.warmupS} s warm-up + ${settings.durationS} s measured${settings.quick ? ' (quick)' : ''}; expect about ${Math.round(expectedS)} s`);

  const row = mlpHeavyRow();
  const restBody = JSON.stringify({ x: row });
  const v2 = v2Body(row, 1, true);

  // The in-process ceiling first, with nothing else of ours running.
  const ceilings: SessionRate[] = [];
  for (const batch of [1, CEILING_BATCH]) {
    const rate = await sessionRate(settings, batch);
    ceilings.push(rate);
    log(`in-process batch ${batch}: ${Math.round(rate.runsPerSecond * batch)} rows/s, median ${rate.medianUs.toFixed(1)} µs`);
  }
  const ceiling64 = ceilings.find((rate) => rate.batch === CEILING_BATCH) as SessionRate;

  // The service's log (one access line per request) goes to /dev/null (logging.destination in its YAML): reading it
  // here would take CPU from the load generator. So the URL is ours to choose, not read from the log.
  const serverPort = await freePort();
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const server = new Child('longshore', [
    'bin/longshore.js',
    'serve',
    '--config',
    CONFIG_FILE,
    '--host',
    '127.0.0.1',
    '--port',
    String(serverPort),
    '--log-level',
    'info',
  ], ROOT);
  const ownPids = () => [process.pid, server.process.pid].filter((pid): pid is number => pid !== undefined);
  const cells: Cell[] = [];
  let sampleProbs: number[] = [];
  try {
    await waitForReady(serverUrl, READY_TIMEOUT_MS);
    sampleProbs = await checkAnswers(serverUrl, row, restBody, v2);
    for (const spec of specs) {
      const name = SERVED[spec.policy];
      const url = spec.protocol === 'rest' ? `${serverUrl}/api/models/${name}/prediction` : `${serverUrl}/v2/models/${name}/infer`;
      const latencies = new Samples();
      const stopMeter = startForeignCpu(ownPids);
      const round = await measureRound(
        {
          url,
          ...(spec.protocol === 'rest' ? { body: restBody } : { body: v2.body, headers: v2.headers }),
          connections: spec.connections,
          warmupS: settings.warmupS,
          durationS: settings.durationS,
        },
        latencies,
      );
      const foreign = stopMeter();
      const ok = round.totalRequests - round.non2xx;
      const cell: Cell = {
        ...spec,
        round,
        requestsPerSecond: round.durationS > 0 ? ok / round.durationS : Number.NaN,
        p50Ms: percentile(latencies.values(), 0.5),
        p99Ms: percentile(latencies.values(), 0.99),
        failures: round.non2xx + round.errors,
        problems: roundProblems(round),
        ...(foreign ? { otherCores: foreign.otherCores, stealCores: foreign.stealCores } : {}),
      };
      cells.push(cell);
      const noise = foreign ? `, other processes ${foreign.otherCores.toFixed(2)} cores` : '';
      log(
        `${PROTOCOL_LABEL[spec.protocol]} c=${spec.connections} ${spec.policy}: ${Math.round(cell.requestsPerSecond)} rows/s, ` +
          `p50 ${cell.p50Ms.toFixed(3)} ms, p99 ${cell.p99Ms.toFixed(3)} ms${noise}`,
      );
      for (const problem of cell.problems) log(`  PROBLEM: ${problem}`);
    }
  } finally {
    await server.stop();
  }

  const table = renderResults(cells, ceilings);
  const checks = goalChecks(cells, ceiling64);
  const measured = cells.filter((cell) => cell.otherCores !== undefined);
  const noisiest = measured.reduce<Cell | undefined>((a, b) => (a === undefined || (b.otherCores ?? 0) > (a.otherCores ?? 0) ? b : a), undefined);
  const maxOther = noisiest?.otherCores ?? 0;
  const maxSteal = Math.max(0, ...measured.map((cell) => cell.stealCores ?? 0));
  const lasted = cells.map((cell) => cell.round.durationS);
  const noisyCells = measured.filter((cell) => (cell.otherCores ?? 0) > NOISY_OTHER_CORES).length;
  const header = [
    machineLine(host),
    `Date: ${started.toISOString()}`,
    `Method: mlp_heavy (${MODEL_FILE}) served as ${POLICIES.map((policy) => `${SERVED[policy]} (${policy})`).join(', ')} by one longshore ` +
      `(${CONFIG_FILE}); one row per request; each cell ${settings.warmupS} s warm-up (discarded) + ${settings.durationS} s measured ` +
      `(runs lasted ${Math.min(...lasted).toFixed(2)}–${Math.max(...lasted).toFixed(2)} s), ` +
      `keep-alive, pipelining 1; req/s = 2xx responses / measured seconds; p50/p99 over the 2xx responses; in-process: ` +
      `${settings.sessionSeconds} s or ${settings.sessionIterations} runs after 300 warm-up runs, in its own process`,
    `Noise: 1-minute load average ${loadAtStart.toFixed(2)} before the run; other processes used at most ${maxOther.toFixed(2)} cores ` +
      `(steal ${maxSteal.toFixed(2)}) during a cell${noisiest ? ` (${PROTOCOL_LABEL[noisiest.protocol]} c=${noisiest.connections} ${noisiest.policy})` : ''}`,
  ];
  const problems = cells.flatMap((cell) => cell.problems.map((problem) => `${PROTOCOL_LABEL[cell.protocol]} c=${cell.connections} ${cell.policy}: ${problem}`));
  const warnings: string[] = [];
  if (noisyCells > 0) warnings.push(`other processes used more than ${NOISY_OTHER_CORES} cores in ${noisyCells} of ${cells.length} cells (up to ${maxOther.toFixed(2)}): this run is noisy`);
  const report = [
    ...header,
    '',
    table,
    '',
    'Goals:',
    ...checks.map((check) => `- ${check.text}`),
    ...(problems.length > 0 ? ['', 'Problems:', ...problems.map((line) => `- ${line}`)] : ['', 'All responses were 2xx; no connection errors.']),
    ...(warnings.length > 0 ? ['', ...warnings.map((line) => `Warning: ${line}`)] : []),
  ].join('\n');
  process.stdout.write(`${report}\n`);

  const jsonPath = process.env.BENCH_JSON;
  if (jsonPath) {
    writeResults(resolve(jsonPath), { date: started.toISOString(), machine: host, settings, loadAverageAtStart: loadAtStart, ceilings, cells, sampleProbs, checks, problems, warnings, table });
  }
  clearTimeout(watchdog);
  return problems.length;
}

runBench(main);
