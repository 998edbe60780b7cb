/**
 * errors.ts quote(): a client's value as it may appear in an error message, bounded in depth and length however deep or
 * long the value is, so quoting it can never turn a 400 into a 500 (issue 14). The HTTP paths that use it are covered in
 * test/v2/nested-data-errors.test.ts; this pins the helper's own bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quote } from '../../src/errors.ts';

describe('quote', () => {
  it('writes scalars and short values as JSON (bigint as its digits, undefined by name)', () => {
    assert.equal(quote('abc'), '"abc"');
    assert.equal(quote('say "hi"\n'), '"say \\"hi\\"\\n"');
    assert.equal(quote(12), '12');
    assert.equal(quote(null), 'null');
    assert.equal(quote(true), 'true');
    assert.equal(quote(10n), '10');
    assert.equal(quote(undefined), 'undefined');
    assert.equal(quote([]), '[]');
    assert.equal(quote({}), '{}');
    assert.equal(quote({ a: [1, 'x'] }), '{"a":[1,"x"]}');
  });

  it('cuts nesting at `depth` levels with […] and {…}', () => {
    assert.equal(quote([1, [2, [3, [4, [5]]]]]), '[1,[2,[3,[…]]]]');
    assert.equal(quote({ a: { b: { c: { d: 1 } } } }), '{"a":{"b":{"c":{…}}}}');
    assert.equal(quote([1, [2, [3]]], 1), '[1,[…]]');
  });

  it('cuts text at `length` characters and marks the cut with …', () => {
    const long = quote('x'.repeat(500));
    assert.equal(long, `"${'x'.repeat(99)}…`);
    assert.equal(quote('abcdef', 3, 4), '"abc…');
  });

  it('stays bounded for a value nested 10,000 deep, and never reads past what it writes of a long one', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    assert.equal(quote(deep), '[[[[…]]]]');

    const long = Array.from({ length: 100_000 }, (_, i) => i);
    Object.defineProperty(long, 50_000, {
      get() {
        throw new Error('quote read an element far past its length limit');
      },
    });
    const wide = quote(long);
    assert.equal(wide.length, 101);
    assert.ok(wide.startsWith('[0,1,2,') && wide.endsWith('…'), wide);
    const object = quote(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i])));
    assert.equal(object.length, 101);
    assert.ok(object.startsWith('{"k0":0,"k1":1,') && object.endsWith('…'), object);
  });
});
