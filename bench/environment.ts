/**
 * What the benchmarks share about their environment: reading numeric settings from the environment, the machine and
 * package versions printed above every table, progress lines on stderr, and how a run ends (results file, exit code).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Child } from './children.ts';
import { machine as hostMachine } from '../src/loadtest/machine.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A whole number from the environment, `fallback` when unset; anything else outside 1..max stops the run. */
export function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}, got '${text}'`);
  return value;
}

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/** `longshore bench`'s machine (src/loadtest/machine.ts), with the versions of the load generator and onnxruntime. */
export function machine() {
  const { cpu, cores, memoryGiB, platform, node } = hostMachine();
  return { cpu, cores, memoryGiB, platform, node, onnxruntimeNode: packageVersion('onnxruntime-node'), autocannon: packageVersion('autocannon') };
}

/** The `Machine:` line above a table. */
export function machineLine(host: ReturnType<typeof machine>): string {
  return (
    `Machine: ${host.cpu}, ${host.cores} cores, ${host.memoryGiB} GiB, ${host.platform}; Node ${host.node}, ` +
    `onnxruntime-node ${host.onnxruntimeNode}, autocannon ${host.autocannon}`
  );
}

export function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

/** Polls `/api/health/ready` every `intervalMs` until it answers 200, or fails after `timeoutMs` with the last answer. */
export async function waitForReady(url: string, timeoutMs: number, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/api/health/ready`);
      await response.arrayBuffer();
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`longshore was not ready within ${timeoutMs} ms (last: ${last})`);
}

/** onnxruntime-node's own session.run loop (bench/session-rate.ts) in a child process; its JSON result line. */
export async function sessionRateInChild(label: string, modelFile: string, fixtureFile: string, seconds: number, iterations: number, batch: number): Promise<unknown> {
  const child = new Child(label, ['--import', 'tsx', 'bench/session-rate.ts', modelFile, fixtureFile, String(seconds), String(iterations), String(batch)], ROOT);
  try {
    await child.finished(60_000);
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as unknown;
  } finally {
    await child.stop();
  }
}

/** A TCP port free right now on 127.0.0.1 (the server is told it, since its log does not go to a pipe we read). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** The run must end by itself: after `limitMs`, everything is killed (children.ts kills the children on exit). */
export function startWatchdog(limitMs: number): NodeJS.Timeout {
  const watchdog = setTimeout(() => {
    log(`watchdog: still running after ${limitMs / 1000} s, killing child processes`);
    process.exit(1);
  }, limitMs);
  watchdog.unref();
  return watchdog;
}

/** Writes `results` as indented JSON to `file` (an absolute path; its folder is created) and says so on stderr. */
export function writeResults(file: string, results: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${file}`);
}

/**
 * Runs a benchmark's main(), which resolves with the number of problems it saw: exit code 1 when there were any (the
 * table is printed either way). When main() fails: its stack on stderr and exit code 1 (children.ts kills the children).
 */
export function runBench(main: () => Promise<number>): void {
  main().then(
    (problems) => {
      if (problems > 0) process.exitCode = 1;
    },
    (error: unknown) => {
      process.stderr.write(`bench: failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
