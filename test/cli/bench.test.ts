/**
 * `longshore bench` on the fixture ONNX model (--model iris=file.onnx, no config) and on one model of the example
 * config: with --json stdout holds only the JSON document, every row is there with its breakdown, and the numbers are
 * consistent (parts ≤ whole, rows/s = req/s × rows per request). Not a timed test: tiny durations, no speed asserted.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.ts';
import { EXAMPLE_CONFIG, REPO_ROOT } from '../helpers/service.ts';
import type { BenchReport } from '../../src/loadtest/report.ts';

const IRIS_ONNX = join(REPO_ROOT, 'test/fixtures/onnx/iris_logreg.onnx');

/** Runs the command with --json; stdout must parse as one JSON document. */
async function benchJson(args: readonly string[]): Promise<BenchReport> {
  const result = await runCli(['bench', '--duration', '0.5s', '--concurrency', '1,4', '--json', ...args], { timeoutMs: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.trimStart().startsWith('{'), `stdout is not only JSON:\n${result.stdout}`);
  assert.match(result.stderr, /\| c \| req\/s \| rows\/s \| p50 ms \| p99 ms \|/, 'the table goes to stderr');
  return JSON.parse(result.stdout) as BenchReport;
}

/** The consistency every row must have. */
function assertConsistent(report: BenchReport, model: string): void {
  const entry = report.models.find((candidate) => candidate.name === model);
  assert.ok(entry, `${model} is in the report`);
  assert.equal(entry.skipped, null);
  assert.deepEqual(entry.rows.map((row) => row.concurrency), [1, 4]);
  assert.ok(entry.rowsPerRequest >= 1);
  for (const row of entry.rows) {
    const at = `c=${row.concurrency}`;
    assert.deepEqual(row.problems, [], at);
    assert.ok(row.requests > 0 && row.requestsPerSecond > 0, at);
    assert.ok(Math.abs(row.rowsPerSecond - row.requestsPerSecond * entry.rowsPerRequest) < 1e-6, `${at}: rows/s = req/s × rows`);
    assert.ok(Math.abs(row.requestsPerSecond - row.requests / row.durationS) < 1e-6, `${at}: req/s = requests / duration`);
    const { mean, p50, p99 } = row.latencyMs;
    assert.ok(mean !== null && p50 !== null && p99 !== null && p50 <= p99, at);
    // This server sends no Server-Timing yet: the breakdown comes from /metrics, decode/encode/HTTP are n/a.
    const b = row.breakdown;
    assert.ok(b.source === 'metrics' || b.source === 'server-timing', at);
    assert.ok(b.queueMs !== null && b.modelMs !== null && b.batchSize !== null, at);
    const parts = (b.decodeMs ?? 0) + b.queueMs + b.modelMs + (b.encodeMs ?? 0);
    assert.ok(parts <= (b.totalMs ?? mean) + 1e-6, `${at}: parts ${parts} ≤ whole ${b.totalMs ?? mean}`);
    if (b.totalMs !== null) assert.ok(b.totalMs <= mean + 1e-6, at);
    assert.ok(b.batchSize >= 1 && b.batchSize <= row.concurrency * entry.rowsPerRequest, `${at}: batch size ${b.batchSize}`);
    assert.ok(row.servedVsInProcess !== null && row.servedVsInProcess > 0, at);
  }
  assert.ok(entry.inProcess.some((rate) => rate.batchSize === 1 && rate.rowsPerSecond > 0), 'the bare model at batch 1');
}

describe('longshore bench', { concurrency: true }, () => {
  it('measures an ONNX file given with --model name=file.onnx, no config, over REST', async () => {
    const report = await benchJson(['--model', `iris=${IRIS_ONNX}`]);
    assert.equal(report.settings.server, 'in-process');
    assert.equal(report.settings.protocol, 'rest');
    assert.deepEqual(report.settings.concurrency, [1, 4]);
    assert.ok(report.machine.cores >= 1 && typeof report.machine.cpu === 'string');
    assert.deepEqual(report.models.map((model) => model.name), ['iris']);
    assertConsistent(report, 'iris');
  });

  it('measures one model of the example config, picked with --model name, over V2 binary', async () => {
    const report = await benchJson(['--config', EXAMPLE_CONFIG, '--model', 'iris_onnx', '--protocol', 'v2-binary']);
    assert.deepEqual(report.models.map((model) => model.name), ['iris_onnx']);
    assertConsistent(report, 'iris_onnx');
  });

  it('measures a Hugging Face model over gRPC through the client, its own gRPC port opened in-process', async () => {
    const report = await benchJson(['--model', `sentiment=${join(REPO_ROOT, 'test/fixtures/hf/tiny-bert-sentiment')}`, '--protocol', 'grpc']);
    assert.equal(report.settings.protocol, 'grpc');
    assertConsistent(report, 'sentiment');
  });

  it('refuses --protocol grpc with --url but no --grpc address (exit 2)', async () => {
    const result = await runCli(['bench', '--url', 'http://127.0.0.1:9', '--protocol', 'grpc', '--duration', '0.2s'], { timeoutMs: 30_000 });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--protocol grpc with --url needs --grpc host:port/);
  });

  it('refuses a model name the server does not have (exit 2, naming the models it has)', async () => {
    const result = await runCli(['bench', '--model', 'nope', '--model', `iris=${IRIS_ONNX}`, '--duration', '0.2s'], { timeoutMs: 30_000 });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--model nope: no such model .* it serves iris/);
    assert.equal(result.stdout, '');
  });

  it('refuses a bad --concurrency or --duration with exit 2 and the form it takes', async () => {
    const concurrency = await runCli(['bench', '--concurrency', '0,8']);
    assert.equal(concurrency.code, 2);
    assert.match(concurrency.stderr, /whole numbers from 1 to 1024/);
    const duration = await runCli(['bench', '--duration', 'soon']);
    assert.equal(duration.code, 2);
    assert.match(duration.stderr, /such as 10s, 500ms or 1m/);
  });
});
