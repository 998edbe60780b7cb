// Types for the part of autocannon 8's programmatic API that `longshore bench` (load-thread engine, autocannon-load.ts)
// and the repository's benchmarks (bench/) use: the package ships none.
declare module 'autocannon' {
  export interface Options {
    url: string;
    method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
    headers?: Record<string, string>;
    body?: string | Buffer;
    connections?: number;
    /** Seconds. */
    duration?: number;
    pipelining?: number;
    /** Seconds before a request counts as a timeout. */
    timeout?: number;
    /** Called with each connection's client: its 'headers' and 'response' events give every response. */
    setupClient?: (client: Client) => void;
  }

  /** One connection. 'headers' comes before the 'response' of the same response (pipelining 1). */
  export interface Client {
    on(event: 'headers', listener: (info: { statusCode: number; headers: (string | Buffer)[] }) => void): Client;
    on(event: 'response', listener: (statusCode: number, resBytes: number, responseTime: number) => void): Client;
  }

  /** hdr-histogram-percentiles-obj shape; latency values are in ms, truncated to whole ms by autocannon's histogram. */
  export interface Histogram {
    average: number;
    mean: number;
    stddev: number;
    min: number;
    max: number;
    total: number;
    p50: number;
    p90: number;
    p99: number;
    p99_9: number;
  }

  export interface Result {
    requests: Histogram & { sent: number };
    latency: Histogram;
    throughput: Histogram;
    /** Seconds. */
    duration: number;
    errors: number;
    timeouts: number;
    mismatches: number;
    non2xx: number;
    '2xx': number;
    statusCodeStats: Record<string, { count: number }>;
  }

  export interface Instance extends PromiseLike<Result> {
    /** Every response; responseTime is in ms with sub-ms precision (unlike the latency histogram). */
    on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): Instance;
    stop(): void;
  }

  export default function autocannon(options: Options): Instance;
}
