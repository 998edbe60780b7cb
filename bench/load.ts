/**
 * One load cell: autocannon POSTs the same body over N keep-alive connections (pipelining 1) — a discarded warm-up,
 * then the measured run. Latency percentiles come from every 2xx response's own timing, because autocannon's latency
 * histogram truncates to whole milliseconds (a 0.4 ms response is recorded as 0).
 */
import autocannon, { type Result } from 'autocannon';
import { percentile, Samples } from './stats.ts';

export interface CellOptions {
  readonly url: string;
  readonly body: string;
  readonly connections: number;
  readonly warmupS: number;
  readonly durationS: number;
}

export interface CellResult {
  readonly connections: number;
  /** Mean of autocannon's per-second request counts over the measured run. */
  readonly requestsPerSecond: number;
  readonly totalRequests: number;
  readonly durationS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** autocannon's own (whole-ms) percentiles, kept for cross-checking. */
  readonly autocannonP50Ms: number;
  readonly autocannonP99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  readonly warmup: { readonly non2xx: number; readonly errors: number };
}

function run(options: CellOptions, durationS: number, samples?: Samples): Promise<Result> {
  const instance = autocannon({
    url: options.url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: options.body,
    connections: options.connections,
    duration: durationS,
    pipelining: 1,
    timeout: 10,
  });
  if (samples) {
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) samples.push(responseTime);
    });
  }
  return Promise.resolve(instance);
}

export async function measureCell(options: CellOptions): Promise<CellResult> {
  const warmup = await run(options, options.warmupS);
  const samples = new Samples();
  const result = await run(options, options.durationS, samples);
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats)) statusCodes[code] = stats.count;
  const latencies = samples.values();
  return {
    connections: options.connections,
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    durationS: result.duration,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    autocannonP50Ms: result.latency.p50,
    autocannonP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    warmup: { non2xx: warmup.non2xx, errors: warmup.errors },
  };
}

/** Problems with a cell (non-2xx, connection errors), empty when every response was 2xx. */
export function cellProblems(cell: CellResult): string[] {
  const problems: string[] = [];
  if (cell.non2xx > 0) problems.push(`${cell.non2xx} non-2xx responses (status counts ${JSON.stringify(cell.statusCodes)})`);
  if (cell.errors > 0) problems.push(`${cell.errors} connection errors (${cell.timeouts} timeouts)`);
  if (cell.warmup.non2xx > 0 || cell.warmup.errors > 0) {
    problems.push(`warm-up: ${cell.warmup.non2xx} non-2xx, ${cell.warmup.errors} errors`);
  }
  if (cell.totalRequests === 0) problems.push('no requests completed');
  return problems;
}
