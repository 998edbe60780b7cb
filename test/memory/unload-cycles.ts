/**
 * Shared by the unload-cycle tests: runs unload-cycles-child.ts in a child process with --expose-gc and checks that
 * RSS stays flat once the process has warmed up (cycles 10-19 against the last 10, medians: RSS after unload is noisy,
 * most of all with worker threads, whose stacks and allocator arenas come and go).
 *
 * The bounds: mlp_heavy.onnx is 10.5 MB, and a session holds at least that (its initializers). A session leaked per
 * cycle would add ≥ 10.5 MB × 30 cycles (315 MB) between the two windows in-process, and twice that with workers: 2.
 * Measured (2 cores, Node 20): +0.2 to +7.5 MB in-process; -21 to -9 MB with workers: 2 (the windows' medians swing by
 * ±25 MB with thread churn). The bounds, 32 MB and 64 MB, sit well above the noise and well below one leaked session
 * per cycle.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/service.ts';

export const MLP_HEAVY = join(REPO_ROOT, 'test/fixtures/onnx/mlp_heavy.onnx');
const CHILD = join(import.meta.dirname, 'unload-cycles-child.ts');
/** The repository API's cycles (repository-cycles*.test.ts): unload and load over HTTP on a real server. */
export const REPOSITORY_CHILD = join(import.meta.dirname, 'repository-cycles-child.ts');
const MB = 2 ** 20;

export interface CycleResult {
  baseline: number;
  rss: number[];
  /** The session estimate (unload-cycles-child.ts). */
  estimate?: number;
  /** The main thread's used heap after each cycle (repository-cycles-child.ts). */
  heap?: number[];
}

/** Runs `child` (unload-cycles-child.ts by default) over mlp_heavy.onnx with `workers` and `cycles`. */
export async function runCycles(workers: number, cycles: number, child = CHILD): Promise<CycleResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', child, MLP_HEAVY, String(workers), String(cycles)], {
    cwd: REPO_ROOT,
    timeout: 180_000,
  });
  return JSON.parse(stdout) as CycleResult;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Asserts RSS growth from cycles 10-19 to the last 10 stays under `boundMb`; returns the growth in MB, for the log. */
export function assertFlat(result: CycleResult, boundMb: number): number {
  assert.ok(result.rss.length >= 20, 'at least 20 cycles');
  const growth = (median(result.rss.slice(-10)) - median(result.rss.slice(10, 20))) / MB;
  assert.ok(growth < boundMb, `RSS grew ${growth.toFixed(1)} MB from cycles 10-19 to the last 10 (bound ${boundMb} MB): ${result.rss.map((r) => (r / MB).toFixed(0)).join(' ')}`);
  return growth;
}
