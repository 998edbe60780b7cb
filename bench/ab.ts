/**
 * A/B runs of the REST hot path (bench/tracing-ab.ts, bench/timing-ab.ts): iris_logreg over
 * /api/models/iris_logreg/prediction, served side by side by each variant (a checkout and a config), rounds
 * interleaving the servers as bench/run.ts does so drift hits them alike; prints a markdown table (median req/s over
 * the rounds, p50/p99 over every response, each against the first variant).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './children.ts';
import { freePort, log, machine, machineLine, positiveInteger, ROOT, waitForReady } from './environment.ts';
import { combineRounds, measureRound, type CellRound } from './load.ts';
import { Samples } from './stats.ts';

export const IRIS = join(ROOT, 'test/fixtures/onnx/iris_logreg.onnx');
const BODY = JSON.stringify({ input: [5.1, 3.5, 1.4, 0.2] });

export interface Variant {
  readonly name: string;
  /** The checkout whose bin/longshore.js serves it. */
  readonly root: string;
  readonly config: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The checkout of BENCH_BEFORE_ROOT (`what`: the feature it predates, for the message). */
export function beforeRoot(what: string): string {
  const before = process.env.BENCH_BEFORE_ROOT;
  if (!before) throw new Error(`set BENCH_BEFORE_ROOT to a checkout of the commit before ${what} (with node_modules)`);
  return before;
}

/** A config serving iris_logreg with `server` (YAML lines) first, its logs to /dev/null. */
export function irisYaml(server: string): string {
  return `logging:\n  destination: /dev/null\n${server}models:\n  - model_path: ${IRIS}\n`;
}

/** Serves every variant, runs the rounds, prints the table; `footer` adds lines under it. */
export async function runAb(variants: readonly Variant[], footer: () => string = () => ''): Promise<void> {
  const durationS = positiveInteger(process.env, 'BENCH_DURATION_S', 5, 600);
  const rounds = positiveInteger(process.env, 'BENCH_ROUNDS', 3, 50);
  const connections = positiveInteger(process.env, 'BENCH_CONNECTIONS', 64, 1024);
  console.log(`bench: ${machineLine(machine())}`);
  const dir = mkdtempSync(join(tmpdir(), 'longshore-ab-'));
  const servers = [];
  try {
    for (const [index, variant] of variants.entries()) {
      const file = join(dir, `v${index}.yaml`);
      writeFileSync(file, variant.config);
      const port = await freePort();
      const child = new Child(variant.name, [join(variant.root, 'bin/longshore.js'), 'serve', '--config', file, '--host', '127.0.0.1', '--port', String(port)], variant.root);
      servers.push({ ...variant, child, url: `http://127.0.0.1:${port}`, rounds: [] as CellRound[], latencies: new Samples() });
    }
    for (const server of servers) await waitForReady(server.url, 60_000);
    for (let round = 1; round <= rounds; round++) {
      for (const server of servers) {
        log(`round ${round}/${rounds}: ${server.name}, c=${connections}`);
        const url = `${server.url}/api/models/iris_logreg/prediction`;
        const headers = server.headers === undefined ? {} : { headers: server.headers };
        server.rounds.push(await measureRound({ url, body: BODY, ...headers, connections, warmupS: 1, durationS }, server.latencies));
      }
    }
    console.log(`\nREST iris_logreg /prediction, c=${connections}, ${rounds} rounds of ${durationS} s\n`);
    console.log('| server | req/s (median) | p50 ms | p99 ms | vs before |');
    console.log('| --- | --- | --- | --- | --- |');
    const base = combineRounds(connections, servers[0]?.rounds ?? [], servers[0]?.latencies ?? new Samples());
    for (const server of servers) {
      const cell = combineRounds(connections, server.rounds, server.latencies);
      const ratio = ((cell.requestsPerSecond / base.requestsPerSecond - 1) * 100).toFixed(1);
      console.log(`| ${server.name} | ${Math.round(cell.requestsPerSecond)} | ${cell.p50Ms.toFixed(2)} | ${cell.p99Ms.toFixed(2)} | ${server === servers[0] ? '' : `${ratio}%`} |`);
      console.log(`<!-- ${server.name}: rounds ${server.rounds.map((r) => Math.round(r.requestsPerSecond)).join(', ')} -->`);
    }
    const more = footer();
    if (more !== '') console.log(`\n${more}`);
  } finally {
    for (const server of servers) await server.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
