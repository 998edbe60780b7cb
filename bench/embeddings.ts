/**
 * Hugging Face embeddings served (the third part of `npm run bench`, or alone as `npm run bench:embeddings`): the
 * embedding model of the tests (test/fixtures/hf/tiny-bert-embeddings, the transformers runtime, feature-extraction
 * with mean pooling + normalize) served by `longshore serve --config bench/embeddings.bench.yaml` twice, under two names:
 * `embeddings` with the default serving settings (eager batching: concurrent texts are tokenized and padded together
 * and run as one session.run) and `embeddings_unbatched` with `batching: {policy: off}` (one session.run per request).
 *
 * Cells: each route of ROUTES × c = 1 and 64 keep-alive connections × batching eager and off, every request one short
 * sentence (the reference's sentence_a, 13 tokens). Before the load, one request per route and model must answer the
 * Python reference embedding within 1e-4, so the load measures correct answers. `/v1/embeddings` (OpenAI-compatible)
 * is measured when the server has the route; a server without it gets a note, not a failure. Rounds run every cell
 * once, interleaved; req/s is the median over rounds, latencies over all rounds' responses. The table shows eager over
 * off at the same route and concurrency (goal at c = 64: 3× or more).
 *
 * Settings: BENCH_EMBEDDINGS_DURATION_S (measured seconds per cell and round, default 3; 1 s warm-up before each),
 * BENCH_EMBEDDINGS_ROUNDS (default 2), BENCH_QUICK=1 (1 round of 1 s cells). The defaults keep this part under a minute
 * with both routes (8 cells × 4 s × 2 rounds, plus the server's start).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from './children.ts';
import { freePort, log, machine, machineLine, positiveInteger, ROOT, runBench, startWatchdog, waitForReady, writeResults } from './environment.ts';
import { startForeignCpu } from './foreign-cpu.ts';
import { combineRounds, measureRound, roundProblems, type CellResult, type CellRound } from './load.ts';
import { Samples } from './stats.ts';
import { formatMs, formatRate, markdownTable } from './table.ts';

const READY_TIMEOUT_MS = 60_000;
const CONNECTIONS = [1, 64] as const;
/** The served names (bench/embeddings.bench.yaml) of the same folder, batching eager (the default) and off. */
const MODELS = { eager: 'embeddings', off: 'embeddings_unbatched' } as const;
type Batching = keyof typeof MODELS;
const TOLERANCE = 1e-4;

interface Route {
  readonly name: string;
  /** The URL path a request for `model` goes to. */
  path(model: string): string;
  body(model: string, text: string): string;
  /** The one embedding in an answer. */
  embedding(answer: unknown): unknown;
}

/**
 * The routes measured. Adding a route (or moving one to another path) is one entry here; the cells, the check and
 * the table follow.
 */
const ROUTES: readonly Route[] = [
  {
    name: 'REST /api/models/{name}/prediction',
    path: (model) => `/api/models/${model}/prediction`,
    body: (_model, text) => JSON.stringify({ text }),
    embedding: (answer) => (answer as { embedding?: unknown }).embedding,
  },
  {
    name: 'OpenAI /v1/embeddings',
    path: () => '/v1/embeddings',
    body: (model, text) => JSON.stringify({ model, input: text }),
    embedding: (answer) => (answer as { data?: { embedding?: unknown }[] }).data?.[0]?.embedding,
  },
];

interface Cell {
  readonly route: Route;
  readonly connections: number;
  readonly batching: Batching;
  readonly rounds: CellRound[];
  readonly latencies: Samples;
  /** Average cores other processes used during each round (Linux only). */
  readonly otherCores: number[];
}

function reference(): { text: string; embedding: number[] } {
  const file = join(ROOT, 'test/fixtures/hf/tiny-bert-embeddings.reference.json');
  const cases = (JSON.parse(readFileSync(file, 'utf8')) as { cases: { name: string; text: string; embedding: number[] }[] }).cases;
  const sentence = cases.find((one) => one.name === 'sentence_a');
  if (!sentence) throw new Error(`${file} has no case sentence_a`);
  return sentence;
}

/**
 * One request per model on `route`: false when the server has no such route (404 RouteNotFoundError), else the answer
 * must be the reference embedding within TOLERANCE, or the run fails here rather than measure errors.
 */
async function checkRoute(serverUrl: string, route: Route, expected: { text: string; embedding: number[] }): Promise<boolean> {
  for (const model of Object.values(MODELS)) {
    const url = `${serverUrl}${route.path(model)}`;
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: route.body(model, expected.text) });
    const text = await response.text();
    if (response.status === 404 && text.includes('"RouteNotFoundError"')) return false;
    if (response.status !== 200) throw new Error(`POST ${url} answered ${response.status}: ${text}`);
    const embedding = route.embedding(JSON.parse(text));
    const ok = Array.isArray(embedding) && embedding.length === expected.embedding.length && expected.embedding.every((value, i) => Math.abs(value - (embedding[i] as number)) <= TOLERANCE);
    if (!ok) throw new Error(`POST ${url}: the embedding differs from the Python reference by more than ${TOLERANCE}: ${text.slice(0, 300)}`);
  }
  return true;
}

function report(cells: readonly Cell[], header: string): { table: string; results: { cell: Cell; result: CellResult }[] } {
  const results = cells.map((cell) => ({ cell, result: combineRounds(cell.connections, cell.rounds, cell.latencies) }));
  const lines = results.map(({ cell, result }) => {
    const off = results.find((other) => other.cell.route === cell.route && other.cell.connections === cell.connections && other.cell.batching === 'off');
    const ratio = cell.batching === 'eager' && off ? `${(result.requestsPerSecond / off.result.requestsPerSecond).toFixed(2)}×` : '—';
    const problems = result.problems.length > 0 ? ' ⚠' : '';
    return [`${cell.route.name}${problems}`, String(cell.connections), cell.batching, formatRate(result.requestsPerSecond), formatMs(result.p50Ms), formatMs(result.p99Ms), ratio];
  });
  const table = markdownTable(['Route (tiny-bert-embeddings, 1 text a request)', 'Concurrency', 'Batching', 'req/s', 'p50 ms', 'p99 ms', 'eager / off'], lines, new Set([0, 2]));
  return { table: `${header}\n\n${table}`, results };
}

async function main(): Promise<number> {
  const quick = process.env['BENCH_QUICK'] === '1';
  const durationS = quick ? 1 : positiveInteger(process.env, 'BENCH_EMBEDDINGS_DURATION_S', 3, 600);
  const roundsWanted = quick ? 1 : positiveInteger(process.env, 'BENCH_EMBEDDINGS_ROUNDS', 2, 50);
  const warmupS = 1;
  const maxCells = ROUTES.length * CONNECTIONS.length * 2;
  const watchdog = startWatchdog((120 + 2 * roundsWanted * maxCells * (warmupS + durationS)) * 1000);
  const started = new Date();
  const expected = reference();

  const port = await freePort();
  const serverUrl = `http://127.0.0.1:${port}`;
  const args = ['bin/longshore.js', 'serve', '--config', 'bench/embeddings.bench.yaml', '--host', '127.0.0.1', '--port', String(port)];
  const server = new Child('longshore (embeddings)', args, ROOT);
  const cells: Cell[] = [];
  const notes: string[] = [];
  try {
    await waitForReady(serverUrl, READY_TIMEOUT_MS);
    for (const route of ROUTES) {
      if (!(await checkRoute(serverUrl, route, expected))) {
        notes.push(`${route.name}: not measured, the server has no such route at this commit`);
        log(notes.at(-1) as string);
        continue;
      }
      for (const connections of CONNECTIONS) {
        for (const batching of ['eager', 'off'] as const) cells.push({ route, connections, batching, rounds: [], latencies: new Samples(), otherCores: [] });
      }
    }
    for (let round = 1; round <= roundsWanted; round++) {
      log(`embeddings round ${round}/${roundsWanted}`);
      for (const cell of cells) {
        const model = MODELS[cell.batching];
        const options = { url: `${serverUrl}${cell.route.path(model)}`, body: cell.route.body(model, expected.text), connections: cell.connections, warmupS, durationS };
        const stopMeter = startForeignCpu(() => [process.pid, server.process.pid].filter((pid): pid is number => pid !== undefined));
        const result = await measureRound(options, cell.latencies);
        const foreign = stopMeter();
        if (foreign) cell.otherCores.push(foreign.otherCores);
        cell.rounds.push(result);
        log(`  ${cell.route.name} c=${cell.connections} batching ${cell.batching}: ${Math.round(result.requestsPerSecond)} req/s, p99 ${result.p99Ms.toFixed(2)} ms`);
        for (const problem of roundProblems(result)) log(`  PROBLEM: ${problem}`);
      }
    }
  } finally {
    await server.stop();
  }
  clearTimeout(watchdog);

  const host = machine();
  const maxOther = Math.max(0, ...cells.flatMap((cell) => cell.otherCores));
  const header = [
    `Embeddings: ${machineLine(host)}`,
    `Date: ${started.toISOString()}; ${roundsWanted} round(s), cells interleaved, each ${warmupS} s warm-up + ${durationS} s measured, keep-alive; ` +
      `every answer checked against the Python reference (1e-4) before the load; other processes used at most ${maxOther.toFixed(2)} cores during a cell`,
    ...notes.map((note) => `Note: ${note}`),
  ].join('\n');
  const { table, results } = report(cells, header);
  process.stdout.write(`${table}\n`);
  const problems = results.flatMap(({ cell, result }) => result.problems.map((problem) => `${cell.route.name} c=${cell.connections} ${cell.batching}: ${problem}`));
  writeResults(join(ROOT, 'bench', 'results', 'embeddings', 'latest.json'), {
    date: started.toISOString(),
    machine: host,
    settings: { durationS, warmupS, rounds: roundsWanted },
    notes,
    cells: results.map(({ cell, result }) => ({ route: cell.route.name, connections: cell.connections, batching: cell.batching, otherCores: cell.otherCores, result })),
    problems,
    table,
  });
  return problems.length;
}

runBench(main);
