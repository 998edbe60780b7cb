/**
 * Runs the fuzzer against a real server: starts longshore in-process on 127.0.0.1 port 0, drives fast-check over the
 * requests derived from its OpenAPI document, and judges every answer (checks.ts).
 *
 * Modes (environment):
 * - CI (`npm test`): FUZZ_SEED fixed (below), a bounded number of runs per property, so the suite stays under 60 s.
 * - Long (`npm run test:fuzz`, `npm run test:slow`, FUZZ_MODE=long): 66× the runs and a fresh seed each time (CI sets
 *   its own FUZZ_SEED, so its long run is reproducible too).
 * - FUZZ_RUNS: requests of each main property (CI_RUNS in CI); the other properties scale with it. FUZZ_SEED: the seed.
 * - FUZZ_COLLECT=1: never stop at the first failure; print every failure class with a curl repro at the end.
 * A failure prints the one command that replays it (its seed, its path in fast-check's tree, the test and the file):
 *   FUZZ_SEED=<seed> FUZZ_PATH=<path> node --import tsx --test --test-name-pattern '<test name>' test/fuzz/<file>.test.ts
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RunningServer } from '../../src/server.ts';
import { startServerFromFile } from '../helpers/server.ts';
import { failureClass, judge, type Verdict } from './checks.ts';
import { repro, send, type FuzzRequest, type FuzzResponse } from './wire.ts';

/** The CI seed: fixed, so `npm test` is deterministic. */
export const CI_SEED = 14;

export interface FuzzSettings {
  seed: number;
  runs: number;
  path?: string;
}

/**
 * Runs of the main property in CI mode (`npm test`); FUZZ_RUNS sets it, and every other property scales with it. CI
 * also runs the long mode (`npm run test:slow`), so `npm test`'s pass is a quick one.
 */
export const CI_RUNS = 150;

/** The long mode's factor on CI_RUNS. */
const LONG_FACTOR = 66;

/** What the environment asks of this run: one seed for every property, the factor on their CI runs, a replay path. */
export interface FuzzEnvironment {
  seed: number;
  factor: number;
  path?: string;
  /** FUZZ_COLLECT=1: collect failure classes instead of stopping at the first. */
  collect: boolean;
}

/** A whole number from the environment, undefined when unset; anything else (or one below `min`) throws `must`. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, min: number, must: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`${name} must be ${must}, got '${text}'`);
  return value;
}

/** Reads FUZZ_MODE, FUZZ_SEED, FUZZ_RUNS, FUZZ_PATH and FUZZ_COLLECT; an unusable number says which and why. */
export function fuzzEnvironment(env: NodeJS.ProcessEnv): FuzzEnvironment {
  const long = env.FUZZ_MODE === 'long';
  const runs = wholeNumber(env, 'FUZZ_RUNS', 1, 'a whole number of requests, at least 1');
  return {
    seed: wholeNumber(env, 'FUZZ_SEED', Number.MIN_SAFE_INTEGER, 'a whole number (the seed a failure printed)') ?? (long ? Date.now() % 2 ** 31 : CI_SEED),
    factor: runs !== undefined ? runs / CI_RUNS : long ? LONG_FACTOR : 1,
    ...(env.FUZZ_PATH ? { path: env.FUZZ_PATH } : {}),
    collect: env.FUZZ_COLLECT === '1',
  };
}

/** Read once: a long run's fresh seed is the same for every property and in the summary. */
const ENVIRONMENT = fuzzEnvironment(process.env);

/** The settings of a property that runs `ciRuns` times in CI mode: 20× that in long mode, scaled by FUZZ_RUNS / CI_RUNS when set. */
export function settings(ciRuns: number): FuzzSettings {
  const runs = Math.max(1, Math.round(ciRuns * ENVIRONMENT.factor));
  return { seed: ENVIRONMENT.seed, runs, ...(ENVIRONMENT.path ? { path: ENVIRONMENT.path } : {}) };
}

export interface FuzzServer {
  server: RunningServer;
  base: URL;
  close(): Promise<void>;
}

/**
 * Exceptions nobody caught while a fuzz server runs in this process (a bug, fatal to a server without a handler):
 * each is charged to the request in flight when it is seen, so the failure comes with a repro.
 */
const uncaught: Error[] = [];
/** The request before the one in flight: an exception raised after its answer may only be seen during the next one. */
let previous: FuzzRequest | undefined;
const onUncaught = (error: Error): void => void uncaught.push(error);

/** Starts longshore on 127.0.0.1:0 over a config file and waits until every model has loaded. */
export async function startFuzzServer(configFile: string): Promise<FuzzServer> {
  const server = await startServerFromFile(configFile);
  process.on('uncaughtException', onUncaught);
  return {
    server,
    base: new URL(server.url),
    close: async () => {
      await server.close();
      process.removeListener('uncaughtException', onUncaught);
      assert.deepEqual(uncaught.splice(0).map(String), [], 'uncaught exceptions in the server after the last request');
    },
  };
}

/** What a run saw: answers per status, tolerated known-open failures per id, failure classes (collect mode). */
export interface FuzzReport {
  statuses: Map<number, number>;
  tolerated: Map<string, number>;
  failures: Map<string, { count: number; repro: string; problems: string[] }>;
}

export function newReport(): FuzzReport {
  return { statuses: new Map(), tolerated: new Map(), failures: new Map() };
}

/**
 * Judges one exchange. Throws (with a curl repro) on an untolerated problem, unless collecting; tolerated known-open
 * failures are counted. `res` undefined: no answer at all (the error says why).
 */
export function record(report: FuzzReport, base: URL, req: FuzzRequest, res: FuzzResponse | undefined, error?: Error): void {
  const before = previous === undefined ? '' : ` (raised serving this request or the one before: ${repro(base, previous)})`;
  previous = req;
  const thrown = uncaught.splice(0).map((e) => `uncaught exception in the server (a bug, whatever handler catches it): ${String(e)}${before}`);
  const verdict: Verdict = res === undefined ? { problems: [`no answer: ${error?.message ?? 'connection closed'}`, ...thrown] } : judge(req, res, thrown);
  if (res !== undefined) report.statuses.set(res.status, (report.statuses.get(res.status) ?? 0) + 1);
  if (verdict.problems.length === 0) return;
  if (verdict.tolerated) {
    report.tolerated.set(verdict.tolerated.id, (report.tolerated.get(verdict.tolerated.id) ?? 0) + 1);
    return;
  }
  const text = `${verdict.problems.join('; ')}\n  request: ${req.label}\n  repro: ${repro(base, req)}`;
  if (ENVIRONMENT.collect) {
    const key = failureClass(req, res, verdict.problems);
    const seen = report.failures.get(key);
    if (seen) seen.count++;
    else report.failures.set(key, { count: 1, repro: repro(base, req), problems: verdict.problems });
    return;
  }
  throw new Error(text);
}

/** Sends one request and judges its answer (a refusal by node:http's own client is skipped: nothing was sent). */
export async function exchange(report: FuzzReport, base: URL, req: FuzzRequest): Promise<void> {
  let res: FuzzResponse;
  try {
    res = await send(base, req);
  } catch (error) {
    if ((error as { clientSide?: boolean }).clientSide) return;
    record(report, base, req, undefined, error as Error);
    return;
  }
  // Let what the request left behind on the server run before judging it: after an early error answer the server may
  // still be reading (and decoding) the rest of the body, and a failure there comes after the answer.
  await new Promise((resolve) => (res.status >= 400 && req.body !== undefined ? setTimeout(resolve, 5) : setImmediate(resolve)));
  record(report, base, req, res);
}

/** Where a property runs, for the replay command: the test file and the test's name. */
export interface Where {
  file: string;
  test: string;
}

/** The command that replays one failure exactly. */
function replayCommand(where: Where, seed: number, path: string | undefined): string {
  const file = where.file.slice(where.file.indexOf('test/fuzz/'));
  return `FUZZ_SEED=${seed} FUZZ_PATH=${path ?? ''} node --import tsx --test --test-name-pattern '${where.test.replace(/'/g, '.')}' ${file}`;
}

/** Checks `property` with `options`; a failure throws with the command that replays it (seed, path) and its error. */
export async function checkProperty<Ts>(property: fc.IAsyncProperty<Ts>, options: FuzzSettings, where: Where, what = 'fuzz failure'): Promise<void> {
  const result = await fc.check(property, { seed: options.seed, numRuns: options.runs, ...(options.path ? { path: options.path } : {}), endOnFailure: false });
  if (result.failed) {
    const error = result.errorInstance as Error | undefined;
    throw new Error(`${what} after ${result.numRuns} run(s); replay: ${replayCommand(where, result.seed, result.counterexamplePath ?? undefined)}\n${error?.message ?? String(result.errorInstance)}`);
  }
}

/**
 * fast-check over `requests`: each generated request is sent and judged. On failure the error names the seed and
 * path to replay (FUZZ_SEED, FUZZ_PATH) and the shrunk request as a curl command.
 */
export async function fuzz(report: FuzzReport, base: URL, requests: fc.Arbitrary<FuzzRequest>, options: FuzzSettings, where: Where): Promise<void> {
  const shown = requests.map((req) => Object.assign(req, { [fc.toStringMethod]: () => repro(base, req) }));
  await checkProperty(fc.asyncProperty(shown, async (req) => exchange(report, base, req)), options, where);
}

/** Multi-line summary of a report (statuses seen, tolerated known-open classes, collected failure classes). */
export function summary(report: FuzzReport): string {
  const statuses = [...report.statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ');
  const tolerated = [...report.tolerated].map(([id, count]) => `${id}×${count}`).join(' ');
  const failures = [...report.failures].sort(([, a], [, b]) => b.count - a.count).map(([key, f]) => `  [${f.count}] ${key}\n      ${f.problems.join('; ').slice(0, 400)}\n      ${f.repro.slice(0, 900)}`);
  return [`seed ${ENVIRONMENT.seed}; statuses: ${statuses}`, tolerated ? `tolerated known-open: ${tolerated}` : '', failures.length ? `failure classes:\n${failures.join('\n')}` : ''].filter(Boolean).join('\n');
}
