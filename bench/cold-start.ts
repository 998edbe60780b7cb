/**
 * Cold start: from spawning `longshore serve` to the first 200 of `/api/health/ready` (every model loaded), polled every
 * 10 ms (a 100 ms poll added up to 100 ms to a 0.4 s start), for issue 19's scenario (the packaged command,
 * `serve --model iris=iris_logreg.onnx`) and for the
 * packaged command (`dist/bin.js`, plain JavaScript, what `npx longshore` runs) and the development command
 * (`bin/longshore.js`, the sources through tsx), with ONNX files only and with the example config (TypeScript models,
 * decorators and graphs, so the packaged command registers tsx). A bare `node -e 0` is the floor of starting Node.
 *
 *   npm run bench:cold-start            (builds dist/ first)
 *   COLD_START_RUNS=9 npm run bench:cold-start
 *   COLD_START_BASELINE=dist-before npm run bench:cold-start   (also times another build's bin.js, e.g. a copy of an
 *                                                                 older dist/ kept inside the repository, for before/after)
 *
 * Runs are sequential and alternate between scenarios, so a slow moment of the machine spreads over all of them.
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Child } from './children.ts';
import { freePort, log, machine, positiveInteger, ROOT, runBench, startWatchdog, waitForReady } from './environment.ts';
import { median } from './stats.ts';
import { formatMs } from './table.ts';

interface Scenario {
  readonly name: string;
  /** Arguments to node; `serve` scenarios get `--port` and `--host` added. */
  readonly args: readonly string[];
  readonly serve: boolean;
}

const POLL_MS = 10;
const IRIS = ['--model', 'iris=examples/onnx/iris_logreg.onnx'];
const ONNX_ONLY = ['--model', 'iris=examples/onnx/iris_logreg.onnx', '--model', 'topic=examples/onnx/text_clf.onnx'];
const EXAMPLES = ['--config', 'examples/longshore.yaml'];
const BASELINE = process.env.COLD_START_BASELINE;
const SCENARIOS: readonly Scenario[] = [
  { name: 'node -e 0 (floor: starting Node)', args: ['-e', '0'], serve: false },
  { name: 'packaged (dist/bin.js), iris_logreg.onnx (issue 19)', args: ['dist/bin.js', 'serve', ...IRIS], serve: true },
  // The baseline runs the scenario only: an older build may not read today's example config.
  ...(BASELINE === undefined
    ? []
    : [
        { name: `baseline (${BASELINE}/bin.js), iris_logreg.onnx`, args: [`${BASELINE}/bin.js`, 'serve', ...IRIS], serve: true },
      ]),
  { name: 'packaged (dist/bin.js), 2 ONNX files', args: ['dist/bin.js', 'serve', ...ONNX_ONLY], serve: true },
  { name: 'sources (bin/longshore.js, tsx), 2 ONNX files', args: ['bin/longshore.js', 'serve', ...ONNX_ONLY], serve: true },
  { name: 'packaged (dist/bin.js), examples/longshore.yaml', args: ['dist/bin.js', 'serve', ...EXAMPLES], serve: true },
  { name: 'sources (bin/longshore.js, tsx), examples/longshore.yaml', args: ['bin/longshore.js', 'serve', ...EXAMPLES], serve: true },
];

async function once(scenario: Scenario): Promise<number> {
  const started = performance.now();
  if (!scenario.serve) {
    const child = new Child(scenario.name, scenario.args, ROOT);
    await child.finished(30_000);
    return performance.now() - started;
  }
  const port = await freePort();
  const child = new Child(scenario.name, [...scenario.args, '--port', String(port), '--host', '127.0.0.1'], ROOT);
  try {
    await waitForReady(`http://127.0.0.1:${port}`, 30_000, POLL_MS);
    return performance.now() - started;
  } finally {
    await child.stop();
  }
}

async function main(): Promise<number> {
  if (!existsSync(join(ROOT, 'dist/bin.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm run bench:cold-start does)');
  if (BASELINE !== undefined && !existsSync(join(ROOT, BASELINE, 'bin.js'))) throw new Error(`COLD_START_BASELINE: no ${BASELINE}/bin.js in ${ROOT}`);
  const runs = positiveInteger(process.env, 'COLD_START_RUNS', 7, 50);
  const watchdog = startWatchdog(runs * SCENARIOS.length * 40_000);
  const loadBefore = loadavg()[0] ?? 0;
  const times = new Map<Scenario, number[]>(SCENARIOS.map((scenario) => [scenario, []]));
  for (let run = 1; run <= runs; run += 1) {
    for (const scenario of SCENARIOS) times.get(scenario)?.push(await once(scenario));
    log(`run ${run}/${runs} done`);
  }
  clearTimeout(watchdog);

  const info = machine();
  process.stdout.write(`Cold start to ready (polled every ${POLL_MS} ms), ${runs} runs each (${new Date().toISOString()}; ${info.cpu}, ${info.cores} cores, Node ${info.node}; 1-minute load average ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after)\n\n`);
  process.stdout.write('| Scenario | median ms | min ms | max ms |\n| --- | ---: | ---: | ---: |\n');
  for (const [scenario, values] of times) {
    process.stdout.write(`| ${scenario.name} | ${formatMs(median(values))} | ${formatMs(Math.min(...values))} | ${formatMs(Math.max(...values))} |\n`);
  }
  return 0;
}

runBench(main);
