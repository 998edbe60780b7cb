/**
 * How model versions are ordered, for "the newest version" (the default route serves the newest ready one) and for a
 * `latest: N` version policy. Triton's versions are integers; longshore's may be any string: two integers compare as
 * numbers, anything else in natural order (digit runs as numbers, so `1.10` is newer than `1.9`).
 */
const INTEGER = /^\d+$/;
const NATURAL = new Intl.Collator('en', { numeric: true, sensitivity: 'variant' });

/** Negative when `a` is older than `b`, positive when newer, 0 when the same. */
export function compareVersions(a: string, b: string): number {
  if (INTEGER.test(a) && INTEGER.test(b)) {
    const [x, y] = [BigInt(a), BigInt(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return NATURAL.compare(a, b);
}

/** `versions`, oldest first. */
export function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareVersions);
}
