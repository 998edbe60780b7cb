/**
 * Runs the load generator (load.ts) in a worker thread of its own, so the requests are made on another event loop
 * (another core) than the server's: with the server in this process (`longshore bench` without --url), generating the
 * load on the server's own thread would take the time it measures, as a load generator on the same core as the
 * server always does (wrk and autocannon run as their own processes for that reason).
 */
import { Worker } from 'node:worker_threads';
import type { LoadResult } from './load.js';
import { TimingAverages, type TimingParts } from './server-timing.js';

/** What the thread needs to make the load (structured-clone safe). */
export interface ThreadLoadSpec {
  readonly url: string;
  readonly body: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly durationMs: number;
  /** gRPC instead of HTTP POSTs: ModelInfer calls of `model` on `address`, the body a V2 JSON request. */
  readonly grpc?: { readonly base: string; readonly address: string; readonly model: string };
}

/** A LoadResult as the thread sends it back. */
export type ThreadLoadResult = Omit<LoadResult, 'timing'> & { readonly timing: TimingParts };

const ENTRY = new URL('./load-worker.js', import.meta.url);

export function runLoadInThread(spec: ThreadLoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(ENTRY, { workerData: spec });
    let settled = false;
    worker.once('message', (message: { result?: ThreadLoadResult; error?: string }) => {
      settled = true;
      void worker.terminate();
      if (message.result === undefined) reject(new Error(`the load thread failed: ${message.error ?? 'no result'}`));
      else resolve({ ...message.result, timing: TimingAverages.fromParts(message.result.timing) });
    });
    worker.once('error', (error) => {
      if (!settled) reject(error);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`the load thread exited (code ${code}) before its result`));
    });
  });
}
