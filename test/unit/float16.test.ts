/**
 * IEEE half precision ⇄ number (src/tensors/float16.ts): exact bit patterns of the landmarks, round to nearest even,
 * overflow to ±Infinity, subnormals, signed zero and NaN, and every one of the 65536 half words round-tripping.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromHalfBits, toHalfBits } from '../../src/tensors/float16.ts';

describe('toHalfBits', () => {
  it('writes the landmark values as their exact IEEE half words', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [1.5, 0x3e00],
      [-0.25, 0xb400],
      [65504, 0x7bff], // largest finite half
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -14 - 2 ** -24, 0x03ff], // largest subnormal
      [2 ** -24, 0x0001], // smallest subnormal
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    for (const [value, bits] of cases) assert.equal(toHalfBits(value), bits, `toHalfBits(${value})`);
  });

  it('keeps the sign of zero and of values too small for a subnormal', () => {
    assert.equal(toHalfBits(-0), 0x8000);
    assert.equal(toHalfBits(-(2 ** -30)), 0x8000);
    assert.equal(toHalfBits(2 ** -30), 0x0000);
  });

  it('keeps NaN a NaN (quiet, exponent all ones, mantissa non-zero)', () => {
    assert.equal(toHalfBits(Number.NaN), 0x7e00);
    assert.ok(Number.isNaN(fromHalfBits(toHalfBits(Number.NaN))));
  });

  it('rounds to nearest, ties to even, in the normal range', () => {
    // Halves next to 1 are 2^-10 apart: 1 + 2^-11 is a tie between 0x3c00 (even) and 0x3c01.
    assert.equal(toHalfBits(1 + 2 ** -11), 0x3c00);
    // 1 + 3·2^-11 is a tie between 0x3c01 and 0x3c02 (even).
    assert.equal(toHalfBits(1 + 3 * 2 ** -11), 0x3c02);
    // Just past a tie rounds away from it.
    assert.equal(toHalfBits(1 + 2 ** -11 + 2 ** -20), 0x3c01);
    assert.equal(toHalfBits(0.1), 0x2e66);
  });

  it('rounds to nearest, ties to even, among subnormals, and to zero below half the smallest', () => {
    assert.equal(toHalfBits(2 ** -25), 0x0000, 'half of the smallest subnormal is a tie with 0 (even)');
    assert.equal(toHalfBits(1.5 * 2 ** -24), 0x0002, 'tie between 0x0001 and 0x0002 (even)');
    assert.equal(toHalfBits(1.25 * 2 ** -24), 0x0001);
    assert.equal(toHalfBits(2 ** -25 + 2 ** -35), 0x0001, 'just above the tie');
  });

  it('overflows to ±Infinity from 65520 (the midpoint above the largest finite half)', () => {
    assert.equal(toHalfBits(65519), 0x7bff);
    assert.equal(toHalfBits(65520), 0x7c00);
    assert.equal(toHalfBits(-65520), 0xfc00);
    assert.equal(toHalfBits(1e10), 0x7c00);
  });

  it(
    'rounds a double straight to the nearest half, not through float32 first (no double rounding)',
    () => {
      // 65519.999 is below 65520, so its nearest half is 65504; float32 rounds it to 65520 exactly, a tie, then even → Infinity.
      assert.equal(toHalfBits(65519.999), 0x7bff);
      // Above the tie 1 + 2^-11 by 2^-40: nearest is 0x3c01; float32 drops the 2^-40, leaving the tie, which goes to even 0x3c00.
      assert.equal(toHalfBits(1 + 2 ** -11 + 2 ** -40), 0x3c01);
      // Below the tie 1 + 3·2^-11 by 2^-40: nearest is 0x3c01; through float32 it becomes the tie and goes up to 0x3c02.
      assert.equal(toHalfBits(1 + 3 * 2 ** -11 - 2 ** -40), 0x3c01);
    },
  );
});

describe('fromHalfBits', () => {
  it('reads normals, subnormals, zeros, infinities and NaN', () => {
    assert.equal(fromHalfBits(0x3c00), 1);
    assert.equal(fromHalfBits(0x7bff), 65504);
    assert.equal(fromHalfBits(0x0400), 2 ** -14);
    assert.equal(fromHalfBits(0x03ff), 2 ** -14 - 2 ** -24);
    assert.equal(fromHalfBits(0x0001), 2 ** -24);
    assert.equal(fromHalfBits(0x3555), 0.333251953125);
    assert.ok(Object.is(fromHalfBits(0x0000), 0));
    assert.ok(Object.is(fromHalfBits(0x8000), -0));
    assert.equal(fromHalfBits(0x7c00), Number.POSITIVE_INFINITY);
    assert.equal(fromHalfBits(0xfc00), Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(fromHalfBits(0x7e00)));
    assert.ok(Number.isNaN(fromHalfBits(0xfc01)), 'any non-zero mantissa with the top exponent is NaN');
  });

  it('round-trips every one of the 65536 half words (NaNs stay NaN)', () => {
    const wrong: string[] = [];
    for (let bits = 0; bits <= 0xffff; bits++) {
      const value = fromHalfBits(bits);
      const back = toHalfBits(value);
      const ok = Number.isNaN(value) ? (back & 0x7c00) === 0x7c00 && (back & 0x03ff) !== 0 : back === bits;
      if (!ok) wrong.push(`0x${bits.toString(16)} → ${value} → 0x${back.toString(16)}`);
    }
    assert.deepEqual(wrong, []);
  });
});
