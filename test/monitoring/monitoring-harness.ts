/**
 * Helpers for the prediction log tests: configs (JSON is YAML) serving the iris models with a `monitoring` mapping,
 * reading JSONL records back, a local node:http receiver that can be taken down and brought back, and the log's
 * metrics read from the server's registry.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Service } from '../../src/service.ts';
import { IRIS_CLASS_PATH, REPO_ROOT } from '../helpers/service.ts';

export const IRIS_ONNX_PATH = join(REPO_ROOT, 'examples/onnx/iris_logreg.onnx');

/** The TypeScript iris model as a models entry (qualified name iris_model). */
export function irisEntry(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { class_path: IRIS_CLASS_PATH, configuration: { coefficients_path: './iris_logreg_coefficients.json' }, ...extra };
}

/** The ONNX iris model as a models entry (qualified name iris_onnx). */
export function irisOnnxEntry(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model_path: IRIS_ONNX_PATH, qualified_name: 'iris_onnx', ...extra };
}

export function yamlOf(config: Record<string, unknown>): string {
  return JSON.stringify(config, null, 2);
}

/** A valid iris record, different for each `i` (values exact in FP32: multiples of 1/4). */
export function irisRecord(i: number): Record<string, number> {
  return {
    sepal_length: 4 + (i % 16) / 4,
    sepal_width: 2 + (i % 8) / 4,
    petal_length: 1 + (i % 20) / 4,
    petal_width: ((i * 7) % 10) / 4,
  };
}

/** One parsed record of the prediction log. */
export interface LogRecord {
  timestamp: string;
  request_id: string | null;
  model: string;
  version: string;
  operation: string;
  inputs?: unknown;
  outputs?: unknown;
  error?: { type: string; message: string };
  latency_us: number;
  metrics?: Record<string, number>;
}

/** Every line of a JSONL file, parsed (a line that does not parse fails the test); [] when the file does not exist. */
export function readRecords(path: string): LogRecord[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), `${path} ends with a newline`);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, index) => {
      try {
        return JSON.parse(line) as LogRecord;
      } catch {
        assert.fail(`${path} line ${index + 1} is not JSON: ${line.slice(0, 200)}`);
      }
    });
}

/** The common shape of every record: field types, ISO timestamp, integer latency. */
export function assertWellFormed(record: LogRecord): void {
  const keys = Object.keys(record);
  for (const key of keys) {
    assert.ok(['timestamp', 'request_id', 'model', 'version', 'operation', 'inputs', 'outputs', 'error', 'latency_us', 'metrics', 'timing'].includes(key), `unexpected key ${key}`);
  }
  assert.equal(typeof record.timestamp, 'string');
  assert.match(record.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.ok(Math.abs(Date.parse(record.timestamp) - Date.now()) < 10 * 60_000, `timestamp ${record.timestamp} is recent`);
  assert.ok(record.request_id === null || typeof record.request_id === 'string');
  assert.equal(typeof record.model, 'string');
  assert.equal(typeof record.version, 'string');
  assert.ok(['predict', 'predict_batch', 'infer'].includes(record.operation), record.operation);
  assert.ok(Number.isInteger(record.latency_us) && record.latency_us > 0, `latency_us ${record.latency_us} is a positive integer`);
  assert.ok(!('outputs' in record && 'error' in record), 'outputs or error, not both');
  if (record.error) {
    assert.equal(typeof record.error.type, 'string');
    assert.equal(typeof record.error.message, 'string');
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// A receiver for the http destination.

export interface Batch {
  headers: http.IncomingHttpHeaders;
  records: LogRecord[];
}

export interface Receiver {
  /** The URL to configure (fixed across down/up). */
  readonly url: string;
  readonly port: number;
  /** Batches accepted (answered 2xx) so far. */
  readonly batches: Batch[];
  /** Requests seen, accepted or not. */
  readonly attempts: number;
  records(): LogRecord[];
  /** What to answer: 200 (default) or an error status; a failing answer does not keep the batch. */
  status: number;
  /** Stops listening: the port is closed (connection refused). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
}

/** A node:http receiver on 127.0.0.1; `startDown` reserves a port and leaves it closed. */
export async function startReceiver(options: { startDown?: boolean } = {}): Promise<Receiver> {
  const batches: Batch[] = [];
  let attempts = 0;
  let server: http.Server | undefined;
  const state = { status: 200 };
  const listen = (port: number) =>
    new Promise<http.Server>((resolve, reject) => {
      const s = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          attempts++;
          if (state.status >= 200 && state.status < 300) {
            batches.push({ headers: req.headers, records: JSON.parse(Buffer.concat(chunks).toString('utf8')) as LogRecord[] });
          }
          res.statusCode = state.status;
          res.end();
        });
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  server = await listen(0);
  const port = (server.address() as AddressInfo).port;
  const down = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  };
  if (options.startDown) await down();
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    port,
    batches,
    get attempts() {
      return attempts;
    },
    records: () => batches.flatMap((batch) => batch.records),
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    down,
    up: async () => {
      server ??= await listen(port);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// Metrics.

/** A counter's value for the label values given (other labels ignored, summed). */
export async function metricValue(service: Service, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = service.metrics.registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} is registered`);
  const values = (await metric.get()).values as { labels: Record<string, string | number>; value: number }[];
  return values.filter((v) => Object.entries(labels).every(([key, value]) => v.labels[key] === value)).reduce((sum, v) => sum + v.value, 0);
}
