/**
 * What `longshore bench`'s load gives back, the probe POST, and the load loops of gRPC (`send`): `concurrency` loops,
 * each sending the same request (pipelining 1, autocannon's and wrk's model) until the duration is over; the last
 * requests finish before it returns, so nothing of the run is still in flight. HTTP load itself is made by autocannon
 * (autocannon-load.ts), whose client is several times faster than node:http's.
 */
import http from 'node:http';
import https from 'node:https';
import { requestTiming, TimingAverages } from './server-timing.js';

export interface LoadOptions {
  /** The full URL to POST to. */
  readonly url: URL;
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly durationMs: number;
  /** One request's timeout; a request past it counts as an error. */
  readonly timeoutMs?: number;
}

export interface LoadResult {
  /** 2xx responses. */
  readonly ok: number;
  /** Non-2xx responses, by status. */
  readonly statuses: Readonly<Record<string, number>>;
  /** Connection errors and timeouts. */
  readonly errors: number;
  readonly firstError?: string;
  readonly elapsedMs: number;
  /** Latency (ms) of each 2xx response, from the request's start to the response's last byte. */
  readonly latencies: Float64Array;
  /** The averaged `Server-Timing` entries of the 2xx responses that had them. */
  readonly timing: TimingAverages;
}

export interface Answer {
  readonly status: number;
  readonly serverTiming: string | string[] | undefined;
  readonly text: string;
}

/** One POST; resolves with its status, Server-Timing header and body text. */
export function post(url: URL, body: Buffer, headers: Readonly<Record<string, string>>, agent?: http.Agent, timeoutMs = 10_000): Promise<Answer> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, timeout: timeoutMs, rejectUnauthorized: false },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, serverTiming: response.headers['server-timing'], text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** Runs `concurrency` loops of `send` for `durationMs` (gRPC: grpc-sender.ts) and gathers what they saw. */
export async function runLoops(send: () => Promise<Answer>, concurrency: number, durationMs: number): Promise<LoadResult> {
  let latencies = new Float64Array(1024);
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const statuses: Record<string, number> = {};
  const timing = new TimingAverages();
  const started = performance.now();
  const deadline = started + durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      const sent = performance.now();
      try {
        const answer = await send();
        const latency = performance.now() - sent;
        if (answer.status >= 200 && answer.status < 300) {
          if (ok === latencies.length) {
            const bigger = new Float64Array(latencies.length * 2);
            bigger.set(latencies);
            latencies = bigger;
          }
          latencies[ok++] = latency;
          timing.add(requestTiming(answer.serverTiming));
        } else {
          statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
          firstError ??= `${answer.status} ${answer.text.slice(0, 300)}`;
        }
      } catch (error) {
        errors++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return {
    ok,
    statuses,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs: performance.now() - started,
    latencies: latencies.subarray(0, ok),
    timing,
  };
}

/** Nearest-rank percentile of a sample (NaN when empty). */
export function percentile(values: Float64Array, quantile: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(quantile * sorted.length)));
  return sorted[rank - 1] as number;
}

export function mean(values: Float64Array): number {
  if (values.length === 0) return Number.NaN;
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}
