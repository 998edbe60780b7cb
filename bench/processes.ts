/**
 * `--processes`: how served throughput scales with server processes sharing the port (the second part of
 * `npm run bench`, or alone as `npm run bench:processes`).
 *
 * Method, so a bigger machine can repeat it: the load generator (autocannon, in this process) is pinned to core 0 with
 * `taskset` after the servers are started, so it never moves onto the cores it measures; longshore runs with every core
 * allowed, started as `longshore serve --config bench/longshore.bench.yaml --processes P` for each P, one after the
 * other. Cells are REST iris_logreg (eager batching, the default) and mlp_heavy at c=64 keep-alive connections, which
 * node:cluster deals out to the workers in turn. Rounds alternate between the process counts, so drift on a shared
 * machine hits them alike; req/s is the median over rounds. On N cores, run BENCH_PROCESSES=1,2,4,...,N-1 and leave
 * core 0 to the load generator.
 *
 * Settings: BENCH_PROCESSES (default "1,2"), BENCH_DURATION_S (default 5), BENCH_ROUNDS (default 3),
 * BENCH_QUICK=1 (1 round of 1 s cells).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { Child } from './children.ts';
import { freePort, log, machine, positiveInteger, ROOT, runBench, startWatchdog, waitForReady } from './environment.ts';
import { combineRounds, measureRound, roundProblems, type CellRound } from './load.ts';
import { Samples } from './stats.ts';
import { formatMs, formatRate } from './table.ts';
import { mlpHeavyRow } from './v2-bodies.ts';

const CONNECTIONS = 64;
const READY_TIMEOUT_MS = 60_000;

interface Cell {
  readonly processes: number;
  readonly model: 'iris_logreg' | 'mlp_heavy';
  readonly rounds: CellRound[];
  readonly latencies: Samples;
}

function processCounts(env: NodeJS.ProcessEnv): number[] {
  const counts = (env['BENCH_PROCESSES'] ?? '1,2').split(',').map((text) => Number(text.trim()));
  if (counts.some((count) => !Number.isInteger(count) || count < 1 || count > 256)) throw new Error(`BENCH_PROCESSES must list whole numbers, got '${env['BENCH_PROCESSES']}'`);
  return counts;
}

/** Pins this process (the load generator) to `cores` ("0", or "0-1" to release it). */
function pinSelf(cores: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
}

async function startServer(processes: number): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const args = ['bin/longshore.js', 'serve', '--config', 'bench/longshore.bench.yaml', '--host', '127.0.0.1', '--port', String(port), '--processes', String(processes)];
  const child = new Child(`longshore --processes ${processes}`, args, ROOT);
  const url = `http://127.0.0.1:${port}`;
  await waitForReady(url, READY_TIMEOUT_MS);
  return { child, url };
}

async function main(): Promise<number> {
  const quick = process.env['BENCH_QUICK'] === '1';
  const durationS = quick ? 1 : positiveInteger(process.env, 'BENCH_DURATION_S', 5, 600);
  const roundsWanted = quick ? 1 : positiveInteger(process.env, 'BENCH_ROUNDS', 3, 50);
  const warmupS = 1;
  const counts = processCounts(process.env);
  const models = ['iris_logreg', 'mlp_heavy'] as const;
  const watchdog = startWatchdog((120 + roundsWanted * counts.length * (models.length * (warmupS + durationS) + 30)) * 1000);
  const allCores = `0-${os.cpus().length - 1}`;
  const started = new Date();

  const bodies = { iris_logreg: '{"input":[5.1,3.5,1.4,0.2]}', mlp_heavy: JSON.stringify({ x: mlpHeavyRow() }) };
  const cells: Cell[] = counts.flatMap((processes) => models.map((model) => ({ processes, model, rounds: [], latencies: new Samples() })));

  for (let round = 1; round <= roundsWanted; round++) {
    for (const processes of counts) {
      log(`round ${round}/${roundsWanted}: --processes ${processes}`);
      const server = await startServer(processes);
      try {
        pinSelf('0');
        for (const cell of cells.filter((candidate) => candidate.processes === processes)) {
          const url = `${server.url}/api/models/${cell.model}/prediction`;
          const result = await measureRound({ url, body: bodies[cell.model], connections: CONNECTIONS, warmupS, durationS }, cell.latencies);
          cell.rounds.push(result);
          log(`  ${cell.model}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms.toFixed(2)} ms`);
          for (const problem of roundProblems(result)) log(`  PROBLEM: ${problem}`);
        }
      } finally {
        pinSelf(allCores);
        await server.child.stop(20_000);
      }
    }
  }
  clearTimeout(watchdog);

  const host = machine();
  const lines = [
    `Processes: ${host.cpu}, ${host.cores} cores, Node ${host.node}; ${started.toISOString()}; load generator pinned to core 0; ` +
      `${roundsWanted} round(s) of ${warmupS} s warm-up + ${durationS} s at c=${CONNECTIONS}`,
    '',
    '| Scenario | --processes | req/s | p50 ms | p99 ms | vs --processes 1 |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  let problems = 0;
  for (const cell of cells) {
    const result = combineRounds(CONNECTIONS, cell.rounds, cell.latencies);
    problems += result.problems.length;
    const single = cells.find((candidate) => candidate.model === cell.model && candidate.processes === 1);
    const base = single ? combineRounds(CONNECTIONS, single.rounds, single.latencies).requestsPerSecond : Number.NaN;
    const ratio = Number.isFinite(base) ? `${(result.requestsPerSecond / base).toFixed(2)}×` : '—';
    lines.push(`| served REST ${cell.model} | ${cell.processes} | ${formatRate(result.requestsPerSecond)} | ${formatMs(result.p50Ms)} | ${formatMs(result.p99Ms)} | ${ratio} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return problems;
}

runBench(main);
