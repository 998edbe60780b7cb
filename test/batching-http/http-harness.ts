/**
 * Helpers for the batching tests over real listening servers: start a server from YAML (with generated ONNX files
 * beside it), read the queue metrics straight from the server's prom-client registry, send raw HTTP requests through a
 * bounded node:http agent, compare tensors within the ONNX tests' float tolerance, and count onnxruntime session runs.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import { LongshoreClient } from '../../src/client/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { ModelRegistry } from '../../src/model/registry.ts';
import type { Service } from '../../src/service.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { silentLogger, tempDir } from '../helpers/service.ts';

export { FIXTURES } from '../runtimes/onnx-harness.ts';

export interface Served {
  server: RunningServer;
  registry: ModelRegistry;
  service: Service;
  url: string;
  client: LongshoreClient;
  dir: string;
  close(): Promise<void>;
}

/** Writes `yaml` (and `files` beside it) to a temp dir, starts a real server on 127.0.0.1:0 and waits for every model. */
export async function serve(yaml: string, files: Record<string, Uint8Array | string> = {}, logger: Logger = silentLogger()): Promise<Served> {
  const dir = tempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'longshore.yaml');
  writeFileSync(file, yaml);
  const loaded = parseConfig(readFileSync(file, 'utf8'), file, dir);
  const server = await startServer({ loaded, host: '127.0.0.1', port: 0, logger });
  await server.modelsLoaded;
  for (const model of server.registry.list()) assert.equal(model.state, 'ready', `model ${model.name} failed to load: ${model.error ?? ''}`);
  return {
    server,
    registry: server.registry,
    service: server.service,
    url: server.url,
    client: new LongshoreClient(`${server.url}/`, { timeoutMs: 20_000 }),
    dir,
    close: async () => {
      // undici (global fetch) opens a spare connection after an aborted request and keeps it, empty, for its 4 s
      // keep-alive; Node's closeIdleConnections() does not count a connection that never sent a request as idle, so
      // server.close() would wait for the client. Every test has its answers by now: cut what is left after 500 ms.
      const straggler = setTimeout(() => server.app.server.closeAllConnections(), 500);
      try {
        await server.close();
      } finally {
        clearTimeout(straggler);
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Metrics, read from the server's own registry.

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

async function valuesOf(service: Service, name: string): Promise<MetricValue[]> {
  const metric = service.metrics.registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  return (await metric.get()).values as MetricValue[];
}

/** longshore_rejected_requests_total{model, reason}. */
export async function rejected(service: Service, model: string, reason: 'queue_full' | 'deadline' | 'cancelled'): Promise<number> {
  const values = await valuesOf(service, 'longshore_rejected_requests_total');
  return values.find((v) => v.labels.model === model && v.labels.reason === reason)?.value ?? 0;
}

/** longshore_batch_size{model}: how many batches ran (count), how many rows they held (sum), and batches over 1 row. */
export async function batchSizes(service: Service, model: string): Promise<{ count: number; sum: number; batchesOverOneRow: number }> {
  const values = (await valuesOf(service, 'longshore_batch_size')).filter((v) => v.labels.model === model);
  const count = values.find((v) => v.metricName === 'longshore_batch_size_count')?.value ?? 0;
  const sum = values.find((v) => v.metricName === 'longshore_batch_size_sum')?.value ?? 0;
  const oneOrLess = values.find((v) => v.metricName === 'longshore_batch_size_bucket' && v.labels.le === 1)?.value ?? 0;
  return { count, sum, batchesOverOneRow: count - oneOrLess };
}

/** Batches of longshore_batch_size{model} that held more than `rows` rows (`rows` must be a bucket bound). */
export async function batchesOver(service: Service, model: string, rows: number): Promise<number> {
  const values = (await valuesOf(service, 'longshore_batch_size')).filter((v) => v.labels.model === model);
  const count = values.find((v) => v.metricName === 'longshore_batch_size_count')?.value ?? 0;
  const bucket = values.find((v) => v.metricName === 'longshore_batch_size_bucket' && v.labels.le === rows);
  assert.ok(bucket, `longshore_batch_size has a bucket le=${rows}`);
  return count - bucket.value;
}

/** longshore_queue_depth{model}. */
export async function queueDepth(service: Service, model: string): Promise<number> {
  const values = await valuesOf(service, 'longshore_queue_depth');
  return values.find((v) => v.labels.model === model)?.value ?? 0;
}

// ---------------------------------------------------------------------------------------------------------------------
// onnxruntime session runs.

// InferenceSession's type is a factory interface; at run time it is a class whose prototype holds run.
const sessionPrototype = (ort.InferenceSession as unknown as { prototype: ort.InferenceSession }).prototype as { run: ort.InferenceSession['run'] };

export interface RecordedRun {
  /** dims of every feed, by input name. */
  readonly feeds: Record<string, readonly number[]>;
}

/** Records every session.run (on every session) until `restore()`. */
export function recordRuns(): { readonly runs: RecordedRun[]; restore(): void } {
  const original = sessionPrototype.run;
  const runs: RecordedRun[] = [];
  sessionPrototype.run = function (this: ort.InferenceSession, ...args: Parameters<typeof original>) {
    const feeds = args[0] as Record<string, ort.Tensor>;
    runs.push({ feeds: Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, [...tensor.dims]])) });
    return (original as (...a: unknown[]) => ReturnType<typeof original>).apply(this, args);
  } as typeof original;
  return { runs, restore: () => void (sessionPrototype.run = original) };
}

// ---------------------------------------------------------------------------------------------------------------------
// Comparisons.

/** FP within atol 1e-5 + rtol 1e-4 of the reference (the ONNX reference tests' tolerance). */
export function closeTo(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= 1e-5 + 1e-4 * Math.abs(expected);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, where: string): void {
  assert.equal(actual.length, expected.length, `${where}: element count`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(closeTo(actual[i] as number, expected[i] as number), `${where}[${i}]: got ${actual[i]}, want ${expected[i]}`);
  }
}

/** A small deterministic PRNG (LCG), so inputs are the same on every run. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 10 ms until it holds or `ms` pass. */
export async function waitFor(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = performance.now() + ms;
  while (!(await condition())) {
    if (performance.now() > until) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/**
 * heapUsed, after full garbage collections when they can be forced (`forced`). `global.gc` is not exposed under
 * `node --test`; the flag can still be set at run time, and a fresh context then sees `gc`.
 */
export async function settledHeap(): Promise<{ heapUsed: number; forced: boolean }> {
  let gc: (() => void) | undefined;
  try {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  } catch {
    gc = undefined;
  }
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(20);
  }
  return { heapUsed: process.memoryUsage().heapUsed, forced: typeof gc === 'function' };
}

// ---------------------------------------------------------------------------------------------------------------------
// Raw HTTP.

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request through `agent`; resolves with the whole answer, rejects only when no answer came. */
export function request(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(options.path, url);
    const req = http.request(
      target,
      { method: options.method ?? 'POST', headers: options.headers, agent: options.agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export function postJson(url: string, path: string, body: unknown, headers: Record<string, string> = {}, agent?: http.Agent): Promise<RawAnswer> {
  return request(url, { path, body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers }, agent });
}

export function json<T = unknown>(answer: RawAnswer): T {
  return JSON.parse(answer.body.toString('utf8')) as T;
}

/** A REST error answer: status, `{type, message, details}`; returns the message. */
export function assertRestError(answer: RawAnswer, status: number, type: string, message?: RegExp): string {
  assert.equal(answer.status, status, answer.body.toString('utf8'));
  const body = json<{ type: string; message: string; details: unknown }>(answer);
  assert.equal(body.type, type, answer.body.toString('utf8'));
  assert.ok(Array.isArray(body.details), 'REST errors carry details');
  if (message) assert.match(body.message, message);
  return body.message;
}

/** A V2 error answer: status and exactly `{"error": message}`; returns the message. */
export function assertV2Error(answer: RawAnswer, status: number, message?: RegExp): string {
  assert.equal(answer.status, status, answer.body.toString('utf8'));
  const body = json<Record<string, unknown>>(answer);
  assert.deepEqual(Object.keys(body), ['error'], `V2 errors are {"error": message}, got ${answer.body.toString('utf8')}`);
  assert.equal(typeof body.error, 'string');
  if (message) assert.match(body.error as string, message);
  return body.error as string;
}
