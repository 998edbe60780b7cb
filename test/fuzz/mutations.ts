/**
 * Hostile mutations of request bodies, at two levels:
 * - on the JSON value (wrong types, missing and extra fields, odd numbers, long strings, deep nesting, mixed nesting);
 * - on the bytes that go on the wire (empty, truncated, invalid UTF-8, duplicate keys, a BOM, UTF-16, trailing data).
 * Values that JSON.stringify cannot write (1e400, -0, NaN, 10,000 levels of nesting, 64-bit integers) are carried as
 * sentinel strings and written verbatim by toJsonText.
 */
import fc from 'fast-check';

const SENTINEL = '\u0000raw:';

/** A JSON value written verbatim into the body text (it may be invalid JSON on purpose). */
export function raw(text: string): string {
  return `${SENTINEL}${text}\u0000`;
}

const DEPTH = 10_000;
export const DEEP_ARRAY = `${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}`;
const DEEP_OBJECT = `${'{"a":'.repeat(DEPTH)}1${'}'.repeat(DEPTH)}`;

/** JSON text of `value`, with every raw() sentinel replaced by its text. */
export function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  if (!text.includes('\\u0000raw:')) return text;
  return text.replace(/"\\u0000raw:((?:[^"\\]|\\.)*?)\\u0000"/g, (_match, body: string) => JSON.parse(`"${body}"`) as string);
}

/** Numbers at the edges: huge, tiny, negative, -0, beyond float64, beyond int64, NaN and Infinity literals. */
export const oddNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, -1, 1.5, 1e308, -1e308, 5e-324, 3.4028235e38, 3.5e38, -3.5e38, 2 ** 53 + 2, -(2 ** 63), 2 ** 64, 255, 256, 65536),
  fc.constantFrom(raw('-0'), raw('1e400'), raw('-1e400'), raw('NaN'), raw('Infinity'), raw('123456789012345678901234567890'), raw('9223372036854775808'), raw('-9223372036854775809'), raw('0x10'), raw('1.'), raw('.5'), raw('01')),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => raw(String(n))),
);

/** Strings that hurt: long, unicode, lone surrogates, NUL, path tricks. */
const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', 'x', '\u0000', '\ud800', '\udfff', 'é', '☃', '🧪', '../../etc/passwd', '%00', '${x}', '<script>', 'null', 'true', '1', 'FP32', 'BYTES'),
  fc.integer({ min: 1, max: 100_000 }).map((n) => 'a'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 50 }),
);

/** A value of the wrong kind for almost any position. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(null, true, false, [], {}, [[]], [null], { '': null }, [1, [2, 3], 4], [[1, 2], 3], ['a', ['b', 'c']], [1, [], 2]) },
  { weight: 3, arbitrary: oddNumber },
  { weight: 3, arbitrary: oddString },
  { weight: 1, arbitrary: fc.constantFrom(raw(DEEP_ARRAY), raw(DEEP_OBJECT), raw(`${'['.repeat(100)}${']'.repeat(100)}`)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

type Path = (string | number)[];

/** Every path in a JSON value (the root included), at most `limit`. */
function paths(value: unknown, limit = 2000): Path[] {
  const out: Path[] = [[]];
  const walk = (node: unknown, path: Path): void => {
    if (out.length >= limit || typeof node !== 'object' || node === null) return;
    for (const [key, child] of Array.isArray(node) ? node.entries() : Object.entries(node)) {
      const next = [...path, key];
      out.push(next);
      walk(child, next);
    }
  };
  walk(value, []);
  return out;
}

function clone(value: unknown): unknown {
  return value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown);
}

type Op = 'replace' | 'delete' | 'extra-key' | 'wrap-array' | 'wrap-object' | 'nest-element' | 'duplicate' | 'stringify';
const OPS: Op[] = ['replace', 'delete', 'extra-key', 'wrap-array', 'wrap-object', 'nest-element', 'duplicate', 'stringify'];

export interface Mutation {
  readonly pick: number;
  readonly op: Op;
  readonly value: unknown;
  readonly key: string;
}

export const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat(),
  op: fc.constantFrom(...OPS),
  value: hostileValue,
  key: fc.oneof(fc.constantFrom('extra', '__proto__', 'constructor', 'data', 'shape', 'inputs', 'parameters', ''), fc.string({ maxLength: 8 })),
});

/** Applies one mutation at the path picked by `m.pick`; returns the new value and a short description. */
export function applyMutation(value: unknown, m: Mutation): { value: unknown; label: string } {
  const all = paths(value);
  const path = all[m.pick % all.length] as Path;
  const root = { v: clone(value) } as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = root;
  let key: string | number = 'v';
  for (const step of path) {
    parent = parent[key] as Record<string | number, unknown>;
    key = step;
  }
  const target = parent[key];
  const where = `/${path.join('/')}`;
  switch (m.op) {
    case 'replace':
      parent[key] = m.value;
      break;
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else if (parent !== root) delete parent[key];
      else parent[key] = undefined;
      break;
    case 'extra-key':
      if (typeof target === 'object' && target !== null && !Array.isArray(target)) Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else parent[key] = m.value;
      break;
    case 'wrap-array':
      parent[key] = [target];
      break;
    case 'wrap-object':
      parent[key] = { [m.key]: target };
      break;
    case 'nest-element':
      if (Array.isArray(target) && target.length > 0) target.splice(m.pick % target.length, 1, [target[m.pick % target.length]]);
      else parent[key] = [[target], target];
      break;
    case 'duplicate':
      parent[key] = Array.isArray(target) ? [...target, ...target] : [target, target];
      break;
    case 'stringify':
      parent[key] = typeof target === 'string' ? Number(target) : toJsonText(target);
      break;
  }
  return { value: root.v, label: `${m.op} at ${where}` };
}

/** Mutations of the body text, applied after JSON encoding. */
export type TextMutation =
  | { kind: 'none' }
  | { kind: 'empty' }
  | { kind: 'truncate'; at: number }
  | { kind: 'invalid-utf8'; at: number; bytes: readonly number[] }
  | { kind: 'duplicate-key'; value: unknown }
  | { kind: 'bom' }
  | { kind: 'utf16' }
  | { kind: 'trailing'; text: string }
  | { kind: 'nul' }
  | { kind: 'deep'; text: string };

export const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  { weight: 1, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('invalid-utf8' as const),
      at: fc.nat(),
      bytes: fc.constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xe2, 0x82], [0xc0, 0xaf]),
    }),
  },
  { weight: 1, arbitrary: hostileValue.map((value) => ({ kind: 'duplicate-key' as const, value })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bom' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'utf16' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\n\n', '}', ']]', '{}', 'null', '\u0000', ',').map((text) => ({ kind: 'trailing' as const, text })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'nul' as const }) },
  { weight: 1, arbitrary: fc.constantFrom(DEEP_ARRAY, DEEP_OBJECT, `{"inputs":${DEEP_ARRAY}}`).map((text) => ({ kind: 'deep' as const, text })) },
);

/** The body bytes for `text` after a text mutation. */
export function applyTextMutation(text: string, m: TextMutation): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  switch (m.kind) {
    case 'none':
      return bytes;
    case 'empty':
      return Buffer.alloc(0);
    case 'truncate':
      return bytes.subarray(0, bytes.length === 0 ? 0 : m.at % bytes.length);
    case 'invalid-utf8': {
      // Inside a string literal when there is one (so the JSON stays well-formed around it), else anywhere.
      const quotes = [...text.matchAll(/"/g)].map((match) => Buffer.byteLength(text.slice(0, (match.index ?? 0) + 1)));
      const at = quotes.length > 0 ? (quotes[m.at % quotes.length] as number) : m.at % (bytes.length + 1);
      return Buffer.concat([bytes.subarray(0, at), Buffer.from(m.bytes), bytes.subarray(at)]);
    }
    case 'duplicate-key': {
      const first = /^\s*\{\s*("(?:[^"\\]|\\.)*")\s*:/.exec(text);
      if (!first) return bytes;
      return Buffer.from(`{${first[1]}:${toJsonText(m.value)},${text.slice(text.indexOf('{') + 1)}`, 'utf8');
    }
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    case 'utf16':
      return Buffer.from(text, 'utf16le');
    case 'trailing':
      return Buffer.concat([bytes, Buffer.from(m.text, 'utf8')]);
    case 'nul':
      return Buffer.concat([bytes.subarray(0, bytes.length >> 1), Buffer.from([0]), bytes.subarray(bytes.length >> 1)]);
    case 'deep':
      return Buffer.from(m.text, 'utf8');
  }
}

export function describeTextMutation(m: TextMutation): string {
  switch (m.kind) {
    case 'none':
      return '';
    case 'invalid-utf8':
      return `invalid UTF-8 ${m.bytes.map((b) => b.toString(16)).join(' ')}`;
    case 'deep':
      return `deep nesting ${m.text.slice(0, 12)}…`;
    default:
      return m.kind;
  }
}
