/**
 * The body of the load thread (load-worker.js): runs the load its workerData describes (load-thread.ts) and posts the
 * result, or the error, to the thread that started it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GrpcSender } from './grpc-sender.js';
import { runAutocannon } from './autocannon-load.js';
import { runLoops } from './load.js';
import type { ThreadLoadResult, ThreadLoadSpec } from './load-thread.js';

export async function runThreadLoad(): Promise<void> {
  const spec = workerData as ThreadLoadSpec;
  const body = Buffer.from(spec.body);
  const sender = spec.grpc === undefined ? undefined : new GrpcSender(new URL(spec.grpc.base), spec.grpc.address);
  try {
    const send = sender && spec.grpc ? sender.sender(spec.grpc.model, body) : undefined;
    const options = { url: new URL(spec.url), body, headers: spec.headers, concurrency: spec.concurrency, durationMs: spec.durationMs };
    // HTTP through autocannon; gRPC through the client, in the node loops of load.ts.
    const result = send ? await runLoops(send, spec.concurrency, spec.durationMs) : await runAutocannon(options);
    const message: ThreadLoadResult = { ...result, latencies: Float64Array.from(result.latencies), timing: result.timing.toParts() };
    parentPort?.postMessage({ result: message });
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message });
  } finally {
    sender?.close();
  }
}
