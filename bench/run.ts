/**
 * longshore's benchmark (`npm run bench`). One run measures, side by side on this machine:
 *   1. the floor — a bare node:http server answering a fixed small JSON (bench/floor-server.ts), c = 1, 32, 64;
 *   2. the in-process ceiling — onnxruntime-node session.run at batch 1 for iris_logreg and mlp_heavy
 *      (bench/session-rate.ts, its own process);
 *   3. longshore serving both models over REST /api/models/{name}/prediction with default config
 *      (bench/longshore.bench.yaml): iris_logreg at c = 1, 32, 64 and mlp_heavy at c = 1, 32; plus iris_logreg with
 *      eager batching off at c = 32, 64, to show what coalescing concurrent requests is worth;
 *   4. the Open Inference Protocol: mlp_heavy at batch 1 and 64, over HTTP (JSON and binary) and over gRPC (typed
 *      contents and raw), c = 16, each compared with the in-process rate at the same batch size.
 * Compare the ratios within one run, not absolute numbers across runs or machines.
 *
 * Everything is measured in rounds; each round runs every cell once, interleaved (floor c, then the served cells at
 * the same c), so slow drift on a shared machine hits a served cell and the floor it is compared with alike. The table
 * shows the median req/s over the rounds and latency percentiles over all rounds' responses.
 *
 * Prints the machine and a markdown table on stdout (progress goes to stderr) and writes bench/results/latest.json.
 * Settings (environment):
 *   BENCH_DURATION_S  measured seconds per cell and round (default 5; 1 s warm-up before each, discarded)
 *   BENCH_ROUNDS      rounds (default 3)
 *   BENCH_QUICK=1     smoke run: 1 round of 1 s cells
 */
import os from 'node:os';
import { join } from 'node:path';
import { Child } from './children.ts';
import { freePort, log, machine, machineLine, positiveInteger, ROOT, runBench, sessionRateInChild, startWatchdog, waitForReady, writeResults } from './environment.ts';
import { startForeignCpu } from './foreign-cpu.ts';
import { combineRounds, measureRound, roundProblems, type CellResult, type CellRound } from './load.ts';
import { median, Samples } from './stats.ts';
import { renderTable, type Row } from './table.ts';
import { checkGrpc, grpcInferBody, inferCodec, measureGrpcRound } from './grpc-load.ts';
import { mlpHeavyRow, v2Body } from './v2-bodies.ts';
import { LongshoreClient } from '../src/client/index.ts';

const FIXTURES = 'test/fixtures/onnx';
const MODELS = ['iris_logreg', 'mlp_heavy'] as const;
const CHILD_START_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 60_000;
/** Other processes using more than this many cores during a cell make the run "noisy". */
const NOISY_OTHER_CORES = 0.2;

type ModelName = (typeof MODELS)[number];
/** Served under its own name with `batching: {policy: off}` (bench/longshore.bench.yaml); compared with iris_logreg's ceiling. */
const UNBATCHED = 'iris_logreg_unbatched';
type ServedName = ModelName | typeof UNBATCHED;

interface Settings {
  readonly quick: boolean;
  readonly rounds: number;
  readonly warmupS: number;
  readonly durationS: number;
  /** Bounds of the in-process loop: whichever comes first. */
  readonly sessionSeconds: number;
  readonly sessionIterations: number;
}

interface SessionRound {
  readonly runs: number;
  readonly seconds: number;
  readonly runsPerSecond: number;
  readonly medianUs: number;
  readonly p99Us: number;
}

interface InProcessResult {
  readonly model: ModelName;
  /** Medians over the rounds. */
  readonly runsPerSecond: number;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly rounds: readonly SessionRound[];
}

/** One cell of the load matrix. */
interface CellSpec {
  readonly key: string;
  readonly scenario: 'floor' | 'served';
  readonly model?: ServedName;
  readonly connections: number;
  /** Open Inference Protocol cells: JSON or binary, with `batch` rows per request. */
  readonly v2?: { readonly binary: boolean; readonly batch: number };
  /** Open Inference Protocol over gRPC: typed contents or raw, with `batch` rows per request. */
  readonly grpc?: { readonly raw: boolean; readonly batch: number };
}

/** Concurrency of the V2 cells. */
const V2_CONNECTIONS = 16;
/** The batch size of the in-process ceiling the batch-64 V2 cells are compared with. */
const V2_BATCH = 64;

interface CellRecord extends CellSpec {
  readonly result: CellResult;
  /** Highest average cores used by other processes during one of the cell's rounds (Linux only). */
  readonly maxOtherCores?: number;
  readonly maxStealCores?: number;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const quick = env.BENCH_QUICK === '1';
  return {
    quick,
    rounds: positiveInteger(env, 'BENCH_ROUNDS', quick ? 1 : 3, 20),
    warmupS: 1,
    durationS: positiveInteger(env, 'BENCH_DURATION_S', quick ? 1 : 5, 600),
    sessionSeconds: quick ? 1 : 3,
    sessionIterations: quick ? 5_000 : 20_000,
  };
}

async function sessionRound(model: ModelName, settings: Settings, batch = 1): Promise<SessionRound> {
  const files = [`${FIXTURES}/${model}.onnx`, `${FIXTURES}/${model}.json`] as const;
  return (await sessionRateInChild(`session-rate ${model}`, ...files, settings.sessionSeconds, settings.sessionIterations, batch)) as SessionRound;
}

/** One request before loading, so a wrong body or route fails loudly instead of producing a table of 4xx. */
async function checkPrediction(url: string, body: string): Promise<unknown> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as unknown;
}

/**
 * Before the V2 cells: longshore's own client runs mlp_heavy at batch 64 in JSON and in binary (both directions) and
 * the two must agree, so the load measures correct answers.
 */
async function checkV2(serverUrl: string, row: readonly number[]): Promise<{ probs: number[] }> {
  const client = new LongshoreClient(serverUrl, { timeoutMs: 30_000 });
  const data = new Float32Array(row.length * V2_BATCH);
  for (let i = 0; i < V2_BATCH; i++) data.set(row, i * row.length);
  const request = { inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [V2_BATCH, row.length], data }] };
  const json = (await client.infer('mlp_heavy', request)).output('probs', 'FP32');
  const binary = (await client.infer('mlp_heavy', request, { binary: true, binaryOutputs: true })).output('probs', 'FP32');
  if (json.data.length !== V2_BATCH * 10 || json.data.some((value, i) => value !== binary.data[i])) {
    throw new Error('V2 JSON and binary answers for mlp_heavy differ');
  }
  return { probs: Array.from(json.data.subarray(0, 10)) };
}

/** The load matrix in the order each round runs it. */
function cellSpecs(): CellSpec[] {
  const specs: CellSpec[] = [];
  for (const connections of [1, 32, 64]) {
    specs.push({ key: `floor c=${connections}`, scenario: 'floor', connections });
    specs.push({ key: `served iris_logreg c=${connections}`, scenario: 'served', model: 'iris_logreg', connections });
    if (connections >= 32) specs.push({ key: `served ${UNBATCHED} c=${connections}`, scenario: 'served', model: UNBATCHED, connections });
    if (connections <= 32) specs.push({ key: `served mlp_heavy c=${connections}`, scenario: 'served', model: 'mlp_heavy', connections });
  }
  for (const batch of [1, V2_BATCH]) {
    for (const binary of [false, true]) {
      const key = `v2 ${binary ? 'binary' : 'json'} mlp_heavy b=${batch} c=${V2_CONNECTIONS}`;
      specs.push({ key, scenario: 'served', model: 'mlp_heavy', connections: V2_CONNECTIONS, v2: { binary, batch } });
    }
    for (const raw of [false, true]) {
      const key = `grpc ${raw ? 'raw' : 'typed'} mlp_heavy b=${batch} c=${V2_CONNECTIONS}`;
      specs.push({ key, scenario: 'served', model: 'mlp_heavy', connections: V2_CONNECTIONS, grpc: { raw, batch } });
    }
  }
  return specs;
}

function buildRows(cells: readonly CellRecord[], inProcess: Record<ModelName, InProcessResult>, batchCeiling: InProcessResult): Row[] {
  const floorAt = (connections: number) => cells.find((cell) => cell.scenario === 'floor' && cell.connections === connections);
  const rows: Row[] = [];
  for (const cell of cells.filter((candidate) => candidate.scenario === 'floor')) {
    rows.push({
      scenario: 'floor: bare node:http, fixed JSON',
      concurrency: String(cell.connections),
      requestsPerSecond: cell.result.requestsPerSecond,
      p50Ms: cell.result.p50Ms,
      p99Ms: cell.result.p99Ms,
      problems: cell.result.problems,
    });
  }
  for (const model of MODELS) {
    const ceiling = inProcess[model];
    rows.push({
      scenario: `in-process session.run ${model} (batch 1)`,
      concurrency: '1 (loop)',
      requestsPerSecond: ceiling.runsPerSecond,
      p50Ms: ceiling.medianUs / 1000,
      p99Ms: ceiling.p99Us / 1000,
    });
    const served = cells.filter(
      (candidate) => candidate.scenario === 'served' && !candidate.v2 && !candidate.grpc && (candidate.model === model || (model === 'iris_logreg' && candidate.model === UNBATCHED)),
    );
    for (const cell of served) {
      const base = floorAt(cell.connections);
      rows.push({
        scenario: cell.model === UNBATCHED ? `served REST ${model}, batching off` : `served REST ${model}`,
        concurrency: String(cell.connections),
        requestsPerSecond: cell.result.requestsPerSecond,
        p50Ms: cell.result.p50Ms,
        p99Ms: cell.result.p99Ms,
        ...(base ? { vsFloor: cell.result.requestsPerSecond / base.result.requestsPerSecond } : {}),
        servedVsInProcess: cell.result.requestsPerSecond / ceiling.runsPerSecond,
        problems: cell.result.problems,
      });
    }
  }
  rows.push({
    scenario: `in-process session.run mlp_heavy (batch ${V2_BATCH})`,
    concurrency: '1 (loop)',
    requestsPerSecond: batchCeiling.runsPerSecond,
    rowsPerSecond: batchCeiling.runsPerSecond * V2_BATCH,
    p50Ms: batchCeiling.medianUs / 1000,
    p99Ms: batchCeiling.p99Us / 1000,
  });
  for (const cell of cells.filter((candidate) => candidate.v2 ?? candidate.grpc)) {
    const batch = (cell.v2 ?? cell.grpc)?.batch ?? 1;
    const ceilingRows = batch === 1 ? inProcess.mlp_heavy.runsPerSecond : batchCeiling.runsPerSecond * V2_BATCH;
    const rowsPerSecond = cell.result.requestsPerSecond * batch;
    const form = cell.v2 ? `V2 ${cell.v2.binary ? 'binary' : 'JSON'}` : `gRPC ${cell.grpc?.raw ? 'raw' : 'typed'}`;
    rows.push({
      scenario: `${form} mlp_heavy, batch ${batch}`,
      concurrency: String(cell.connections),
      requestsPerSecond: cell.result.requestsPerSecond,
      rowsPerSecond,
      p50Ms: cell.result.p50Ms,
      p99Ms: cell.result.p99Ms,
      servedVsInProcess: rowsPerSecond / ceilingRows,
      problems: cell.result.problems,
    });
  }
  return rows;
}

async function main(): Promise<number> {
  const settings = readSettings(process.env);
  const cellSeconds = settings.warmupS + settings.durationS;
  const specs = cellSpecs();
  // The run must end by itself: a generous bound over what it needs, then everything is killed.
  const roundSeconds = specs.length * cellSeconds + MODELS.length * (settings.sessionSeconds + 5);
  const watchdogMs = (120 + 2 * settings.rounds * roundSeconds) * 1000;
  const watchdog = startWatchdog(watchdogMs);

  const started = new Date();
  const host = machine();
  const loadAtStart = os.loadavg()[0] ?? 0;
  log(`${host.cpu}, ${host.cores} cores, Node ${host.node}, onnxruntime-node ${host.onnxruntimeNode}`);
  log(`${settings.rounds} round(s); cells: ${settings.warmupS} s warm-up + ${settings.durationS} s measured${settings.quick ? ' (quick)' : ''}`);

  const irisBody = '{"input":[5.1,3.5,1.4,0.2]}';
  const mlpRow = mlpHeavyRow();
  const mlpBody = JSON.stringify({ x: mlpRow });
  const bodies: Record<ServedName, string> = { iris_logreg: irisBody, mlp_heavy: mlpBody, [UNBATCHED]: irisBody };

  // The floor server and longshore (default config, both models) run side by side; each idles while the other is loaded.
  const floor = new Child('floor-server', ['--import', 'tsx', 'bench/floor-server.ts'], ROOT);
  // The service's log (one access line per request) goes to /dev/null (logging.destination in its YAML): reading it
  // here would take CPU from the load generator. So the URL is ours to choose, not read from the log.
  const serverPort = await freePort();
  const serverUrl = `http://127.0.0.1:${serverPort}`;
  const grpcAddress = `127.0.0.1:${await freePort()}`;
  const server = new Child('longshore', [
    'bin/longshore.js',
    'serve',
    '--config',
    'bench/longshore.bench.yaml',
    '--host',
    '127.0.0.1',
    '--port',
    String(serverPort),
    '--log-level',
    'info',
  ], ROOT, { LONGSHORE_SERVER__GRPC_PORT: grpcAddress.split(':')[1] as string });
  const ownPids = () => [process.pid, floor.process.pid, server.process.pid].filter((pid): pid is number => pid !== undefined);

  const sessionRounds: Record<ModelName, SessionRound[]> = { iris_logreg: [], mlp_heavy: [] };
  const batchRounds: SessionRound[] = [];
  const v2Bodies = new Map(specs.filter((spec) => spec.v2).map((spec) => [spec.key, v2Body(mlpRow, spec.v2?.batch ?? 1, spec.v2?.binary ?? false)]));
  const codec = await inferCodec();
  const grpcRequests = new Map(specs.filter((spec) => spec.grpc).map((spec) => [spec.key, codec.encode(grpcInferBody(mlpRow, spec.grpc?.batch ?? 1, spec.grpc?.raw ?? false))]));
  const cellRounds = new Map<string, { rounds: CellRound[]; latencies: Samples; otherCores: number[]; stealCores: number[] }>();
  for (const spec of specs) cellRounds.set(spec.key, { rounds: [], latencies: new Samples(), otherCores: [], stealCores: [] });
  const sampleResponses: Record<string, unknown> = {};
  try {
    const floorUrl = await floor.waitForUrl(CHILD_START_TIMEOUT_MS);
    await waitForReady(serverUrl, READY_TIMEOUT_MS);
    const targets: Record<string, string> = {
      floor: floorUrl,
      iris_logreg: `${serverUrl}/api/models/iris_logreg/prediction`,
      mlp_heavy: `${serverUrl}/api/models/mlp_heavy/prediction`,
      [UNBATCHED]: `${serverUrl}/api/models/${UNBATCHED}/prediction`,
    };
    sampleResponses.floor = await checkPrediction(floorUrl, irisBody);
    for (const model of [...MODELS, UNBATCHED] as const) sampleResponses[model] = await checkPrediction(targets[model] as string, bodies[model]);
    sampleResponses.v2 = await checkV2(serverUrl, mlpRow);
    await checkGrpc(grpcAddress, grpcRequests, (sampleResponses.v2 as { probs: number[] }).probs);

    for (let round = 1; round <= settings.rounds; round++) {
      log(`round ${round}/${settings.rounds}`);
      for (const model of MODELS) {
        const result = await sessionRound(model, settings);
        sessionRounds[model].push(result);
        log(`  in-process ${model}: ${Math.round(result.runsPerSecond)} runs/s, median ${result.medianUs.toFixed(1)} µs`);
      }
      const batchRound = await sessionRound('mlp_heavy', settings, V2_BATCH);
      batchRounds.push(batchRound);
      log(`  in-process mlp_heavy batch ${V2_BATCH}: ${Math.round(batchRound.runsPerSecond * V2_BATCH)} rows/s, median ${batchRound.medianUs.toFixed(1)} µs`);
      for (const spec of specs) {
        const record = cellRounds.get(spec.key);
        if (!record) throw new Error(`no record for ${spec.key}`);
        const v2 = v2Bodies.get(spec.key);
        const url = v2 ? `${serverUrl}/v2/models/mlp_heavy/infer` : (targets[spec.model ?? 'floor'] as string);
        const body = v2 ? v2.body : spec.model ? bodies[spec.model] : irisBody;
        const stopMeter = startForeignCpu(ownPids);
        const timing = { connections: spec.connections, warmupS: settings.warmupS, durationS: settings.durationS };
        const grpcRequest = grpcRequests.get(spec.key);
        const result = grpcRequest
          ? await measureGrpcRound({ address: grpcAddress, request: grpcRequest, ...timing }, record.latencies)
          : await measureRound({ url, body, ...(v2 ? { headers: v2.headers } : {}), ...timing }, record.latencies);
        const foreign = stopMeter();
        record.rounds.push(result);
        if (foreign) {
          record.otherCores.push(foreign.otherCores);
          record.stealCores.push(foreign.stealCores);
        }
        const noise = foreign ? `, other processes ${foreign.otherCores.toFixed(2)} cores` : '';
        log(`  ${spec.key}: ${Math.round(result.requestsPerSecond)} req/s, p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms${noise}`);
        for (const problem of roundProblems(result)) log(`  PROBLEM: ${problem}`);
      }
    }
  } finally {
    await Promise.all([floor.stop(), server.stop()]);
  }

  const inProcess = Object.fromEntries(
    MODELS.map((model) => {
      const rounds = sessionRounds[model];
      const result: InProcessResult = {
        model,
        runsPerSecond: median(rounds.map((round) => round.runsPerSecond)),
        medianUs: median(rounds.map((round) => round.medianUs)),
        p99Us: median(rounds.map((round) => round.p99Us)),
        rounds,
      };
      return [model, result];
    }),
  ) as Record<ModelName, InProcessResult>;
  const cells: CellRecord[] = specs.map((spec) => {
    const record = cellRounds.get(spec.key);
    if (!record) throw new Error(`no record for ${spec.key}`);
    return {
      ...spec,
      result: combineRounds(spec.connections, record.rounds, record.latencies),
      ...(record.otherCores.length > 0 ? { maxOtherCores: Math.max(...record.otherCores), maxStealCores: Math.max(...record.stealCores) } : {}),
    };
  });

  const batchCeiling: InProcessResult = {
    model: 'mlp_heavy',
    runsPerSecond: median(batchRounds.map((round) => round.runsPerSecond)),
    medianUs: median(batchRounds.map((round) => round.medianUs)),
    p99Us: median(batchRounds.map((round) => round.p99Us)),
    rounds: batchRounds,
  };
  const rows = buildRows(cells, inProcess, batchCeiling);
  const table = renderTable(rows);
  const maxOther = Math.max(0, ...cells.map((cell) => cell.maxOtherCores ?? 0));
  const maxSteal = Math.max(0, ...cells.map((cell) => cell.maxStealCores ?? 0));
  const widest = cells.reduce((a, b) => (b.result.spread > a.result.spread ? b : a));
  const header = [
    machineLine(host),
    `Date: ${started.toISOString()}`,
    `Method: ${settings.rounds} round(s), cells interleaved; each cell ${settings.warmupS} s warm-up (discarded) + ` +
      `${settings.durationS} s measured, keep-alive, pipelining 1; req/s is the median over rounds, latencies are over all ` +
      `rounds' responses; in-process: ${settings.sessionSeconds} s or ${settings.sessionIterations} runs after 300 warm-up runs, per round`,
    `Noise: 1-minute load average ${loadAtStart.toFixed(2)} before the run; other processes used at most ` +
      `${maxOther.toFixed(2)} cores (steal ${maxSteal.toFixed(2)}) during a cell; widest req/s spread across rounds ` +
      `${Math.round(widest.result.spread * 100)}% (${widest.key})`,
  ];
  const problems = cells.flatMap((cell) => cell.result.problems.map((problem) => `${cell.key}: ${problem}`));
  const warnings: string[] = [];
  if (maxOther > NOISY_OTHER_CORES) warnings.push(`other processes used up to ${maxOther.toFixed(2)} cores during a cell: this run is noisy`);
  const report = [
    ...header,
    '',
    table,
    ...(problems.length > 0 ? ['', 'Problems:', ...problems.map((line) => `- ${line}`)] : []),
    ...(warnings.length > 0 ? ['', ...warnings.map((line) => `Warning: ${line}`)] : []),
  ].join('\n');
  process.stdout.write(`${report}\n`);

  writeResults(join(ROOT, 'bench', 'results', 'latest.json'), {
    date: started.toISOString(),
    machine: host,
    settings,
    loadAverageAtStart: loadAtStart,
    inProcess,
    inProcessBatch: batchCeiling,
    cells,
    rows,
    sampleResponses,
    problems,
    warnings,
    table,
  });
  clearTimeout(watchdog);
  return problems.length;
}

runBench(main);
