/**
 * The eager batcher coalesces calls queued in the same event-loop turn into one run, hands each caller exactly its own
 * outputs, caps runs at max_batch_size rows, fans a failure out to the calls of that run only, and never waits.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { EagerBatcher } from '../../src/batching/eager-batcher.ts';
import { QueueFullError } from '../../src/errors.ts';

/** A run that records each batch it gets and doubles every item. */
function recordingRun() {
  const batches: number[][] = [];
  const run = async (items: number[]) => {
    batches.push([...items]);
    return items.map((item) => item * 2);
  };
  return { batches, run };
}

/** Lets the scheduled setImmediate callbacks and the promises they settle run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('EagerBatcher', () => {
  it('coalesces calls submitted in the same turn into one run, each caller getting its own rows in order', async () => {
    const { batches, run } = recordingRun();
    const batcher = new EagerBatcher(run, { maxBatchSize: 64 });
    const results = await Promise.all([batcher.submit([1]), batcher.submit([2, 3]), batcher.submit([4])]);
    assert.deepEqual(batches, [[1, 2, 3, 4]]);
    assert.deepEqual(results, [[2], [4, 6], [8]]);
  });

  it('does not run before the current turn ends, then runs without waiting for more calls', () => {
    mock.timers.enable({ apis: ['setImmediate'] });
    try {
      const { batches, run } = recordingRun();
      const batcher = new EagerBatcher(run, { maxBatchSize: 64 });
      void batcher.submit([1]);
      assert.deepEqual(batches, []);
      assert.equal(batcher.queued, 1);
      mock.timers.tick(0);
      assert.deepEqual(batches, [[1]]);
    } finally {
      mock.timers.reset();
    }
  });

  it('counts rows, not calls, against max_batch_size and keeps queue order across runs', async () => {
    const { batches, run } = recordingRun();
    const batcher = new EagerBatcher(run, { maxBatchSize: 4 });
    const results = await Promise.all([batcher.submit([1, 2, 3]), batcher.submit([4, 5]), batcher.submit([6]), batcher.submit([7])]);
    assert.deepEqual(batches, [[1, 2, 3], [4, 5, 6, 7]]);
    assert.deepEqual(results, [[2, 4, 6], [8, 10], [12], [14]]);
  });

  it('runs a call larger than max_batch_size alone', async () => {
    const { batches, run } = recordingRun();
    const batcher = new EagerBatcher(run, { maxBatchSize: 2 });
    await Promise.all([batcher.submit([1, 2, 3, 4, 5]), batcher.submit([6])]);
    assert.deepEqual(batches, [[1, 2, 3, 4, 5], [6]]);
  });

  it('queues calls arriving while a run is in flight and runs them together next', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batcher = new EagerBatcher(
      async (items: number[]) => {
        batches.push([...items]);
        if (batches.length === 1) await gate;
        return items;
      },
      { maxBatchSize: 64 },
    );
    const first = batcher.submit([1]);
    await settle();
    assert.deepEqual(batches, [[1]]);
    const later = [batcher.submit([2]), batcher.submit([3])];
    await settle();
    assert.deepEqual(batches, [[1]], 'nothing else runs while the first run is in flight');
    release();
    assert.deepEqual(await first, [1]);
    assert.deepEqual(await Promise.all(later), [[2], [3]]);
    assert.deepEqual(batches, [[1], [2, 3]]);
  });

  it('fails a lone call whose run fails with its error, and the next run is unaffected', async () => {
    let calls = 0;
    const batcher = new EagerBatcher(
      async (items: number[]) => {
        calls++;
        if (calls === 1) throw new Error('kernel failed');
        return items;
      },
      { maxBatchSize: 64 },
    );
    await assert.rejects(batcher.submit([1]), /kernel failed/);
    assert.deepEqual(await batcher.submit([3]), [3]);
  });

  it('re-runs each call of a failed shared run on its own, so only the caller with the bad row fails', async () => {
    const batches: number[][] = [];
    const batcher = new EagerBatcher(
      async (items: number[]) => {
        batches.push([...items]);
        if (items.some((item) => item < 0)) throw new Error(`negative row in [${items.join(',')}]`);
        return items.map((item) => item * 10);
      },
      { maxBatchSize: 64 },
    );
    const results = await Promise.allSettled([batcher.submit([1]), batcher.submit([-2, 5]), batcher.submit([3])]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual((results[0] as PromiseFulfilledResult<number[]>).value, [10]);
    assert.match(String((results[1] as PromiseRejectedResult).reason), /negative row in \[-2,5\]/);
    assert.deepEqual((results[2] as PromiseFulfilledResult<number[]>).value, [30]);
    assert.deepEqual(batches, [[1, -2, 5, 3], [1], [-2, 5], [3]]);
  });

  it('rejects the whole run when the model returns the wrong number of outputs', async () => {
    const batcher = new EagerBatcher(async (items: number[]) => items.slice(1), { maxBatchSize: 64 });
    await assert.rejects(batcher.submit([1, 2]), /a batch of 2 rows produced 1 outputs/);
  });

  it('answers an empty call at once and refuses a max_batch_size below 1', async () => {
    const { batches, run } = recordingRun();
    assert.deepEqual(await new EagerBatcher(run, { maxBatchSize: 1 }).submit([]), []);
    assert.deepEqual(batches, []);
    assert.throws(() => new EagerBatcher(run, { maxBatchSize: 0 }), RangeError);
  });
});

describe('EagerBatcher queue limit', () => {
  it('refuses a call that would take the waiting rows past max_queue_size with QueueFullError and Retry-After, and frees room as runs take rows', async () => {
    const { batches, run } = recordingRun();
    const batcher = new EagerBatcher(run, { maxBatchSize: 64, maxQueueSize: 3 });
    const first = batcher.submit([1, 2]);
    const second = batcher.submit([3]);
    await assert.rejects(batcher.submit([4]), (error: unknown) => {
      assert.ok(error instanceof QueueFullError);
      assert.equal(error.status, 503);
      assert.equal(error.retryAfterSeconds, 1);
      assert.match(error.message, /queue is full \(3 rows waiting, batching.max_queue_size 3\)/);
      return true;
    });
    assert.deepEqual(await Promise.all([first, second]), [[2, 4], [6]]);
    assert.deepEqual(await batcher.submit([5, 6, 7]), [10, 12, 14]);
    assert.deepEqual(batches, [[1, 2, 3], [5, 6, 7]]);
  });

  it('takes a call larger than max_queue_size when nothing is waiting, so it can run alone', async () => {
    const { run } = recordingRun();
    const batcher = new EagerBatcher(run, { maxBatchSize: 64, maxQueueSize: 2 });
    assert.deepEqual(await batcher.submit([1, 2, 3, 4]), [2, 4, 6, 8]);
  });
});
