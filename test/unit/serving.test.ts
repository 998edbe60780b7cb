/**
 * A model's serving settings (src/config/serving.ts): each key from its entry, else `defaults:`, else the built-in
 * default (which depends on the runtime for the policy), max_concurrency 0 as unlimited and a worker pool's size as
 * its default.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LongshoreConfig, ModelEntry } from '../../src/config/schema.ts';
import { defaultConcurrency, resolveServing } from '../../src/config/serving.ts';

const entry = (fields: Record<string, unknown>, runtime: ModelEntry['runtime']) => ({ name: 'm', workers: 0, ...fields, runtime }) as unknown as ModelEntry;
const defaults = (fields: Record<string, unknown> = {}) => fields as LongshoreConfig['defaults'];

describe('resolveServing', () => {
  it('uses the built-in defaults when neither the entry nor defaults set a key', () => {
    assert.deepEqual(resolveServing(entry({}, 'onnx'), defaults()), {
      policy: 'eager',
      maxBatchSize: 64,
      maxLatencyMs: 2,
      maxQueueSize: 4096,
      maxConcurrency: undefined,
      timeoutMs: 60_000,
      warmup: 1,
    });
  });

  it('picks the built-in policy by runtime: eager for ONNX, off for code models and graphs', () => {
    assert.equal(resolveServing(entry({}, 'module'), defaults()).policy, 'off');
    assert.equal(resolveServing(entry({}, 'graph'), defaults()).policy, 'off');
  });

  it('takes defaults over the built-ins, and the entry over defaults, key by key', () => {
    const fromDefaults = defaults({ batching: { policy: 'timed', max_batch_size: 8 }, max_queue_size: 10, timeout_ms: 500, max_concurrency: 3, warmup: 2 });
    const settings = resolveServing(entry({ batching: { max_latency_ms: 7 }, timeout_ms: 0 }, 'module'), fromDefaults);
    assert.deepEqual(settings, { policy: 'timed', maxBatchSize: 8, maxLatencyMs: 7, maxQueueSize: 10, maxConcurrency: 3, timeoutMs: 0, warmup: 2 });
    assert.equal(resolveServing(entry({ warmup: 0 }, 'module'), fromDefaults).warmup, 0);
    const own = resolveServing(entry({ batching: { policy: 'eager', max_batch_size: 2 }, max_queue_size: 1, max_concurrency: 5 }, 'onnx'), fromDefaults);
    assert.deepEqual([own.policy, own.maxBatchSize, own.maxQueueSize, own.maxConcurrency], ['eager', 2, 1, 5]);
  });

  it('reads max_concurrency 0 as unlimited', () => {
    assert.equal(resolveServing(entry({ max_concurrency: 0 }, 'onnx'), defaults()).maxConcurrency, Number.POSITIVE_INFINITY);
    assert.equal(resolveServing(entry({}, 'onnx'), defaults({ max_concurrency: 0 })).maxConcurrency, Number.POSITIVE_INFINITY);
  });

  it("defaults max_concurrency to a worker pool's size, below an explicit setting", () => {
    assert.equal(resolveServing(entry({ workers: 4 }, 'module'), defaults()).maxConcurrency, 4);
    assert.equal(resolveServing(entry({ workers: 4 }, 'module'), defaults({ max_concurrency: 2 })).maxConcurrency, 2);
    assert.equal(resolveServing(entry({ workers: 4, max_concurrency: 0 }, 'module'), defaults()).maxConcurrency, Number.POSITIVE_INFINITY);
  });
});

describe('defaultConcurrency', () => {
  it('is one batch at a time for a batching model, unlimited otherwise', () => {
    assert.equal(defaultConcurrency(true), 1);
    assert.equal(defaultConcurrency(false), Number.POSITIVE_INFINITY);
  });
});
