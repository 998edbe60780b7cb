/**
 * What per-request timing costs on the REST hot path (docs/timing.md): iris_logreg over REST
 * /api/models/iris_logreg/prediction, served side by side by
 *   before      the sources before timing existed (BENCH_BEFORE_ROOT: a checkout of that commit with node_modules),
 *   off         these sources, timing off and not asked (the default),
 *   asked       these sources, every request sending `x-longshore-timing: 1`,
 *   always      these sources, `server.timing_headers: true`.
 * Rounds interleave the servers, as bench/run.ts does, so drift hits them alike. Prints a markdown table (median
 * req/s over the rounds, p50/p99 over every response).
 * Usage: BENCH_BEFORE_ROOT=/path/to/checkout node --import tsx bench/timing-ab.ts
 * Settings: BENCH_DURATION_S (default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 64).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Child } from './children.ts';
import { freePort, log, machine, machineLine, positiveInteger, ROOT, runBench, waitForReady } from './environment.ts';
import { combineRounds, measureRound, type CellRound } from './load.ts';
import { Samples } from './stats.ts';

const IRIS = join(ROOT, 'test/fixtures/onnx/iris_logreg.onnx');
const BODY = JSON.stringify({ input: [5.1, 3.5, 1.4, 0.2] });
const JSON_TYPE = { 'content-type': 'application/json' };

runBench(async () => {
  const before = process.env.BENCH_BEFORE_ROOT;
  if (!before) throw new Error('set BENCH_BEFORE_ROOT to a checkout of the commit before timing (with node_modules)');
  const durationS = positiveInteger(process.env, 'BENCH_DURATION_S', 5, 600);
  const rounds = positiveInteger(process.env, 'BENCH_ROUNDS', 3, 50);
  const connections = positiveInteger(process.env, 'BENCH_CONNECTIONS', 64, 1024);
  console.log(`bench: ${machineLine(machine())}`);

  const dir = mkdtempSync(join(tmpdir(), 'longshore-timing-ab-'));
  const yaml = (server: string) => `logging:\n  destination: /dev/null\n${server}models:\n  - model_path: ${IRIS}\n`;
  const variants = [
    { name: 'before', root: before, config: yaml(''), headers: JSON_TYPE },
    { name: 'timing off', root: ROOT, config: yaml(''), headers: JSON_TYPE },
    { name: 'asked (x-longshore-timing: 1)', root: ROOT, config: yaml(''), headers: { ...JSON_TYPE, 'x-longshore-timing': '1' } },
    { name: 'server.timing_headers: true', root: ROOT, config: yaml('server:\n  timing_headers: true\n'), headers: JSON_TYPE },
  ];
  const servers = [];
  for (const [index, variant] of variants.entries()) {
    const file = join(dir, `v${index}.yaml`);
    writeFileSync(file, variant.config);
    const port = await freePort();
    const child = new Child(variant.name, [join(variant.root, 'bin/longshore.js'), 'serve', '--config', file, '--host', '127.0.0.1', '--port', String(port)], variant.root);
    servers.push({ ...variant, child, url: `http://127.0.0.1:${port}`, rounds: [] as CellRound[], latencies: new Samples() });
  }
  try {
    for (const server of servers) await waitForReady(server.url, 60_000);
    for (let round = 1; round <= rounds; round++) {
      for (const server of servers) {
        log(`round ${round}/${rounds}: ${server.name}, c=${connections}`);
        const url = `${server.url}/api/models/iris_logreg/prediction`;
        server.rounds.push(await measureRound({ url, body: BODY, headers: server.headers, connections, warmupS: 1, durationS }, server.latencies));
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
  } finally {
    for (const server of servers) await server.child.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return 0;
});
