/**
 * Load cells: autocannon POSTs the same body over N keep-alive connections (pipelining 1) — a discarded warm-up, then
 * the measured run — and rounds of one cell are combined into one result. Latency percentiles come from every 2xx
 * response's own timing, because autocannon's latency histogram truncates to whole milliseconds (a 0.4 ms response is
 * recorded as 0).
 */
import autocannon, { type Result } from 'autocannon';
import { median, percentile, Samples } from './stats.ts';

export interface CellOptions {
  readonly url: string;
  readonly body: string | Buffer;
  /** Request headers; JSON content type when absent. */
  readonly headers?: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly warmupS: number;
  readonly durationS: number;
}

/** One measured run of a cell. */
export interface CellRound {
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

/** The rounds of a cell combined: median req/s, latency percentiles over all rounds' responses. */
export interface CellResult {
  readonly connections: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** (max − min) / median of the rounds' req/s. */
  readonly spread: number;
  readonly rounds: readonly CellRound[];
  readonly problems: readonly string[];
}

function run(options: CellOptions, durationS: number, samples?: Samples): Promise<Result> {
  const instance = autocannon({
    url: options.url,
    method: 'POST',
    headers: { ...(options.headers ?? { 'content-type': 'application/json' }) },
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

/** Runs one round of a cell; the 2xx latencies (ms) are added to `latencies`. */
export async function measureRound(options: CellOptions, latencies: Samples): Promise<CellRound> {
  const warmup = await run(options, options.warmupS);
  const samples = new Samples();
  const result = await run(options, options.durationS, samples);
  for (const value of samples.values()) latencies.push(value);
  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats)) statusCodes[code] = stats.count;
  return {
    requestsPerSecond: result.requests.average,
    totalRequests: result.requests.total,
    durationS: result.duration,
    p50Ms: percentile(samples.values(), 0.5),
    p99Ms: percentile(samples.values(), 0.99),
    autocannonP50Ms: result.latency.p50,
    autocannonP99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    warmup: { non2xx: warmup.non2xx, errors: warmup.errors },
  };
}

export function combineRounds(connections: number, rounds: readonly CellRound[], latencies: Samples): CellResult {
  const rates = rounds.map((round) => round.requestsPerSecond);
  const middle = median(rates);
  return {
    connections,
    requestsPerSecond: middle,
    p50Ms: percentile(latencies.values(), 0.5),
    p99Ms: percentile(latencies.values(), 0.99),
    spread: middle > 0 ? (Math.max(...rates) - Math.min(...rates)) / middle : Number.NaN,
    rounds,
    problems: rounds.flatMap((round, index) => roundProblems(round).map((problem) => `round ${index + 1}: ${problem}`)),
  };
}

/** Problems with a round (non-2xx, connection errors), empty when every response was 2xx. */
export function roundProblems(round: CellRound): string[] {
  const problems: string[] = [];
  if (round.non2xx > 0) problems.push(`${round.non2xx} non-2xx responses (status counts ${JSON.stringify(round.statusCodes)})`);
  if (round.errors > 0) problems.push(`${round.errors} connection errors (${round.timeouts} timeouts)`);
  if (round.warmup.non2xx > 0 || round.warmup.errors > 0) {
    problems.push(`warm-up: ${round.warmup.non2xx} non-2xx, ${round.warmup.errors} errors`);
  }
  if (round.totalRequests === 0) problems.push('no requests completed');
  return problems;
}
