import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareVersions, sortVersions } from '../../src/config/versions.js';

test('integer versions compare as numbers, not as text', () => {
  assert.deepEqual(sortVersions(['10', '9', '1', '002']), ['1', '002', '9', '10']);
  assert.equal(compareVersions('12345678901234567890', '9'), 1);
});

test('other versions compare in natural order, so 1.10 is newer than 1.9', () => {
  assert.deepEqual(sortVersions(['1.10', '1.9', '1.2.0', 'v2', 'v10']), ['1.2.0', '1.9', '1.10', 'v2', 'v10']);
  assert.equal(compareVersions('a', 'a'), 0);
});
