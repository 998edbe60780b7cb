/**
 * The batcher (src/batching/batcher.ts): policies eager, timed and off; row-counted batch sizes; maxConcurrency; the
 * queue limit; deadlines and cancellation of queued and running jobs; error fan-out; keys; the observer.
 *
 * Time is virtual: node:test's mock timers drive setImmediate, setTimeout and Date, and performance.now() (which the
 * mock timers do not cover) is mocked to read the same virtual clock. Promise chains are drained with the real
 * setImmediate, captured before the mock replaces it, so the virtual clock only moves when a test ticks it.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import {
  Batcher,
  Cancellation,
  QUEUE_FULL_RETRY_AFTER_SECONDS,
  type BatchExecutor,
  type BatchObserver,
  type BatcherOptions,
  type RejectionReason,
} from '../../src/batching/batcher.ts';
import { DeadlineExceededError, QueueFullError, RequestCancelledError } from '../../src/errors.ts';

const realSetImmediate = globalThis.setImmediate;

// ---------------------------------------------------------------------------------------------------------------------
// Virtual time
// ---------------------------------------------------------------------------------------------------------------------

/** Lets every promise chain run to completion, with the virtual clock frozen (real immediates only). */
/** A signal cancelled before its job is submitted. */
function cancelled(): Cancellation {
  const cancellation = new Cancellation();
  cancellation.cancel();
  return cancellation;
}

async function drain(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => realSetImmediate(resolve));
}

/** Fires the virtual immediates that are due (and those they schedule) and drains promises, without moving the clock. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    mock.timers.tick(0);
    await drain();
  }
}

/** Moves the virtual clock by `ms` (every callback due fires), then settles. */
async function advance(ms: number): Promise<void> {
  mock.timers.tick(ms);
  await settle();
}

// ---------------------------------------------------------------------------------------------------------------------
// A fake executor
// ---------------------------------------------------------------------------------------------------------------------

interface Job {
  readonly id: string;
  readonly values: readonly number[];
  readonly key: string | undefined;
}

interface Result {
  readonly id: string;
  readonly out: number[];
}

/** A job of `values.length` rows; key 'm' unless given (null: no key, the job always runs alone). */
function job(id: string, values: readonly number[], key: string | null = 'm'): Job {
  return { id, values, key: key ?? undefined };
}

/** What the fake executor answers for a job: its id and its values times ten. */
function expected(j: Job): Result {
  return { id: j.id, out: j.values.map((value) => value * 10) };
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

class FakeExecutor implements BatchExecutor<Job, Result> {
  /** The ids of the jobs of each run() call, in call order. */
  readonly runs: string[][] = [];
  /** When true, each run waits until released (`release(runIndex)`). */
  hold = false;
  /** Every run throws this. */
  failWith: Error | undefined;
  /** A run that holds this job id throws. */
  failWhenPresent: string | undefined;
  /** Replaces the results a run returns (to return the wrong number of them). */
  answer: ((jobs: readonly Job[], results: Result[]) => unknown) | undefined;
  readonly #gates = new Map<number, Deferred>();

  rows(j: Job): number {
    return j.values.length;
  }

  key(j: Job): string | undefined {
    return j.key;
  }

  async run(jobs: readonly Job[]): Promise<Result[]> {
    const index = this.runs.length;
    this.runs.push(jobs.map((j) => j.id));
    if (this.hold) {
      const gate = deferred();
      this.#gates.set(index, gate);
      await gate.promise;
    }
    if (this.failWith) throw this.failWith;
    if (this.failWhenPresent !== undefined && jobs.some((j) => j.id === this.failWhenPresent)) {
      throw new Error(`job ${this.failWhenPresent} holds a row the model cannot take`);
    }
    const results = jobs.map(expected);
    return (this.answer ? this.answer(jobs, results) : results) as Result[];
  }

  /** Lets the held run number `index` (0-based, in call order) return. */
  release(index: number): void {
    const gate = this.#gates.get(index);
    assert.ok(gate, `run ${index} is not held`);
    gate.resolve();
  }

  /** Lets every held run return, and stops holding new ones. */
  releaseAll(): void {
    this.hold = false;
    for (const gate of this.#gates.values()) gate.resolve();
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// Observer, options, outcomes
// ---------------------------------------------------------------------------------------------------------------------

function recordingObserver() {
  const depths: number[] = [];
  const waited: number[] = [];
  const ran: [rows: number, seconds: number][] = [];
  const rejected: RejectionReason[] = [];
  const observer: BatchObserver = {
    queueDepth: (rows) => depths.push(rows),
    waited: (seconds) => waited.push(seconds),
    ran: (rows, seconds) => ran.push([rows, seconds]),
    rejected: (reason) => rejected.push(reason),
  };
  return { observer, depths, waited, ran, rejected };
}

const LABEL = "model 'iris'";

function options(overrides: Partial<BatcherOptions> = {}): BatcherOptions {
  return { policy: 'eager', maxBatchSize: 64, maxLatencyMs: 0, maxQueueSize: 1000, maxConcurrency: 1, label: LABEL, ...overrides };
}

interface Outcome<T> {
  status: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  error?: unknown;
}

/** Watches a promise from the moment it exists (so no rejection is ever unhandled) and records how it settled. */
function track<T>(promise: Promise<T>): Outcome<T> {
  const outcome: Outcome<T> = { status: 'pending' };
  promise.then(
    (value) => {
      outcome.status = 'fulfilled';
      outcome.value = value;
    },
    (error: unknown) => {
      outcome.status = 'rejected';
      outcome.error = error;
    },
  );
  return outcome;
}

function assertFulfilled<T>(outcome: Outcome<T>, value: T, message?: string): void {
  assert.equal(outcome.status, 'fulfilled', message ?? `expected fulfilled, got ${outcome.status} ${String(outcome.error)}`);
  assert.deepEqual(outcome.value, value, message);
}

function assertRejected<T>(outcome: Outcome<T>, check: (error: unknown) => void): void {
  assert.equal(outcome.status, 'rejected', `expected rejected, got ${outcome.status}`);
  check(outcome.error);
}

function isDeadline(pattern: RegExp) {
  return (error: unknown): void => {
    assert.ok(error instanceof DeadlineExceededError, `expected DeadlineExceededError, got ${String(error)}`);
    assert.equal(error.status, 504);
    assert.equal(error.type, 'DeadlineExceededError');
    assert.match(error.message, pattern);
  };
}

function isCancelled(error: unknown): void {
  assert.ok(error instanceof RequestCancelledError, `expected RequestCancelledError, got ${String(error)}`);
  assert.equal(error.status, 499);
  assert.equal(error.type, 'RequestCancelledError');
  assert.match(error.message, /client closed the connection while its request waited in the queue of model 'iris'/);
}

// ---------------------------------------------------------------------------------------------------------------------

const unexpected: unknown[] = [];
const onUnexpected = (error: unknown): void => {
  unexpected.push(error);
};

beforeEach(() => {
  unexpected.length = 0;
  process.on('unhandledRejection', onUnexpected);
  process.on('uncaughtException', onUnexpected);
  mock.timers.enable({ apis: ['setImmediate', 'setTimeout', 'Date'] });
  mock.method(performance, 'now', () => Date.now());
});

afterEach(async () => {
  await drain();
  mock.timers.reset();
  mock.restoreAll();
  process.off('unhandledRejection', onUnexpected);
  process.off('uncaughtException', onUnexpected);
  assert.deepEqual(unexpected, [], 'no unhandled rejection or uncaught exception');
});

describe('virtual clock', () => {
  it('drives performance.now(), Date.now() and setTimeout from the same virtual time', async () => {
    assert.equal(performance.now(), 0);
    assert.equal(Date.now(), 0);
    let firedAt: number | undefined;
    setTimeout(() => (firedAt = performance.now()), 2);
    await drain();
    assert.equal(firedAt, undefined, 'real time passing does not move the virtual clock');
    mock.timers.tick(1.5);
    assert.equal(performance.now(), 1.5);
    assert.equal(firedAt, undefined);
    mock.timers.tick(0.5);
    assert.equal(firedAt, 2);
    assert.equal(performance.now(), 2);
  });
});

describe('Batcher construction', () => {
  it('refuses a maxBatchSize that is not a positive integer and a maxConcurrency below 1', () => {
    const executor = new FakeExecutor();
    assert.throws(() => new Batcher(executor, options({ maxBatchSize: 0 })), RangeError);
    assert.throws(() => new Batcher(executor, options({ maxBatchSize: 1.5 })), RangeError);
    assert.throws(() => new Batcher(executor, options({ maxConcurrency: 0 })), RangeError);
    assert.throws(() => new Batcher(executor, options({ maxConcurrency: Number.NaN })), RangeError);
    assert.doesNotThrow(() => new Batcher(executor, options({ maxBatchSize: 1, maxConcurrency: Infinity })));
  });
});

describe('policy eager', () => {
  it('runs the jobs submitted in the same turn as one batch at the next setImmediate, not before', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options());
    const jobs = [job('a', [1, 2]), job('b', [3]), job('c', [4, 5, 6])];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    assert.deepEqual(executor.runs, []);
    assert.equal(batcher.queuedRows, 6);
    await drain();
    assert.deepEqual(executor.runs, [], 'promise turns alone do not start the batch: it waits for setImmediate');
    mock.timers.tick(0);
    assert.deepEqual(executor.runs, [['a', 'b', 'c']]);
    assert.equal(batcher.queuedRows, 0);
    assert.equal(batcher.running, 1);
    await settle();
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, expected(jobs[i] as Job)));
    assert.equal(batcher.running, 0);
  });

  it('gives each caller exactly its own results, in row order', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options());
    const jobs = [job('a', [11, 12, 13]), job('b', [21]), job('c', [31, 32]), job('d', [41, 42, 43, 44])];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b', 'c', 'd']]);
    assertFulfilled(outcomes[0] as Outcome<Result>, { id: 'a', out: [110, 120, 130] });
    assertFulfilled(outcomes[1] as Outcome<Result>, { id: 'b', out: [210] });
    assertFulfilled(outcomes[2] as Outcome<Result>, { id: 'c', out: [310, 320] });
    assertFulfilled(outcomes[3] as Outcome<Result>, { id: 'd', out: [410, 420, 430, 440] });
  });

  it('queues the jobs arriving while a batch runs and runs them together as the next batch', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ maxConcurrency: 1 }));
    const first = track(batcher.submit(job('a', [1])));
    await settle();
    assert.deepEqual(executor.runs, [['a']]);
    const b = track(batcher.submit(job('b', [2])));
    const c = track(batcher.submit(job('c', [3, 4])));
    await advance(5);
    assert.deepEqual(executor.runs, [['a']], 'nothing else runs while the first batch is in flight');
    assert.equal(batcher.queuedRows, 3);
    assert.equal(first.status, 'pending');
    executor.release(0);
    await settle();
    assertFulfilled(first, { id: 'a', out: [10] });
    assert.deepEqual(executor.runs, [['a'], ['b', 'c']]);
    executor.release(1);
    await settle();
    assertFulfilled(b, { id: 'b', out: [20] });
    assertFulfilled(c, { id: 'c', out: [30, 40] });
  });

  it('counts rows, not jobs, against maxBatchSize: a 10-row job fills a batch of 10', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxBatchSize: 10, maxConcurrency: Infinity }));
    const ten = Array.from({ length: 10 }, (_, i) => i + 1);
    const jobs = [job('ten', ten), job('one', [100]), job('three', [200, 201, 202]), job('seven', [300, 301, 302, 303, 304, 305, 306])];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    await settle();
    assert.deepEqual(executor.runs, [['ten'], ['one', 'three'], ['seven']]);
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, expected(jobs[i] as Job)));
  });

  it('keeps queue order across batches capped by rows (port of the eager batcher test)', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxBatchSize: 4 }));
    const jobs = [job('a', [1, 2, 3]), job('b', [4, 5]), job('c', [6]), job('d', [7])];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    await settle();
    assert.deepEqual(executor.runs, [['a'], ['b', 'c', 'd']]);
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, expected(jobs[i] as Job)));
  });

  it('runs a job larger than maxBatchSize alone', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxBatchSize: 4 }));
    const jobs = [job('a', [1]), job('big', [2, 3, 4, 5, 6, 7, 8, 9, 10]), job('c', [11]), job('d', [12])];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    await settle();
    assert.deepEqual(executor.runs, [['a'], ['big'], ['c', 'd']]);
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, expected(jobs[i] as Job)));
  });
});

describe('policy timed', () => {
  it('runs nothing before maxLatencyMs has passed since the oldest queued job', async () => {
    const executor = new FakeExecutor();
    const { observer, waited } = recordingObserver();
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 8, maxLatencyMs: 2, observer }));
    const a = track(batcher.submit(job('a', [1, 2])));
    await settle();
    assert.deepEqual(executor.runs, []);
    await advance(1);
    await advance(0.5);
    await advance(0.25);
    assert.deepEqual(executor.runs, [], 'still waiting at t=1.75');
    assert.equal(a.status, 'pending');
    await advance(0.25);
    assert.deepEqual(executor.runs, [['a']]);
    assert.deepEqual(waited, [0.002], 'the batch started at exactly t=2 ms');
    assertFulfilled(a, { id: 'a', out: [10, 20] });
  });

  it('measures the latency from the oldest queued job, not the newest', async () => {
    const executor = new FakeExecutor();
    const { observer, waited } = recordingObserver();
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 8, maxLatencyMs: 2, observer }));
    const a = track(batcher.submit(job('a', [1])));
    await advance(1.5);
    const b = track(batcher.submit(job('b', [2])));
    await advance(0.25);
    assert.deepEqual(executor.runs, [], 'nothing at t=1.75');
    await advance(0.25);
    assert.deepEqual(executor.runs, [['a', 'b']], 'A and B run together at t=2 (A queued at 0 + 2 ms), not at t=3.5');
    assert.deepEqual(waited, [0.002, 0.0005]);
    assertFulfilled(a, { id: 'a', out: [10] });
    assertFulfilled(b, { id: 'b', out: [20] });
    await advance(10);
    assert.equal(executor.runs.length, 1, 'no extra run later');
  });

  it('starts a batch as soon as the queued rows of a key reach maxBatchSize, without waiting', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 4, maxLatencyMs: 100 }));
    const a = track(batcher.submit(job('a', [1])));
    const b = track(batcher.submit(job('b', [2, 3])));
    assert.deepEqual(executor.runs, []);
    assert.equal(batcher.queuedRows, 3);
    const c = track(batcher.submit(job('c', [4])));
    assert.deepEqual(executor.runs, [['a', 'b', 'c']], 'started within submit, before any tick');
    assert.equal(batcher.queuedRows, 0);
    await drain();
    assertFulfilled(a, { id: 'a', out: [10] });
    assertFulfilled(b, { id: 'b', out: [20, 30] });
    assertFulfilled(c, { id: 'c', out: [40] });

    // The next job waits its own full latency again.
    await advance(50);
    const d = track(batcher.submit(job('d', [5])));
    await advance(99);
    assert.deepEqual(executor.runs, [['a', 'b', 'c']]);
    await advance(1);
    assert.deepEqual(executor.runs, [['a', 'b', 'c'], ['d']]);
    assertFulfilled(d, { id: 'd', out: [50] });
  });

  it('starts a job of more rows than maxBatchSize at once, alone', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 4, maxLatencyMs: 100 }));
    const big = track(batcher.submit(job('big', [1, 2, 3, 4, 5, 6])));
    assert.deepEqual(executor.runs, [['big']]);
    await drain();
    assertFulfilled(big, { id: 'big', out: [10, 20, 30, 40, 50, 60] });
  });

  it('flushes a full key at once even when the oldest job has another key, which keeps waiting', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 2, maxLatencyMs: 10, maxConcurrency: 1 }));
    const x = track(batcher.submit(job('x', [1], 'kx')));
    await advance(3);
    const y1 = track(batcher.submit(job('y1', [2], 'ky')));
    const y2 = track(batcher.submit(job('y2', [3], 'ky')));
    assert.deepEqual(executor.runs, [['y1', 'y2']]);
    await settle();
    assertFulfilled(y1, { id: 'y1', out: [20] });
    assertFulfilled(y2, { id: 'y2', out: [30] });
    await advance(6);
    assert.deepEqual(executor.runs, [['y1', 'y2']], 'x still waits at t=9');
    await advance(1);
    assert.deepEqual(executor.runs, [['y1', 'y2'], ['x']], 'x runs at t=10, its own deadline for a batch');
    assertFulfilled(x, { id: 'x', out: [10] });
  });

  it('runs an overdue head before a key whose batches keep filling, so no key starves', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 2, maxLatencyMs: 10, maxConcurrency: 1 }));
    track(batcher.submit(job('y1', [1], 'ky')));
    track(batcher.submit(job('y2', [2], 'ky')));
    assert.deepEqual(executor.runs, [['y1', 'y2']], 'a full batch starts at once');
    const x = track(batcher.submit(job('x', [3], 'kx')));
    await advance(11);
    track(batcher.submit(job('y3', [4], 'ky')));
    track(batcher.submit(job('y4', [5], 'ky')));
    executor.releaseAll();
    await drain();
    assert.deepEqual(executor.runs[1], ['x'], 'x waited past max_latency_ms: it goes before the full ky batch');
    executor.releaseAll();
    await drain();
    assert.deepEqual(executor.runs[2], ['y3', 'y4']);
    executor.releaseAll();
    await drain();
    assertFulfilled(x, { id: 'x', out: [30] });
  });

  it('runs a job without a key at once (it can share no batch), then a full batch of a key as soon as a slot frees', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 2, maxLatencyMs: 10, maxConcurrency: 1 }));
    track(batcher.submit(job('u', [1], null)));
    track(batcher.submit(job('y1', [2], 'ky')));
    track(batcher.submit(job('y2', [3], 'ky')));
    assert.deepEqual(executor.runs, [['u']], 'u needs no wait: no other job can join it');
    executor.releaseAll();
    await drain();
    assert.deepEqual(executor.runs, [['u'], ['y1', 'y2']], 'the full batch of ky starts when u is done, before its latency elapses');
    executor.releaseAll();
    await advance(10);
  });

  it('re-plans the latency from the new oldest job when the oldest is cancelled', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ policy: 'timed', maxBatchSize: 8, maxLatencyMs: 2 }));
    const controller = new Cancellation();
    const a = track(batcher.submit(job('a', [1]), { signal: controller }));
    await advance(1);
    const b = track(batcher.submit(job('b', [2])));
    await advance(0.5);
    controller.cancel();
    await drain();
    assertRejected(a, isCancelled);
    await advance(0.5);
    assert.deepEqual(executor.runs, [], 'nothing at t=2: the oldest job is now b, queued at t=1');
    await advance(1);
    assert.deepEqual(executor.runs, [['b']], 'b runs at t=3');
    assertFulfilled(b, { id: 'b', out: [20] });
  });
});

describe('policy off', () => {
  it('runs every job alone, within submit, before any timer tick', async () => {
    const executor = new FakeExecutor();
    const { observer, waited, depths } = recordingObserver();
    const batcher = new Batcher(executor, options({ policy: 'off', maxConcurrency: Infinity, observer }));
    const a = track(batcher.submit(job('a', [1, 2])));
    assert.deepEqual(executor.runs, [['a']], 'the executor was called synchronously by submit');
    const b = track(batcher.submit(job('b', [3])));
    assert.deepEqual(executor.runs, [['a'], ['b']]);
    assert.equal(batcher.running, 2);
    assert.equal(batcher.queuedRows, 0);
    assert.deepEqual(waited, [0, 0]);
    assert.deepEqual(depths, [], 'a job started at once never touched the queue');
    await drain();
    assertFulfilled(a, { id: 'a', out: [10, 20] });
    assertFulfilled(b, { id: 'b', out: [30] });
  });

  it('queues a job while every slot is busy and starts it alone as soon as a slot frees, without a timer', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ policy: 'off', maxConcurrency: 1 }));
    const a = track(batcher.submit(job('a', [1])));
    const b = track(batcher.submit(job('b', [2])));
    const c = track(batcher.submit(job('c', [3])));
    assert.deepEqual(executor.runs, [['a']]);
    assert.equal(batcher.queuedRows, 2);
    executor.release(0);
    await drain(); // promise turns only: no virtual immediate or timer fires
    assertFulfilled(a, { id: 'a', out: [10] });
    assert.deepEqual(executor.runs, [['a'], ['b']], 'b alone, although b and c share a key');
    executor.release(1);
    await drain();
    assert.deepEqual(executor.runs, [['a'], ['b'], ['c']]);
    executor.release(2);
    await drain();
    assertFulfilled(b, { id: 'b', out: [20] });
    assertFulfilled(c, { id: 'c', out: [30] });
  });
});

describe('maxConcurrency', () => {
  it('with 1, a second batch waits until the first finishes', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ maxBatchSize: 2, maxConcurrency: 1 }));
    const a = track(batcher.submit(job('a', [1, 2])));
    const b = track(batcher.submit(job('b', [3, 4])));
    await advance(100);
    assert.deepEqual(executor.runs, [['a']]);
    assert.equal(batcher.running, 1);
    assert.equal(batcher.queuedRows, 2);
    executor.release(0);
    await settle();
    assertFulfilled(a, { id: 'a', out: [10, 20] });
    assert.deepEqual(executor.runs, [['a'], ['b']]);
    assert.equal(batcher.running, 1);
    executor.release(1);
    await settle();
    assertFulfilled(b, { id: 'b', out: [30, 40] });
    assert.equal(batcher.running, 0);
  });

  it('with 2, two batches run at once and a third waits for a free slot', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ maxBatchSize: 1, maxConcurrency: 2 }));
    const outcomes = ['a', 'b', 'c'].map((id, i) => track(batcher.submit(job(id, [i + 1]))));
    await settle();
    assert.deepEqual(executor.runs, [['a'], ['b']]);
    assert.equal(batcher.running, 2);
    assert.equal(batcher.queuedRows, 1);
    executor.release(1);
    await settle();
    assertFulfilled(outcomes[1] as Outcome<Result>, { id: 'b', out: [20] });
    assert.deepEqual(executor.runs, [['a'], ['b'], ['c']]);
    assert.equal(batcher.running, 2);
    executor.releaseAll();
    await settle();
    assertFulfilled(outcomes[0] as Outcome<Result>, { id: 'a', out: [10] });
    assertFulfilled(outcomes[2] as Outcome<Result>, { id: 'c', out: [30] });
  });

  it('with Infinity, every batch starts at once', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ maxBatchSize: 1, maxConcurrency: Infinity }));
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const outcomes = ids.map((id, i) => track(batcher.submit(job(id, [i]))));
    await settle();
    assert.deepEqual(executor.runs, ids.map((id) => [id]));
    assert.equal(batcher.running, 5);
    const late = track(batcher.submit(job('f', [5])));
    await settle();
    assert.equal(batcher.running, 6, 'a job arriving while five batches run starts too');
    executor.releaseAll();
    await settle();
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, { id: ids[i] as string, out: [i * 10] }));
    assertFulfilled(late, { id: 'f', out: [50] });
    assert.equal(batcher.running, 0);
  });
});

describe('queue limit', () => {
  it('refuses at once, with QueueFullError 503 and Retry-After 1, rows that would wait beyond maxQueueSize', async () => {
    const executor = new FakeExecutor();
    const { observer, rejected } = recordingObserver();
    const batcher = new Batcher(executor, options({ maxQueueSize: 3, observer }));
    const a = track(batcher.submit(job('a', [1, 2])));
    const b = track(batcher.submit(job('b', [3])));
    assert.equal(batcher.queuedRows, 3, 'exactly maxQueueSize rows are accepted');
    const refused = track(batcher.submit(job('c', [4])));
    await Promise.resolve();
    await Promise.resolve();
    assertRejected(refused, (error) => {
      assert.ok(error instanceof QueueFullError);
      assert.equal(error.status, 503);
      assert.equal(error.type, 'QueueFullError');
      assert.equal(error.retryAfterSeconds, 1);
      assert.equal(QUEUE_FULL_RETRY_AFTER_SECONDS, 1);
      assert.match(error.message, /the queue of model 'iris' is full \(3 rows waiting, max_queue_size 3\)/);
    });
    assert.equal(batcher.queuedRows, 3);
    assert.deepEqual(rejected, ['queue_full']);
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b']], 'the executor never sees the refused job');
    assertFulfilled(a, { id: 'a', out: [10, 20] });
    assertFulfilled(b, { id: 'b', out: [30] });

    // Room frees as batches take rows.
    const d = track(batcher.submit(job('d', [5, 6, 7])));
    await settle();
    assertFulfilled(d, { id: 'd', out: [50, 60, 70] });
  });

  it('accepts into an empty queue a job larger than maxQueueSize, and refuses what would join it', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxQueueSize: 2 }));
    const big = track(batcher.submit(job('big', [1, 2, 3, 4, 5])));
    assert.equal(batcher.queuedRows, 5);
    await assert.rejects(batcher.submit(job('one', [6])), QueueFullError);
    await settle();
    assertFulfilled(big, { id: 'big', out: [10, 20, 30, 40, 50] });
    assert.deepEqual(executor.runs, [['big']]);
  });

  it('does not count the rows of running batches as waiting', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options({ maxQueueSize: 2, maxConcurrency: 1 }));
    const a = track(batcher.submit(job('a', [1, 2])));
    await settle();
    assert.deepEqual(executor.runs, [['a']]);
    assert.equal(batcher.queuedRows, 0);
    const b = track(batcher.submit(job('b', [3])));
    const c = track(batcher.submit(job('c', [4])));
    assert.equal(batcher.queuedRows, 2, 'two rows wait beside the two running: both accepted');
    await assert.rejects(batcher.submit(job('d', [5])), QueueFullError);
    executor.releaseAll();
    await settle();
    assertFulfilled(a, { id: 'a', out: [10, 20] });
    assertFulfilled(b, { id: 'b', out: [30] });
    assertFulfilled(c, { id: 'c', out: [40] });
    assert.deepEqual(executor.runs, [['a'], ['b', 'c']]);
  });
});

describe('deadlines', () => {
  it('drops a queued job at its deadline: 504 saying it was not run, queue shrinks, the executor never sees it', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const { observer, rejected, depths } = recordingObserver();
    const batcher = new Batcher(executor, options({ maxConcurrency: 1, observer }));
    const a = track(batcher.submit(job('a', [1])));
    await settle();
    const b = track(batcher.submit(job('b', [2, 3]), { timeoutMs: 5 }));
    const c = track(batcher.submit(job('c', [4])));
    assert.equal(batcher.queuedRows, 3);
    await advance(4);
    assert.equal(b.status, 'pending', 'not yet at t=4');
    await advance(1);
    assertRejected(b, isDeadline(/deadline of 5 ms passed after 5 ms waiting in the queue of model 'iris'; the request was not run/));
    assert.equal(batcher.queuedRows, 1);
    assert.deepEqual(depths, [1, 0, 2, 3, 1]);
    assert.deepEqual(rejected, ['deadline']);
    executor.releaseAll();
    await settle();
    assert.deepEqual(executor.runs, [['a'], ['c']]);
    assertFulfilled(a, { id: 'a', out: [10] });
    assertFulfilled(c, { id: 'c', out: [40] });
  });

  it('answers a running job 504 at its deadline, drops its late result, and still answers its batch-mates', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const { observer, rejected } = recordingObserver();
    const batcher = new Batcher(executor, options({ observer }));
    const a = track(batcher.submit(job('a', [1, 2]), { timeoutMs: 10 }));
    const b = track(batcher.submit(job('b', [3])));
    const c = track(batcher.submit(job('c', [4]), { timeoutMs: 1000 }));
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b', 'c']]);
    await advance(9);
    assert.equal(a.status, 'pending');
    await advance(1);
    assertRejected(a, isDeadline(/deadline of 10 ms passed while model 'iris' was still computing \(10 ms since the request was queued\); its result will be dropped/));
    assert.equal(b.status, 'pending');
    assert.deepEqual(rejected, ['deadline']);
    executor.release(0);
    await settle();
    assertRejected(a, isDeadline(/still computing/)); // the late result did not overwrite the rejection
    assertFulfilled(b, { id: 'b', out: [30] });
    assertFulfilled(c, { id: 'c', out: [40] });
    assert.deepEqual(executor.runs, [['a', 'b', 'c']], 'the batch is not re-run');
    await advance(2000);
    assert.deepEqual(rejected, ['deadline'], "c's cleared deadline never fires");
  });

  it('does not run again alone a job whose deadline passed while its failed batch ran', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options());
    const a = track(batcher.submit(job('a', [1]), { timeoutMs: 5 }));
    const b = track(batcher.submit(job('b', [2])));
    await settle();
    await advance(5);
    assertRejected(a, isDeadline(/still computing/));
    executor.failWhenPresent = 'a';
    executor.releaseAll();
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b'], ['b']]);
    assertFulfilled(b, { id: 'b', out: [20] });
  });

  it('sets no deadline for timeoutMs 0 or absent', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const batcher = new Batcher(executor, options());
    const a = track(batcher.submit(job('a', [1]), { timeoutMs: 0 }));
    const b = track(batcher.submit(job('b', [2])));
    await advance(1_000_000);
    assert.equal(a.status, 'pending');
    assert.equal(b.status, 'pending');
    executor.releaseAll();
    await settle();
    assertFulfilled(a, { id: 'a', out: [10] });
    assertFulfilled(b, { id: 'b', out: [20] });
  });
});

describe('cancellation', () => {
  it('drops a queued job whose signal aborts: RequestCancelledError 499, the executor never sees it', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const { observer, rejected, depths } = recordingObserver();
    const batcher = new Batcher(executor, options({ maxConcurrency: 1, observer }));
    const a = track(batcher.submit(job('a', [1])));
    await settle();
    const controller = new Cancellation();
    const b = track(batcher.submit(job('b', [2, 3]), { signal: controller }));
    const c = track(batcher.submit(job('c', [4])));
    assert.equal(batcher.queuedRows, 3);
    controller.cancel();
    await drain();
    assertRejected(b, isCancelled);
    assert.equal(batcher.queuedRows, 1);
    assert.deepEqual(depths, [1, 0, 2, 3, 1]);
    assert.deepEqual(rejected, ['cancelled']);
    executor.releaseAll();
    await settle();
    assert.deepEqual(executor.runs, [['a'], ['c']]);
    assertFulfilled(a, { id: 'a', out: [10] });
    assertFulfilled(c, { id: 'c', out: [40] });
  });

  it('refuses at once a job whose signal is already aborted, without queueing it', async () => {
    const executor = new FakeExecutor();
    const { observer, rejected, depths } = recordingObserver();
    const batcher = new Batcher(executor, options({ observer }));
    const refused = track(batcher.submit(job('a', [1]), { signal: cancelled() }));
    assert.equal(batcher.queuedRows, 0);
    await Promise.resolve();
    await Promise.resolve();
    assertRejected(refused, isCancelled);
    assert.deepEqual(rejected, ['cancelled']);
    assert.deepEqual(depths, []);
    await settle();
    assert.deepEqual(executor.runs, []);
  });

  it('lets a running job finish normally when its signal aborts', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const { observer, rejected } = recordingObserver();
    const batcher = new Batcher(executor, options({ observer }));
    const controller = new Cancellation();
    const a = track(batcher.submit(job('a', [1, 2]), { signal: controller }));
    const b = track(batcher.submit(job('b', [3])));
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b']]);
    controller.cancel();
    await drain();
    assert.equal(a.status, 'pending');
    executor.releaseAll();
    await settle();
    assertFulfilled(a, { id: 'a', out: [10, 20] });
    assertFulfilled(b, { id: 'b', out: [30] });
    assert.deepEqual(rejected, []);
  });
});

describe('error fan-out', () => {
  it('fails every job of a batch with the error of an executor that always throws, after retrying each alone', async () => {
    const executor = new FakeExecutor();
    const failure = new Error('kernel failed');
    executor.failWith = failure;
    const batcher = new Batcher(executor, options());
    const outcomes = ['a', 'b', 'c'].map((id, i) => track(batcher.submit(job(id, [i]))));
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b', 'c'], ['a'], ['b'], ['c']]);
    for (const outcome of outcomes) assertRejected(outcome, (error) => assert.equal(error, failure));
  });

  it('fails a lone job with its run error, and the next batch runs normally', async () => {
    const executor = new FakeExecutor();
    executor.failWith = new Error('kernel failed');
    const batcher = new Batcher(executor, options());
    const a = track(batcher.submit(job('a', [1])));
    await settle();
    assertRejected(a, (error) => assert.match(String(error), /kernel failed/));
    assert.deepEqual(executor.runs, [['a']], 'a lone job is not retried');
    executor.failWith = undefined;
    const b = track(batcher.submit(job('b', [2])));
    const c = track(batcher.submit(job('c', [3])));
    await settle();
    assert.deepEqual(executor.runs, [['a'], ['b', 'c']]);
    assertFulfilled(b, { id: 'b', out: [20] });
    assertFulfilled(c, { id: 'c', out: [30] });
  });

  it('fails only job X when the executor throws only for batches holding X; the others get their own results', async () => {
    const executor = new FakeExecutor();
    executor.failWhenPresent = 'x';
    const batcher = new Batcher(executor, options());
    const jobs = [job('a', [1, 2]), job('x', [-1]), job('c', [3])];
    const [a, x, c] = jobs.map((j) => track(batcher.submit(j))) as [Outcome<Result>, Outcome<Result>, Outcome<Result>];
    await settle();
    assert.deepEqual(executor.runs, [['a', 'x', 'c'], ['a'], ['x'], ['c']]);
    assertFulfilled(a, { id: 'a', out: [10, 20] });
    assertRejected(x, (error) => assert.match(String(error), /job x holds a row the model cannot take/));
    assertFulfilled(c, { id: 'c', out: [30] });

    // The next batch after the failure runs as one batch again.
    const d = track(batcher.submit(job('d', [4])));
    const e = track(batcher.submit(job('e', [5, 6])));
    await settle();
    assert.deepEqual(executor.runs.slice(4), [['d', 'e']]);
    assertFulfilled(d, { id: 'd', out: [40] });
    assertFulfilled(e, { id: 'e', out: [50, 60] });
  });

  it('treats a run() that throws synchronously like a rejected run', async () => {
    const calls: string[][] = [];
    const executor: BatchExecutor<Job, Result> = {
      rows: (j) => j.values.length,
      key: (j) => j.key,
      run: (jobs) => {
        calls.push(jobs.map((j) => j.id));
        if (jobs.length > 1) throw new Error('sync failure');
        return Promise.resolve(jobs.map(expected));
      },
    };
    const batcher = new Batcher(executor, options({ policy: 'off' }));
    const a = track(batcher.submit(job('a', [1])));
    await drain();
    assertFulfilled(a, { id: 'a', out: [10] });
    const eager = new Batcher(executor, options());
    const b = track(eager.submit(job('b', [2])));
    const c = track(eager.submit(job('c', [3])));
    await settle();
    assert.deepEqual(calls, [['a'], ['b', 'c'], ['b'], ['c']]);
    assertFulfilled(b, { id: 'b', out: [20] });
    assertFulfilled(c, { id: 'c', out: [30] });
  });
});

describe('wrong number of results', () => {
  it("fails the batch's jobs with an error naming the counts when the executor returns one result too few", async () => {
    const executor = new FakeExecutor();
    executor.answer = (_jobs, results) => results.slice(1);
    const batcher = new Batcher(executor, options());
    const a = track(batcher.submit(job('a', [1])));
    const b = track(batcher.submit(job('b', [2])));
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b'], ['a'], ['b']]);
    for (const outcome of [a, b]) assertRejected(outcome, (error) => assert.match(String(error), /a batch of 1 jobs produced 0 results/));
  });

  it('fails a lone job when the executor returns too many results, or no array at all', async () => {
    const executor = new FakeExecutor();
    executor.answer = (_jobs, results) => [...results, ...results];
    const batcher = new Batcher(executor, options());
    const a = track(batcher.submit(job('a', [1])));
    await settle();
    assertRejected(a, (error) => assert.match(String(error), /a batch of 1 jobs produced 2 results/));
    executor.answer = () => undefined;
    const b = track(batcher.submit(job('b', [2])));
    await settle();
    assertRejected(b, (error) => assert.match(String(error), /a batch of 1 jobs produced no results/));
  });

  it('gives each job its result when only the shared run miscounted and the runs alone are right', async () => {
    const executor = new FakeExecutor();
    executor.answer = (jobs, results) => (jobs.length > 1 ? results.slice(1) : results);
    const batcher = new Batcher(executor, options());
    const a = track(batcher.submit(job('a', [1])));
    const b = track(batcher.submit(job('b', [2])));
    await settle();
    assert.deepEqual(executor.runs, [['a', 'b'], ['a'], ['b']]);
    assertFulfilled(a, { id: 'a', out: [10] });
    assertFulfilled(b, { id: 'b', out: [20] });
  });
});

describe('keys', () => {
  it('never puts jobs with different keys in the same run', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxConcurrency: Infinity }));
    const jobs = [job('a1', [1], 'ka'), job('b1', [2], 'kb'), job('a2', [3], 'ka'), job('b2', [4, 5], 'kb')];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    await settle();
    assert.deepEqual(executor.runs, [['a1', 'a2'], ['b1', 'b2']]);
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, expected(jobs[i] as Job)));
  });

  it('runs the groups of different keys one after the other with one slot', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxConcurrency: 1 }));
    const jobs = [job('a1', [1], 'ka'), job('b1', [2], 'kb'), job('a2', [3], 'ka')];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    await settle();
    assert.deepEqual(executor.runs, [['a1', 'a2'], ['b1']]);
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, expected(jobs[i] as Job)));
  });

  it('always runs a job without a key alone', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxConcurrency: Infinity }));
    const jobs = [job('u1', [1], null), job('k1', [2]), job('u2', [3], null), job('k2', [4]), job('u3', [5, 6], null)];
    const outcomes = jobs.map((j) => track(batcher.submit(j)));
    await settle();
    assert.deepEqual(executor.runs, [['u1'], ['k1', 'k2'], ['u2'], ['u3']]);
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, expected(jobs[i] as Job)));
  });

  it('keeps first-in first-out order within a key across batches', async () => {
    const executor = new FakeExecutor();
    const batcher = new Batcher(executor, options({ maxBatchSize: 2, maxConcurrency: 1 }));
    const order: string[] = [];
    const ids = ['a1', 'b1', 'a2', 'a3', 'b2', 'a4', 'a5'];
    const outcomes = ids.map((id, i) => {
      const promise = batcher.submit(job(id, [i], id.startsWith('a') ? 'ka' : 'kb'));
      void promise.then(() => order.push(id));
      return track(promise);
    });
    await settle();
    assert.deepEqual(executor.runs, [['a1', 'a2'], ['b1', 'b2'], ['a3', 'a4'], ['a5']]);
    assert.deepEqual(order, ['a1', 'a2', 'b1', 'b2', 'a3', 'a4', 'a5']);
    outcomes.forEach((outcome, i) => assertFulfilled(outcome, { id: ids[i] as string, out: [i * 10] }));
  });
});

describe('observer', () => {
  it('reports the queue depth as rows come and go, waited() once per job, ran(rows, seconds) once per batch', async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const { observer, depths, waited, ran, rejected } = recordingObserver();
    const batcher = new Batcher(executor, options({ maxConcurrency: 1, observer }));
    track(batcher.submit(job('a', [1, 2])));
    assert.deepEqual(depths, [2]);
    await settle(); // a starts at t=0
    assert.deepEqual(depths, [2, 0]);
    track(batcher.submit(job('b', [3, 4, 5])));
    await advance(4);
    track(batcher.submit(job('c', [6])));
    assert.deepEqual(depths, [2, 0, 3, 4]);
    executor.release(0); // a took 4 ms
    await settle(); // b and c start at t=4
    assert.deepEqual(ran, [[2, 0.004]]);
    assert.deepEqual(depths, [2, 0, 3, 4, 0]);
    assert.deepEqual(executor.runs, [['a'], ['b', 'c']]);
    await advance(2);
    executor.release(1);
    await settle();
    assert.deepEqual(waited, [0, 0.004, 0]);
    assert.deepEqual(ran, [
      [2, 0.004],
      [4, 0.002],
    ]);
    assert.deepEqual(rejected, []);
  });

  it('reports ran() once and waited() once per job for a failed batch retried job by job', async () => {
    const executor = new FakeExecutor();
    executor.failWith = new Error('kernel failed');
    const { observer, waited, ran } = recordingObserver();
    const batcher = new Batcher(executor, options({ observer }));
    const outcomes = [job('a', [1, 2]), job('b', [3])].map((j) => track(batcher.submit(j)));
    await settle();
    assert.equal(executor.runs.length, 3);
    assert.deepEqual(waited, [0, 0]);
    assert.deepEqual(ran, [[3, 0]]);
    for (const outcome of outcomes) assert.equal(outcome.status, 'rejected');
  });

  it("reports rejected('queue_full'), rejected('deadline') and rejected('cancelled')", async () => {
    const executor = new FakeExecutor();
    executor.hold = true;
    const { observer, rejected, depths } = recordingObserver();
    const batcher = new Batcher(executor, options({ maxQueueSize: 2, maxConcurrency: 1, observer }));
    const running = track(batcher.submit(job('r', [0]), { timeoutMs: 20 }));
    await settle();
    const controller = new Cancellation();
    const late = track(batcher.submit(job('late', [1]), { timeoutMs: 5 }));
    const gone = track(batcher.submit(job('gone', [2]), { signal: controller }));
    const full = track(batcher.submit(job('full', [3])));
    await drain();
    assert.deepEqual(rejected, ['queue_full']);
    controller.cancel();
    await drain();
    assert.deepEqual(rejected, ['queue_full', 'cancelled']);
    await advance(5);
    assert.deepEqual(rejected, ['queue_full', 'cancelled', 'deadline']);
    await advance(15);
    assert.deepEqual(rejected, ['queue_full', 'cancelled', 'deadline', 'deadline'], 'a running job past its deadline counts too');
    assert.deepEqual(depths, [1, 0, 1, 2, 1, 0]);
    assert.equal(full.status, 'rejected');
    assertRejected(gone, isCancelled);
    assertRejected(late, isDeadline(/not run/));
    assertRejected(running, isDeadline(/still computing/));
    executor.releaseAll();
    await settle();
    assert.deepEqual(executor.runs, [['r']]);
  });
});
