/**
 * Goodput under overload (`npm run bench:overload`): what refusing on arrival (src/http/admission.ts) is worth. Two
 * longshore processes serve bench/overload.bench.yaml (mlp_heavy with `max_queue_size: 64`, eager batching, and
 * iris_logreg with the defaults):
 *   - `early`: as shipped: a request for a model whose queue is full is refused 503 before its body is read;
 *   - `late`:  started with BENCH_EARLY_REFUSAL=off, an internal switch only this benchmark uses: the same request is
 *              refused by the batcher, after its body was parsed, validated and turned into tensors (the old behaviour).
 * Only one of them is loaded at a time (the other sits idle). Cells:
 *   - mlp_heavy REST JSON (`POST /api/models/mlp_heavy/prediction`, `{"x":[512 floats]}`) and V2 binary
 *     (`POST /v2/models/mlp_heavy/infer`, FP32 [1, 512], binary output) at concurrency 64 (about as many clients as
 *     the queue holds: little or no shedding) and 256 (overload: most requests refused);
 *   - iris_logreg REST JSON at concurrency 64, whose queue never fills: the check's cost on the hot path.
 * Each cell is a discarded 1 s warm-up then a measured autocannon run (bench/load.ts); rounds interleave the cells,
 * `early` and `late` back to back in alternating order. Goodput = 2xx responses per measured second; 503/s likewise;
 * p50/p99 over the 2xx responses of every round. Every non-2xx must be a 503 (anything else, or a connection error,
 * is listed under "Problems:" and makes the exit code 1).
 *
 * Settings (environment):
 *   BENCH_DURATION_S  measured seconds per cell (default 3, quick 1), whole seconds
 *   BENCH_ROUNDS      rounds (default 3, quick 1)
 *   BENCH_QUICK=1     smoke run: one round of 1 s cells
 *   BENCH_JSON=FILE   also write every number to FILE as JSON
 */
import os from 'node:os';
import { resolve } from 'node:path';
import { EARLY_REFUSAL_SWITCH } from '../src/http/admission.ts';
import { Child } from './children.ts';
import { freePort, log, machine, machineLine, positiveInteger, ROOT, runBench, startWatchdog, waitForReady, writeResults } from './environment.ts';
import { startForeignCpu } from './foreign-cpu.ts';
import { measureRound, type CellRound } from './load.ts';
import { median, percentile, Samples } from './stats.ts';
import { formatMs, formatRate, markdownTable } from './table.ts';
import { mlpHeavyRow, v2Body } from './v2-bodies.ts';

const CONFIG_FILE = 'bench/overload.bench.yaml';
const READY_TIMEOUT_MS = 60_000;

const MODES = ['early', 'late'] as const;
type Mode = (typeof MODES)[number];
const MODE_LABEL: Record<Mode, string> = { early: 'on arrival', late: 'after decoding' };

interface Scenario {
  readonly key: string;
  readonly label: string;
  readonly path: string;
  readonly body: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly concurrencies: readonly number[];
}

interface Settings {
  readonly quick: boolean;
  readonly warmupS: number;
  readonly durationS: number;
  readonly rounds: number;
}

interface Measured {
  readonly round: CellRound;
  readonly okPerSecond: number;
  readonly refusedPerSecond: number;
  readonly otherCores?: number;
}

interface Cell {
  readonly scenario: Scenario;
  readonly connections: number;
  readonly mode: Mode;
  readonly rounds: Measured[];
  readonly latencies: Samples;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const quick = env.BENCH_QUICK === '1';
  return {
    quick,
    warmupS: 1,
    durationS: positiveInteger(env, 'BENCH_DURATION_S', quick ? 1 : 3, 600),
    rounds: positiveInteger(env, 'BENCH_ROUNDS', quick ? 1 : 3, 20),
  };
}

function scenarios(): Scenario[] {
  const row = mlpHeavyRow();
  const v2 = v2Body(row, 1, true);
  return [
    { key: 'mlp-rest', label: 'mlp_heavy REST JSON', path: '/api/models/mlp_heavy/prediction', body: JSON.stringify({ x: row }), concurrencies: [64, 256] },
    { key: 'mlp-v2', label: 'mlp_heavy V2 binary', path: '/v2/models/mlp_heavy/infer', body: v2.body, headers: v2.headers, concurrencies: [64, 256] },
    { key: 'iris', label: 'iris_logreg REST JSON', path: '/api/models/iris_logreg/prediction', body: JSON.stringify({ input: [5.1, 3.5, 1.4, 0.2] }), concurrencies: [64] },
  ];
}

/** Both servers answer every scenario's body 200, with the same bytes (the REST answers, the V2 binary tails). */
async function checkAnswers(urls: Record<Mode, string>, all: readonly Scenario[]): Promise<void> {
  for (const scenario of all) {
    const answers: Buffer[] = [];
    for (const mode of MODES) {
      const body = typeof scenario.body === 'string' ? scenario.body : new Uint8Array(scenario.body);
      const response = await fetch(`${urls[mode]}${scenario.path}`, { method: 'POST', headers: scenario.headers ?? { 'content-type': 'application/json' }, body });
      const bytes = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200) throw new Error(`${mode} ${scenario.label} answered ${response.status}: ${bytes.toString('utf8').slice(0, 300)}`);
      answers.push(bytes);
    }
    if (!(answers[0] as Buffer).equals(answers[1] as Buffer)) throw new Error(`${scenario.label}: the two servers answered differently`);
  }
}

/** Non-2xx answers other than 503, connection errors and timeouts: anything but serving or shedding. */
function problemsOf(round: CellRound): string[] {
  const problems: string[] = [];
  const unexpected = Object.entries(round.statusCodes).filter(([code]) => !code.startsWith('2') && code !== '503');
  if (unexpected.length > 0) problems.push(`unexpected statuses ${JSON.stringify(Object.fromEntries(unexpected))}`);
  if (round.errors > 0) problems.push(`${round.errors} connection errors (${round.timeouts} timeouts)`);
  if (round.totalRequests === 0) problems.push('no requests completed');
  return problems;
}

const goodput = (cell: Cell) => median(cell.rounds.map((round) => round.okPerSecond));
const shed = (cell: Cell) => median(cell.rounds.map((round) => round.refusedPerSecond));

function render(cells: readonly Cell[]): string {
  const header = ['Scenario', 'Concurrency', 'Refused', '2xx/s (goodput)', '503/s', 'p50 ms (2xx)', 'p99 ms (2xx)', 'goodput on arrival / after decoding'];
  const lines = cells.map((cell) => {
    const other = cells.find((candidate) => candidate.scenario === cell.scenario && candidate.connections === cell.connections && candidate.mode !== cell.mode) as Cell;
    const ratio = cell.mode === 'early' ? goodput(cell) / goodput(other) : undefined;
    const problems = cell.rounds.some((round) => problemsOf(round.round).length > 0);
    return [
      problems ? `${cell.scenario.label} ⚠` : cell.scenario.label,
      String(cell.connections),
      MODE_LABEL[cell.mode],
      formatRate(goodput(cell)),
      formatRate(shed(cell)),
      formatMs(percentile(cell.latencies.values(), 0.5)),
      formatMs(percentile(cell.latencies.values(), 0.99)),
      ratio === undefined || !Number.isFinite(ratio) ? '' : `${ratio.toFixed(2)}×`,
    ];
  });
  return markdownTable(header, lines, new Set([0, 2]));
}

async function main(): Promise<number> {
  const settings = readSettings(process.env);
  const all = scenarios();
  const cells: Cell[] = all.flatMap((scenario) =>
    scenario.concurrencies.flatMap((connections) => MODES.map((mode) => ({ scenario, connections, mode, rounds: [], latencies: new Samples() }))),
  );
  const expectedS = settings.rounds * cells.length * (settings.warmupS + settings.durationS) + 20;
  const watchdog = startWatchdog(Math.round((120 + 2 * expectedS) * 1000));
  const started = new Date();
  const host = machine();
  const loadAtStart = os.loadavg()[0] ?? 0;
  log(`${host.cpu}, ${host.cores} cores, Node ${host.node}; ${settings.rounds} round(s) × ${cells.length} cells of ${settings.warmupS} s + ${settings.durationS} s; expect about ${Math.round(expectedS)} s`);

  // Two servers, one per mode; the switch goes to the `late` one's environment only.
  const ports: Record<Mode, number> = { early: await freePort(), late: await freePort() };
  const urls: Record<Mode, string> = { early: `http://127.0.0.1:${ports.early}`, late: `http://127.0.0.1:${ports.late}` };
  const start = (mode: Mode) => new Child(`longshore (${mode})`, ['bin/longshore.js', 'serve', '--config', CONFIG_FILE, '--host', '127.0.0.1', '--port', String(ports[mode])], ROOT);
  const servers: Partial<Record<Mode, Child>> = {};
  const problems: string[] = [];
  try {
    servers.early = start('early');
    process.env[EARLY_REFUSAL_SWITCH] = 'off';
    try {
      servers.late = start('late');
    } finally {
      delete process.env[EARLY_REFUSAL_SWITCH];
    }
    await Promise.all(MODES.map((mode) => waitForReady(urls[mode], READY_TIMEOUT_MS)));
    await checkAnswers(urls, all);
    const ownPids = () => [process.pid, servers.early?.process.pid, servers.late?.process.pid].filter((pid): pid is number => pid !== undefined);
    let group = 0;
    for (let round = 1; round <= settings.rounds; round++) {
      for (const scenario of all) {
        for (const connections of scenario.concurrencies) {
          const order = group++ % 2 === 0 ? MODES : [...MODES].reverse();
          for (const mode of order) {
            const cell = cells.find((candidate) => candidate.scenario === scenario && candidate.connections === connections && candidate.mode === mode) as Cell;
            const meter = startForeignCpu(ownPids);
            const measured = await measureRound(
              { url: `${urls[mode]}${scenario.path}`, body: scenario.body, ...(scenario.headers ? { headers: scenario.headers } : {}), connections, warmupS: settings.warmupS, durationS: settings.durationS },
              cell.latencies,
            );
            const foreign = meter();
            const ok = measured.totalRequests - measured.non2xx;
            const refused = measured.statusCodes['503'] ?? 0;
            cell.rounds.push({
              round: measured,
              okPerSecond: ok / measured.durationS,
              refusedPerSecond: refused / measured.durationS,
              ...(foreign ? { otherCores: foreign.otherCores } : {}),
            });
            log(`round ${round} ${scenario.label} c=${connections} ${mode}: ${Math.round(ok / measured.durationS)} 2xx/s, ${Math.round(refused / measured.durationS)} 503/s`);
            for (const problem of problemsOf(measured)) problems.push(`round ${round} ${scenario.label} c=${connections} ${mode}: ${problem}`);
          }
        }
      }
    }
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }

  const otherCores = Math.max(0, ...cells.flatMap((cell) => cell.rounds.map((round) => round.otherCores ?? 0)));
  const lasted = cells.flatMap((cell) => cell.rounds.map((round) => round.round.durationS));
  const report = [
    machineLine(host),
    `Date: ${started.toISOString()}`,
    `Method: ${CONFIG_FILE} served by two longshore processes, refusing on arrival (the default) and after decoding ` +
      `(${EARLY_REFUSAL_SWITCH}=off), loaded one at a time; ${settings.rounds} round(s), cells interleaved, each ${settings.warmupS} s warm-up ` +
      `(discarded) + ${settings.durationS} s measured (runs lasted ${Math.min(...lasted).toFixed(2)}–${Math.max(...lasted).toFixed(2)} s), ` +
      'keep-alive, pipelining 1, one row per request; 2xx/s and 503/s are medians over rounds, latencies over every round\'s 2xx responses',
    `Noise: 1-minute load average ${loadAtStart.toFixed(2)} before the run; other processes used at most ${otherCores.toFixed(2)} cores during a cell`,
    '',
    render(cells),
    '',
    ...(problems.length > 0 ? ['Problems:', ...problems.map((line) => `- ${line}`)] : ['Every response was 2xx or 503 QueueFullError; no connection errors.']),
  ].join('\n');
  process.stdout.write(`${report}\n`);

  const jsonPath = process.env.BENCH_JSON;
  if (jsonPath) {
    writeResults(resolve(jsonPath), {
      date: started.toISOString(),
      machine: host,
      settings,
      loadAverageAtStart: loadAtStart,
      cells: cells.map((cell) => ({ scenario: cell.scenario.key, connections: cell.connections, mode: cell.mode, goodput: goodput(cell), shed: shed(cell), rounds: cell.rounds })),
      problems,
    });
  }
  clearTimeout(watchdog);
  return problems.length;
}

runBench(main);
