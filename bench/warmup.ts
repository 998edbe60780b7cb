/**
 * Warmup (docs/self-tests.md#warmup): the latency of the first prediction after `/api/health/ready` answers 200, against
 * the tenth, with `warmup: 0` and with the default (1), in fresh server processes. Models: iris_logreg.onnx with an
 * example, the same without examples (the generated warmup of zeros), and a Hugging Face model
 * (test/fixtures/hf/tiny-bert-sentiment) with an example.
 *
 *   npm run bench:warmup                 (builds dist/ first)
 *   WARMUP_RUNS=9 npm run bench:warmup
 *
 * Each run spawns `dist/bin.js serve` (the packaged command, what `npx longshore` runs: the sources through tsx would
 * add tsx compiling each module the first request imports) on a temp config, waits for readiness (its
 * keep-alive connection is then reused, so no request below pays a TCP connect), sends 10 predictions one after
 * another and times each from the client. Runs alternate between scenarios, so a slow moment of the machine spreads
 * over all of them; the table gives medians over runs.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './children.ts';
import { freePort, log, machine, positiveInteger, ROOT, runBench, startWatchdog, waitForReady } from './environment.ts';
import { median } from './stats.ts';
import { formatMs } from './table.ts';

interface Model {
  readonly label: string;
  readonly name: string;
  /** The models entry, without `warmup`. */
  readonly entry: Record<string, unknown>;
  readonly body: unknown;
}

const IRIS = join(ROOT, 'test/fixtures/onnx/iris_logreg.onnx');
const SENTIMENT = join(ROOT, 'test/fixtures/hf/tiny-bert-sentiment');
const MODELS: readonly Model[] = [
  {
    label: 'iris_logreg.onnx, 1 example',
    name: 'iris',
    entry: { model_path: IRIS, qualified_name: 'iris', examples: [{ input: { input: [5.1, 3.5, 1.4, 0.2] }, expected_output: { label: 0 } }] },
    body: { input: [5.9, 3.0, 5.1, 1.8] },
  },
  {
    label: 'iris_logreg.onnx, no examples (generated zeros)',
    name: 'iris',
    entry: { model_path: IRIS, qualified_name: 'iris' },
    body: { input: [5.9, 3.0, 5.1, 1.8] },
  },
  {
    label: 'tiny-bert-sentiment (Hugging Face), 1 example',
    name: 'sentiment',
    entry: { model_path: SENTIMENT, qualified_name: 'sentiment', examples: [{ input: { text: 'I loved this film, it was wonderful.' } }] },
    body: { text: 'The service was slow and the food arrived cold.' },
  },
];
const WARMUPS = [0, 1] as const;
const REQUESTS = 10;

interface Scenario {
  readonly model: Model;
  readonly warmup: number;
  /** Per run: the latency of each of the REQUESTS predictions, ms. */
  readonly runs: number[][];
}

async function once(scenario: Scenario, dir: string): Promise<number[]> {
  const config = join(dir, `warmup-${scenario.warmup}.yaml`);
  const entry = { ...scenario.model.entry, warmup: scenario.warmup };
  writeFileSync(config, JSON.stringify({ logging: { level: 'warn' }, models: [entry] }));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = new Child(scenario.model.label, ['dist/bin.js', 'serve', '--config', config, '--port', String(port), '--host', '127.0.0.1'], ROOT);
  try {
    await waitForReady(url, 60_000);
    const latencies: number[] = [];
    const body = JSON.stringify(scenario.model.body);
    for (let request = 0; request < REQUESTS; request += 1) {
      const started = performance.now();
      const response = await fetch(`${url}/api/models/${scenario.model.name}/prediction`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      await response.arrayBuffer();
      latencies.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`${scenario.model.label}: prediction answered ${response.status}`);
    }
    return latencies;
  } finally {
    await child.stop();
  }
}

/**
 * Warms this process's own client first (fetch's POST path, on a throwaway local server), so the first timed request
 * measures the server's first request, not the client's.
 */
async function warmClient(): Promise<void> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  for (let i = 0; i < 50; i += 1) {
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":1}' });
    await response.arrayBuffer();
  }
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

async function main(): Promise<number> {
  const runs = positiveInteger(process.env, 'WARMUP_RUNS', 5, 50);
  await warmClient();
  const scenarios: Scenario[] = MODELS.flatMap((model) => WARMUPS.map((warmup) => ({ model, warmup, runs: [] })));
  const watchdog = startWatchdog(runs * scenarios.length * 70_000);
  const dir = mkdtempSync(join(tmpdir(), 'longshore-bench-warmup-'));
  try {
    for (let run = 1; run <= runs; run += 1) {
      for (const scenario of scenarios) scenario.runs.push(await once(scenario, dir));
      log(`run ${run}/${runs} done`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }

  const info = machine();
  process.stdout.write(
    `Warmup: first vs tenth prediction after ready, median of ${runs} fresh processes each (${new Date().toISOString()}; ${info.cpu}, ${info.cores} cores, Node ${info.node}, onnxruntime-node ${info.onnxruntimeNode})\n\n`,
  );
  process.stdout.write('| Model | warmup | 1st request ms | 2nd ms | 10th ms | 1st / 10th |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
  for (const { model, warmup, runs: latencies } of scenarios) {
    const nth = (index: number) => median(latencies.map((run) => run[index] as number));
    const first = nth(0);
    const tenth = nth(REQUESTS - 1);
    process.stdout.write(`| ${model.label} | ${warmup} | ${formatMs(first)} | ${formatMs(nth(1))} | ${formatMs(tenth)} | ${(first / tenth).toFixed(1)}× |\n`);
  }
  return 0;
}

runBench(main);
