/**
 * The HTTP load of `longshore bench` made by autocannon (a library: its own HTTP/1.1 client, several times faster than
 * node:http's, so the generator is not what limits a fast model), in the load thread (load-body.ts). Every response is
 * read through autocannon's per-connection events: its status, its latency (sub-millisecond) and its `Server-Timing`
 * header. Requests still in flight when the duration ends are dropped by autocannon, not counted.
 */
import autocannon from 'autocannon';
import type { LoadOptions, LoadResult } from './load.js';
import { requestTiming, TimingAverages } from './server-timing.js';

export async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  let latencies = new Float64Array(4096);
  let ok = 0;
  const statuses: Record<string, number> = {};
  const timing = new TimingAverages();
  const started = performance.now();
  const result = await autocannon({
    url: options.url.href,
    method: 'POST',
    headers: { ...options.headers },
    body: options.body,
    connections: options.concurrency,
    duration: options.durationMs / 1000,
    pipelining: 1,
    timeout: Math.ceil((options.timeoutMs ?? 10_000) / 1000),
    setupClient: (client) => {
      let serverTiming: string | undefined;
      client.on('headers', ({ headers }) => {
        serverTiming = undefined;
        for (let index = 0; index + 1 < headers.length; index += 2) {
          if (String(headers[index]).toLowerCase() === 'server-timing') serverTiming = String(headers[index + 1]);
        }
      });
      client.on('response', (statusCode, _bytes, responseTime) => {
        if (statusCode < 200 || statusCode >= 300) {
          statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
          return;
        }
        if (ok === latencies.length) {
          const bigger = new Float64Array(latencies.length * 2);
          bigger.set(latencies);
          latencies = bigger;
        }
        latencies[ok++] = responseTime;
        timing.add(requestTiming(serverTiming));
      });
    },
  });
  const errors = result.errors + result.timeouts;
  const non2xx = Object.entries(statuses);
  const firstError = non2xx.length > 0 ? `status ${non2xx.map(([status, count]) => `${status} ×${count}`).join(', ')}` : errors > 0 ? `${result.errors} errors, ${result.timeouts} timeouts` : undefined;
  return {
    ok,
    statuses,
    errors,
    ...(firstError === undefined ? {} : { firstError }),
    elapsedMs: Math.max(performance.now() - started, result.duration * 1000),
    latencies: latencies.subarray(0, ok),
    timing,
  };
}
