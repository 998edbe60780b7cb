/**
 * What tracing costs on the REST hot path (docs/tracing.md, BENCHMARKS.md): iris_logreg over REST
 * /api/models/iris_logreg/prediction, served side by side by
 *   before  the sources before tracing existed (BENCH_BEFORE_ROOT: a checkout of that commit with node_modules),
 *   off     these sources, tracing off (the default),
 *   on      these sources, tracing on, sampling_ratio 1, exporting to a local OTLP/HTTP sink (a node:http server in
 *           this process that reads and drops every export).
 * Rounds interleave the three at each concurrency, as bench/run.ts does, so drift hits them alike. Prints a markdown
 * table (median req/s over the rounds, p50/p99 over every response).
 * Usage: BENCH_BEFORE_ROOT=/path/to/checkout node --import tsx bench/tracing-ab.ts
 * Settings: BENCH_DURATION_S (default 5), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 64).
 */
import { createServer } from 'node:http';
import { freePort, ROOT, runBench } from './environment.ts';
import { beforeRoot, irisYaml, runAb } from './ab.ts';

runBench(async () => {
  const before = beforeRoot('tracing');
  let exports = 0;
  let spanBytes = 0;
  const sink = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (spanBytes += chunk.length));
    request.on('end', () => {
      exports++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const sinkPort = await freePort();
  await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
  try {
    await runAb(
      [
        { name: 'before', root: before, config: irisYaml('') },
        { name: 'tracing off', root: ROOT, config: irisYaml('') },
        { name: 'tracing on (ratio 1, local sink)', root: ROOT, config: irisYaml(`tracing:\n  enabled: true\n  endpoint: http://127.0.0.1:${sinkPort}/v1/traces\n  sampling_ratio: 1\n`) },
      ],
      () => `sink: ${exports} exports, ${(spanBytes / 1e6).toFixed(1)} MB of OTLP JSON`,
    );
  } finally {
    sink.close();
  }
  return 0;
});
