/**
 * Retry delays of the prediction log (src/monitoring/backoff.ts) for attempts ≤ 1, custom settings and huge attempt
 * numbers; the default curve is in test/monitoring/prediction-log-units.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../src/monitoring/backoff.ts';

describe('backoffDelay', () => {
  it('uses the first step for attempt 1 and anything below it', () => {
    for (const attempt of [1, 0, -3]) assert.equal(backoffDelay(attempt, { initialMs: 40, maxMs: 1000 }, () => 1), 40, `attempt ${attempt}`);
  });

  it('follows custom settings, rounding to whole milliseconds', () => {
    assert.equal(backoffDelay(3, { initialMs: 15, maxMs: 1000 }, () => 0.5), 45, 'step 60: 30 + 15');
    assert.equal(backoffDelay(2, { initialMs: 5, maxMs: 1000 }, () => 0.3), 7, 'step 10: 5 + 1.5, rounded');
    assert.equal(backoffDelay(10, { initialMs: 15, maxMs: 1000 }, () => 1), 1000);
  });

  it('stays finite for huge attempt numbers even without a useful cap', () => {
    const delay = backoffDelay(10_000, { initialMs: 1, maxMs: Number.POSITIVE_INFINITY }, () => 1);
    assert.equal(delay, 2 ** 30);
  });
});
