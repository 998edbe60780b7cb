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
import { ROOT, runBench } from './environment.ts';
import { beforeRoot, irisYaml, runAb } from './ab.ts';

const JSON_TYPE = { 'content-type': 'application/json' };

runBench(async () => {
  const before = beforeRoot('timing');
  await runAb([
    { name: 'before', root: before, config: irisYaml(''), headers: JSON_TYPE },
    { name: 'timing off', root: ROOT, config: irisYaml(''), headers: JSON_TYPE },
    { name: 'asked (x-longshore-timing: 1)', root: ROOT, config: irisYaml(''), headers: { ...JSON_TYPE, 'x-longshore-timing': '1' } },
    { name: 'server.timing_headers: true', root: ROOT, config: irisYaml('server:\n  timing_headers: true\n'), headers: JSON_TYPE },
  ]);
  return 0;
});
