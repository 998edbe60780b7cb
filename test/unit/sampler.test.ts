/**
 * The prediction log's sampler (src/monitoring/sampler.ts) at and past its limits; the common cases are in
 * test/monitoring/prediction-log-units.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSampler } from '../../src/monitoring/sampler.ts';

const take = (sample: () => boolean, n: number) => Array.from({ length: n }, () => sample());

describe('createSampler', () => {
  it('samples every call for every 1, and for every below 1 (clamped)', () => {
    assert.deepEqual(take(createSampler({ every: 1 }), 3), [true, true, true]);
    assert.deepEqual(take(createSampler({ every: 0 }), 3), [true, true, true]);
  });

  it('floors a fractional every', () => {
    assert.deepEqual(take(createSampler({ every: 2.9 }), 4), [true, false, true, false]);
  });

  it('never calls random for rates at or past 0 and 1', () => {
    const random = () => assert.fail('random() must not be called');
    assert.deepEqual(take(createSampler({ rate: 1.5 }, random), 2), [true, true]);
    assert.deepEqual(take(createSampler({ rate: -0.1 }, random), 2), [false, false]);
  });

  it('samples while random() is below the rate, not at it', () => {
    const values = [0.2499, 0.25];
    assert.deepEqual(take(createSampler({ rate: 0.25 }, () => values.shift() as number), 2), [true, false]);
  });
});
