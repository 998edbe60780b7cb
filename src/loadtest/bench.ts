/**
 * `longshore bench`: starts the server in-process on 127.0.0.1 port 0 (or uses `--url`), loads each model with the
 * load generator (load.ts) at every concurrency for a bounded time, reads where the time went (Server-Timing, else
 * /metrics), calls the bare model in-process for comparison, and prints one table per model (report.ts), or the JSON
 * document alone on stdout with `--json`. Loaded by the CLI with a dynamic import, only for this command.
 */
import { pino } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError } from '../errors.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import type { ModelRegistry } from '../model/registry.js';
import { recordCandidates, v2Body, v2RecordBody, type Body, type TensorMetadata } from './bodies.js';
import { GrpcSender } from './grpc-sender.js';
import { mean, percentile, post, type LoadResult } from './load.js';
import { runLoadInThread } from './load-thread.js';
import { machine, startForeignCpu } from './machine.js';
import { histogramAverages, modelHistograms, type ModelHistograms } from './prometheus.js';
import { renderReport, type BenchReport, type BenchRow, type Breakdown, type InProcessRate, type ModelReport, type Protocol } from './report.js';

export interface BenchSettings {
  readonly protocol: Protocol;
  readonly concurrency: readonly number[];
  readonly durationMs: number;
  readonly json: boolean;
  /** A running server; otherwise one is started in-process from `readConfig()`. */
  readonly url?: string;
  /** With `url` and protocol grpc: the server's gRPC address (in-process, the server opens a gRPC port of its own). */
  readonly grpc?: string | undefined;
  /** Only these models (by name); all when empty. */
  readonly models: readonly string[];
}

/** Sent on every request: asks a server that supports it for the Server-Timing header. */
const TIMING_HEADER = { 'x-longshore-timing': '1' };

const progress = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** Runs the benchmark; resolves with the exit code (1 when a cell had failures or nothing could be measured). */
export async function runBench(settings: BenchSettings, readConfig: () => LoadedConfig): Promise<number> {
  const host = machine();
  const grpc = settings.protocol === 'grpc';
  if (grpc && settings.url !== undefined && settings.grpc === undefined) {
    throw new ConfigError('--protocol grpc with --url needs --grpc host:port, the gRPC address of that server (its server.grpc_port)');
  }
  const server = settings.url === undefined ? await startInProcess(readConfig(), grpc) : undefined;
  const base = new URL(settings.url ?? (server as { url: string }).url);
  const grpcAddress = settings.grpc ?? server?.grpcUrl;
  const sender = grpc && grpcAddress !== undefined ? new GrpcSender(base, grpcAddress) : undefined;
  try {
    const warmupMs = Math.min(500, Math.max(100, settings.durationMs / 5));
    const inProcessMs = Math.min(2000, Math.max(200, settings.durationMs / 2));
    const names = await modelNames(base, settings.models);
    const models: ModelReport[] = [];
    for (const name of names) {
      models.push(await benchModel(base, name, settings, warmupMs, inProcessMs, server?.registry, sender, grpcAddress));
    }
    const report: BenchReport = {
      settings: {
        protocol: settings.protocol,
        concurrency: settings.concurrency,
        durationS: settings.durationMs / 1000,
        warmupS: warmupMs / 1000,
        inProcessS: inProcessMs / 1000,
        url: base.origin,
        server: server ? 'in-process' : 'remote',
      },
      machine: host,
      models,
    };
    const text = renderReport(report);
    if (settings.json) {
      process.stderr.write(`${text}\n`);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      process.stdout.write(`${text}\n`);
    }
    const measured = models.filter((model) => model.skipped === null);
    return measured.length === 0 || measured.some((model) => model.rows.some((row) => row.problems.length > 0)) ? 1 : 0;
  } finally {
    sender?.close();
    await server?.close();
  }
}

/** Starts the server of `loaded` on 127.0.0.1 port 0, with a gRPC port of its own (port 0 too) when `grpc`. */
async function startInProcess(loaded: LoadedConfig, grpc: boolean) {
  const { startServer } = await import('../server.js');
  // Warnings and errors only, on stderr: stdout is the report's (with --json, the JSON document's alone).
  const logger = pino({ level: 'warn' }, pino.destination({ fd: 2, sync: true }));
  const config = grpc ? { ...loaded.config, server: { ...loaded.config.server, grpc_port: 0, grpc_host: '127.0.0.1' } } : loaded.config;
  const server = await startServer({ loaded: { ...loaded, config }, host: '127.0.0.1', port: 0, logger });
  await server.modelsLoaded;
  return server;
}

async function getJson(url: URL): Promise<unknown> {
  const response = await fetch(url);
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(`GET ${url.href} answered ${response.status}: ${JSON.stringify(body)}`);
  return body;
}

/** The models to measure: those named (each must exist), else every model the server lists. */
async function modelNames(base: URL, wanted: readonly string[]): Promise<string[]> {
  const listing = (await getJson(new URL('/api/models', base))) as { models: { qualified_name: string }[] };
  const served = listing.models.map((model) => model.qualified_name);
  const missing = wanted.filter((name) => !served.includes(name));
  if (missing.length > 0) {
    throw new ConfigError(
      `--model ${missing.join(', ')}: no such model on ${base.origin}; it serves ${served.join(', ') || 'no model'}. ` +
        'Pass one of those names, or --model name=file.onnx to serve a file',
    );
  }
  return wanted.length > 0 ? [...new Set(wanted)] : served;
}

/** The body candidates of one model for the protocol, best first. */
async function bodiesOf(base: URL, name: string, protocol: Protocol): Promise<{ bodies: Body[]; records: unknown[] }> {
  const metadata = (await getJson(new URL(`/api/models/${encodeURIComponent(name)}/metadata`, base))) as { examples?: unknown; input_schema?: unknown };
  const candidates = recordCandidates(metadata);
  const records = candidates.map((candidate) => candidate.record);
  if (protocol === 'rest') {
    const headers = { 'content-type': 'application/json' };
    return { bodies: candidates.map((c) => ({ source: c.source, body: Buffer.from(JSON.stringify(c.record)), headers, rows: 1 })), records };
  }
  const tensors = (await getJson(new URL(`/v2/models/${encodeURIComponent(name)}`, base))) as { inputs: TensorMetadata[] };
  // V2 JSON and gRPC (which sends the V2 JSON request as a ModelInfer message, grpc-sender.ts) try the records first, as
  // one-row requests; the binary extension and models whose records fit no tensors get generated tensors.
  const fromRecords = protocol === 'v2-binary' ? [] : candidates.flatMap((c) => v2RecordBody(c.record, tensors.inputs, c.source) ?? []);
  return { bodies: [...fromRecords, v2Body(tensors.inputs, protocol === 'v2-binary')], records };
}

function callPath(name: string, protocol: Protocol): string {
  return protocol === 'rest' ? `/api/models/${encodeURIComponent(name)}/prediction` : `/v2/models/${encodeURIComponent(name)}/infer`;
}

async function scrape(base: URL, name: string): Promise<ModelHistograms | undefined> {
  try {
    const response = await fetch(new URL('/metrics', base));
    const text = await response.text();
    return response.ok ? modelHistograms(text, name) : undefined;
  } catch {
    return undefined;
  }
}

async function benchModel(
  base: URL,
  name: string,
  settings: BenchSettings,
  warmupMs: number,
  inProcessMs: number,
  registry?: ModelRegistry,
  sender?: GrpcSender,
  grpcAddress?: string,
): Promise<ModelReport> {
  const url = new URL(callPath(name, settings.protocol), base);
  const skipped = (reason: string, body: string | null = null): ModelReport => ({
    name, protocol: settings.protocol, body, rowsPerRequest: 0, rows: [], inProcess: [], inProcessNote: null, skipped: reason,
  });
  let candidates: { bodies: Body[]; records: unknown[] };
  try {
    candidates = await bodiesOf(base, name, settings.protocol);
  } catch (error) {
    return skipped((error as Error).message);
  }
  // The first body the model answers with 2xx is the one sent.
  let chosen: Body | undefined;
  let refusal = 'no example and no input schema to make a body from';
  for (const body of candidates.bodies) {
    const send = sender?.sender(name, body.body) ?? (() => post(url, body.body, { ...body.headers, ...TIMING_HEADER }));
    const answer = await send().catch((error: Error) => ({ status: 0, text: error.message }));
    if (answer.status >= 200 && answer.status < 300) {
      chosen = body;
      break;
    }
    refusal = `POST ${url.pathname} with a body ${body.source} answered ${answer.status}: ${answer.text.slice(0, 300)}`;
  }
  if (!chosen) return skipped(refusal);
  const body = chosen;
  const rows: BenchRow[] = [];
  for (const concurrency of settings.concurrency) {
    progress(`${name} ${settings.protocol} c=${concurrency}: ${settings.durationMs / 1000} s`);
    // The load runs in a thread of its own (load-thread.ts), off the event loop of a server in this process.
    const grpcTarget = sender && grpcAddress !== undefined ? { base: base.href, address: grpcAddress, model: name } : undefined;
    const load = { url: url.href, body: body.body, headers: { ...body.headers, ...TIMING_HEADER }, concurrency, ...(grpcTarget ? { grpc: grpcTarget } : {}) };
    await runLoadInThread({ ...load, durationMs: warmupMs });
    const before = await scrape(base, name);
    const cpu = startForeignCpu();
    const result = await runLoadInThread({ ...load, durationMs: settings.durationMs });
    const foreignCpu = cpu() ?? null;
    const after = await scrape(base, name);
    rows.push(benchRow(concurrency, body.rows, result, breakdownOf(result, before, after), foreignCpu));
  }
  const served = registry?.get(name);
  const record = served ? rawRecord(served.model, candidates.records) : undefined;
  let inProcess: InProcessRate[] = [];
  let inProcessNote: string | null = registry ? null : 'the server is not in this process (--url)';
  if (served && record !== undefined) {
    const sizes = [...new Set([1, ...rows.map((row) => Math.max(1, Math.round(row.breakdown.batchSize ?? 1)))])].sort((a, b) => a - b);
    try {
      for (const size of sizes) inProcess.push(await inProcessRate(served.model, record, size, inProcessMs));
    } catch (error) {
      inProcess = [];
      inProcessNote = `the bare model refused the body: ${(error as Error).message}`;
    }
  } else if (registry) {
    inProcessNote = 'no record for the bare model';
  }
  const withRatio = rows.map((row) => {
    const size = Math.max(1, Math.round(row.breakdown.batchSize ?? 1));
    const bare = inProcess.find((rate) => rate.batchSize === size);
    return { ...row, servedVsInProcess: bare && bare.rowsPerSecond > 0 ? row.rowsPerSecond / bare.rowsPerSecond : null };
  });
  return { name, protocol: settings.protocol, body: body.source, rowsPerRequest: body.rows, rows: withRatio, inProcess, inProcessNote, skipped: null };
}

function benchRow(concurrency: number, rowsPerRequest: number, result: LoadResult, breakdown: Breakdown, foreignCpu: BenchRow['foreignCpu']): BenchRow {
  const seconds = result.elapsedMs / 1000;
  const non2xx = Object.values(result.statuses).reduce((a, b) => a + b, 0);
  const problems: string[] = [];
  if (non2xx > 0) problems.push(`${non2xx} non-2xx responses ${JSON.stringify(result.statuses)}: ${result.firstError ?? ''}`);
  if (result.errors > 0) problems.push(`${result.errors} connection errors: ${result.firstError ?? ''}`);
  if (result.ok === 0) problems.push('no request completed');
  const finite = (value: number) => (Number.isFinite(value) ? value : null);
  const requestsPerSecond = result.ok / seconds;
  return {
    concurrency,
    requests: result.ok,
    non2xx,
    errors: result.errors,
    durationS: seconds,
    requestsPerSecond,
    rowsPerSecond: requestsPerSecond * rowsPerRequest,
    latencyMs: { mean: finite(mean(result.latencies)), p50: finite(percentile(result.latencies, 0.5)), p99: finite(percentile(result.latencies, 0.99)) },
    breakdown,
    foreignCpu,
    servedVsInProcess: null,
    problems,
  };
}

/** Server-Timing averages when the responses carried them, else the /metrics deltas (queue, model, batch only). */
export function breakdownOf(result: LoadResult, before?: ModelHistograms, after?: ModelHistograms): Breakdown {
  const latency = mean(result.latencies);
  if (result.timing.responses > 0) {
    const t = result.timing.mean();
    return {
      source: 'server-timing',
      decodeMs: t.decode ?? null,
      queueMs: t.queue ?? null,
      batchSize: t.batchSize ?? null,
      modelMs: t.model ?? null,
      encodeMs: t.encode ?? null,
      totalMs: t.total ?? null,
      httpMs: t.total === undefined || !Number.isFinite(latency) ? null : Math.max(0, latency - t.total),
    };
  }
  const averages = before && after ? histogramAverages(before, after) : {};
  const found = Object.keys(averages).length > 0;
  return {
    source: found ? 'metrics' : 'none',
    decodeMs: null,
    queueMs: averages.queueMs ?? null,
    batchSize: averages.batchSize ?? null,
    modelMs: averages.modelMs ?? null,
    encodeMs: null,
    totalMs: null,
    httpMs: null,
  };
}

/** The record the bare model takes: its own first example (decorators may change what callers send), else the body's. */
function rawRecord(model: RuntimeModel, records: readonly unknown[]): unknown {
  return model.examples?.[0]?.input ?? records[0];
}

/** The bare model (no validation, queue or decorators) called with `size` copies of `record` for about `ms`. */
async function inProcessRate(model: RuntimeModel, record: unknown, size: number, ms: number): Promise<InProcessRate> {
  const inputs = Array.from({ length: size }, () => record);
  const call = model.predictBatch
    ? () => model.predictBatch?.(inputs)
    : () => Promise.all(inputs.map((input) => model.predict(input)));
  await call();
  const started = performance.now();
  let calls = 0;
  while (performance.now() - started < ms) {
    await call();
    calls++;
  }
  const seconds = (performance.now() - started) / 1000;
  return { batchSize: size, calls, rowsPerSecond: (calls * size) / seconds };
}
