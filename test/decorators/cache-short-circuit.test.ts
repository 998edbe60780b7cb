/**
 * longshore:cache: a hit answers without calling the layers inside, keys ignore object key order, the least recently
 * used entry is evicted at max_entries, entries expire after ttl_ms, failures are not cached, identical misses at the
 * same time share one call, and hits and misses are counted per model. First on the class with a counting `next`, then
 * over HTTP with a model that numbers its calls.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { CacheDecorator, canonicalJson } from '../../src/decorators/builtin/cache.ts';
import { DeadlineExceededError, InferenceError, RequestCancelledError } from '../../src/errors.ts';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { fixturePath, predict, scrape, testSetup } from './decorator-helpers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A `next` that answers `{value, call}` with a running call number, and remembers each input it got. */
function countingNext() {
  const inputs: unknown[] = [];
  const next = async (input: unknown) => {
    inputs.push(input);
    await sleep(5);
    return { value: (input as { v: number }).v * 2, call: inputs.length };
  };
  return { next, inputs };
}

describe('canonicalJson', () => {
  it('sorts object keys at every depth, keeps array order, and tells values apart', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 'x' } }), '{"a":{"c":"x","d":[2,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson({ a: 1, b: 2 }), canonicalJson({ b: 2, a: 1 }));
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
    assert.notEqual(canonicalJson({ a: '1' }), canonicalJson({ a: 1 }));
    assert.notEqual(canonicalJson({ a: 10n }), canonicalJson({ a: '10' }));
    assert.equal(canonicalJson({ a: undefined, b: null }), '{"b":null}', 'an undefined field is absent, as in JSON');
    assert.equal(canonicalJson(new Float64Array([1.5, 2])), '[1.5,2]');
  });
});

describe('CacheDecorator (class)', () => {
  it('calls next once for the same input in either key order, and hands out copies of the stored output', async () => {
    const cache = new CacheDecorator({}, testSetup());
    const { next, inputs } = countingNext();
    const first = (await cache.predict({ v: 3, w: 'x' }, next)) as Record<string, unknown>;
    first.value = 'changed by an outer layer';
    const second = await cache.predict({ w: 'x', v: 3 }, next);
    assert.deepEqual(second, { value: 6, call: 1 });
    assert.equal(inputs.length, 1);
  });

  it('evicts the least recently used entry beyond max_entries', async () => {
    const cache = new CacheDecorator({ max_entries: 2 }, testSetup());
    const { next, inputs } = countingNext();
    await cache.predict({ v: 1 }, next);
    await cache.predict({ v: 2 }, next);
    await cache.predict({ v: 1 }, next); // a hit: 1 is now the most recently used
    await cache.predict({ v: 3 }, next); // evicts 2
    assert.equal(inputs.length, 3);
    assert.deepEqual(await cache.predict({ v: 1 }, next), { value: 2, call: 1 }, '1 was kept');
    assert.deepEqual(await cache.predict({ v: 3 }, next), { value: 6, call: 3 }, '3 was kept');
    assert.deepEqual(await cache.predict({ v: 2 }, next), { value: 4, call: 4 }, '2 was evicted and computed again');
  });

  it('lets an entry expire after ttl_ms, and keeps it forever with ttl_ms 0', async () => {
    const short = new CacheDecorator({ ttl_ms: 30 }, testSetup());
    const forever = new CacheDecorator({ ttl_ms: 0 }, testSetup());
    const a = countingNext();
    const b = countingNext();
    await short.predict({ v: 1 }, a.next);
    await forever.predict({ v: 1 }, b.next);
    await short.predict({ v: 1 }, a.next);
    assert.equal(a.inputs.length, 1, 'fresh within ttl_ms');
    await sleep(60);
    assert.deepEqual(await short.predict({ v: 1 }, a.next), { value: 2, call: 2 });
    assert.deepEqual(await forever.predict({ v: 1 }, b.next), { value: 2, call: 1 });
  });

  it('shares one call among identical misses in flight, and does not cache a failure', async () => {
    const cache = new CacheDecorator({}, testSetup());
    let calls = 0;
    const failing = async () => {
      calls++;
      await sleep(10);
      throw new InferenceError('model down');
    };
    const results = await Promise.allSettled([cache.predict({ v: 1 }, failing), cache.predict({ v: 1 }, failing)]);
    assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
    assert.equal(calls, 1, 'the second joined the first call');
    const { next, inputs } = countingNext();
    const outputs = await Promise.all([cache.predict({ v: 1 }, next), cache.predict({ v: 1 }, next), cache.predict({ v: 1 }, next)]);
    assert.deepEqual(outputs, [{ value: 2, call: 1 }, { value: 2, call: 1 }, { value: 2, call: 1 }]);
    assert.equal(inputs.length, 1, 'the failure was not cached; the next call was shared');
    assert.notEqual(outputs[0], outputs[1], 'each caller gets its own copy');
  });

  it('makes its own call when the shared one failed for its caller only (cancelled, deadline)', async () => {
    for (const error of [new RequestCancelledError('client left'), new DeadlineExceededError('too slow')]) {
      const cache = new CacheDecorator({}, testSetup());
      const leader = cache.predict({ v: 1 }, async () => {
        await sleep(10);
        throw error;
      });
      const { next } = countingNext();
      const follower = cache.predict({ v: 1 }, next);
      await assert.rejects(leader, error.constructor as typeof Error);
      assert.deepEqual(await follower, { value: 2, call: 1 });
    }
  });

  it('counts hits and misses and the entries held, once per registry, with or without model labels', async () => {
    const metrics = new Registry();
    const one = new CacheDecorator({ max_entries: 1 }, testSetup({ metrics, model: 'one' }));
    const two = new CacheDecorator({}, testSetup({ metrics, model: 'two' }));
    const { next } = countingNext();
    await one.predict({ v: 1 }, next);
    await one.predict({ v: 1 }, next);
    await one.predict({ v: 2 }, next);
    await two.predict({ v: 1 }, next);
    const text = await metrics.metrics();
    assert.match(text, /longshore_cache_requests_total\{model="one",version="1",result="hit"\} 1\n/);
    assert.match(text, /longshore_cache_requests_total\{model="one",version="1",result="miss"\} 2\n/);
    assert.match(text, /longshore_cache_requests_total\{model="two",version="1",result="miss"\} 1\n/);
    assert.match(text, /longshore_cache_entries\{model="one",version="1"\} 1\n/, 'max_entries 1: the older entry was evicted');
    assert.equal(text.match(/# TYPE longshore_cache_entries gauge/g)?.length, 1);

    const unlabelled = new Registry();
    const a = new CacheDecorator({}, testSetup({ metrics: unlabelled, modelLabels: false, model: 'a' }));
    const b = new CacheDecorator({}, testSetup({ metrics: unlabelled, modelLabels: false, model: 'b' }));
    await a.predict({ v: 1 }, next);
    await b.predict({ v: 1 }, next);
    await b.predict({ v: 1 }, next);
    const summed = await unlabelled.metrics();
    assert.match(summed, /longshore_cache_requests_total\{result="miss"\} 2\n/);
    assert.match(summed, /longshore_cache_entries 2\n/);
  });

  it('refuses a bad configuration, naming the key and what is allowed', () => {
    assert.throws(() => new CacheDecorator({ max_entries: -3 }, testSetup()), /^Error: max_entries must be an integer ≥ 1, got -3$/);
    assert.throws(() => new CacheDecorator({ max_entries: 2.5 }, testSetup()), /max_entries must be an integer ≥ 1, got 2.5/);
    assert.throws(() => new CacheDecorator({ ttl_ms: '1s' }, testSetup()), /ttl_ms must be an integer ≥ 0, got "1s"/);
    assert.throws(() => new CacheDecorator({ max_entry: 5 }, testSetup()), /max_entry is not a setting of longshore:cache; its settings are: max_entries, ttl_ms/);
  });
});

describe('longshore:cache over HTTP', () => {
  let harness: Harness;
  before(async () => {
    const model = fixturePath('counter-model.ts', 'CounterModel');
    harness = await serveYaml(
      [
        'models:',
        `  - class_path: ${model}`,
        '    decorators:',
        '      - class_path: longshore:cache',
        `  - class_path: ${model}`,
        '    qualified_name: counter_lru',
        '    decorators:',
        '      - class_path: longshore:cache',
        '        configuration: {max_entries: 2}',
        `  - class_path: ${model}`,
        '    qualified_name: counter_ttl',
        '    decorators:',
        '      - class_path: longshore:cache',
        '        configuration: {ttl_ms: 50}',
      ].join('\n'),
    );
  });
  after(() => harness.close());

  it('calls the model once for two identical requests (keys in another order); /metrics shows hit 1, miss 1', async () => {
    const first = await predict(harness, 'counter', { a: 1, b: 2 });
    const second = await predict(harness, 'counter', { b: 2, a: 1 });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { sum: 3, call: 1 });
    assert.deepEqual(second.json(), { sum: 3, call: 1 }, 'answered from the cache: the model ran once');
    const third = await predict(harness, 'counter', { a: 5, b: 5 });
    assert.deepEqual(third.json(), { sum: 10, call: 2 }, 'another input calls the model');
    assert.equal(await scrape(harness, 'longshore_cache_requests_total', { model: 'counter', version: '1', result: 'hit' }), 1);
    assert.equal(await scrape(harness, 'longshore_cache_requests_total', { model: 'counter', version: '1', result: 'miss' }), 2);
    assert.equal(await scrape(harness, 'longshore_cache_entries', { model: 'counter', version: '1' }), 2);
  });

  it('evicts the least recently used entry with max_entries 2', async () => {
    const sums = async (...records: { a: number; b: number }[]) => {
      const out: number[] = [];
      for (const record of records) out.push((await predict(harness, 'counter_lru', record)).json<{ call: number }>().call);
      return out;
    };
    // calls: x → 1, y → 2, x again (hit), z → 3 evicts y, x (hit), y → 4
    assert.deepEqual(await sums({ a: 1, b: 0 }, { a: 2, b: 0 }, { a: 1, b: 0 }, { a: 3, b: 0 }, { a: 1, b: 0 }, { a: 2, b: 0 }), [1, 2, 1, 3, 1, 4]);
    assert.equal(await scrape(harness, 'longshore_cache_entries', { model: 'counter_lru', version: '1' }), 2);
  });

  it('calls the model again once ttl_ms has passed', async () => {
    assert.equal((await predict(harness, 'counter_ttl', { a: 1, b: 1 })).json<{ call: number }>().call, 1);
    assert.equal((await predict(harness, 'counter_ttl', { a: 1, b: 1 })).json<{ call: number }>().call, 1);
    await sleep(80);
    assert.deepEqual((await predict(harness, 'counter_ttl', { a: 1, b: 1 })).json(), { sum: 2, call: 2 });
  });

  it('does not cache a failure: the same request calls the model again and succeeds', async () => {
    const failed = await predict(harness, 'counter', { a: 7, b: 7, flaky: true });
    assert.equal(failed.statusCode, 500, failed.body);
    assert.match(failed.json<{ message: string }>().message, /flaky: the first call fails/);
    const retried = await predict(harness, 'counter', { a: 7, b: 7, flaky: true });
    assert.equal(retried.statusCode, 200, retried.body);
    const { sum, call } = retried.json<{ sum: number; call: number }>();
    assert.equal(sum, 14);
    const again = await predict(harness, 'counter', { flaky: true, b: 7, a: 7 });
    assert.deepEqual(again.json(), { sum: 14, call }, 'the success is cached');
  });

  it('shares one model call among identical requests in flight, also within one /predictions body', async () => {
    const [one, two] = await Promise.all([predict(harness, 'counter', { a: 40, b: 2 }), predict(harness, 'counter', { a: 40, b: 2 })]);
    assert.deepEqual(one?.json(), two?.json());
    const batch = await harness.app.inject({ method: 'POST', url: '/api/models/counter/predictions', payload: [{ a: 9, b: 1 }, { b: 1, a: 9 }, { a: 9, b: 2 }] });
    assert.equal(batch.statusCode, 200, batch.body);
    const [x, y, z] = batch.json<{ sum: number; call: number }[]>();
    assert.deepEqual(x, y);
    assert.equal(x?.sum, 10);
    assert.equal(z?.sum, 11);
    assert.notEqual(z?.call, x?.call);
  });
});
