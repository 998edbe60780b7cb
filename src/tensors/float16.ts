/**
 * IEEE 754 half precision ⇄ JS number. Node 20 has no Float16Array; onnxruntime-node and the binary tensor format
 * carry FP16 as raw 16-bit words, which these convert to and from, rounding to nearest even.
 */
const floatView = new Float32Array(1);
const bitsView = new Uint32Array(floatView.buffer);

/** The FP16 bits nearest to `value` (overflow → ±Infinity, NaN kept). */
export function toHalfBits(value: number): number {
  floatView[0] = value;
  const bits = bitsView[0] as number;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Infinity or NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // too large: Infinity
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // too small: signed zero
    mantissa |= 0x800000; // subnormal: make the implicit bit explicit, then shift into place
    const shift = 14 - halfExponent;
    const half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    return sign | (half + (remainder > halfway || (remainder === halfway && roundsUpAtTie(value, half)) ? 1 : 0));
  }
  const half = sign | (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // Round to nearest even; a carry out of the mantissa correctly bumps the exponent.
  if (remainder > 0x1000 || (remainder === 0x1000 && roundsUpAtTie(value, half))) return half + 1;
  return half;
}

/**
 * At a tie between two halves in float32 terms: whether to take the upper one. The tie is exact in float32, so when
 * `value` was not (float32 rounded it onto the tie), the side `value` lies on decides; a true tie goes to even. Rounding
 * once, not twice: 65519.999 is 65504, not Infinity.
 */
function roundsUpAtTie(value: number, half: number): boolean {
  const single = floatView[0] as number;
  if (single === value) return (half & 1) === 1;
  return Math.abs(value) > Math.abs(single);
}

/** The number FP16 `bits` hold. */
export function fromHalfBits(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}
