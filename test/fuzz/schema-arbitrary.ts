/**
 * A small JSON Schema → fast-check arbitrary, enough for the schemas of longshore's OpenAPI document: `type` (one or a
 * list), `properties` / `required` / `additionalProperties`, `items` with `minItems` / `maxItems`, `enum`, `const`,
 * `anyOf` / `oneOf`, local `$ref`s (`#/components/schemas/...`), numeric bounds (inclusive and exclusive) and string
 * lengths. Values it generates are meant to be valid for the schema; keywords it does not know are ignored (so a value
 * may occasionally be invalid, which a fuzzer tolerates: the server must answer either way).
 */
import fc from 'fast-check';

export type Schema = Record<string, unknown>;

/** Resolves a local `$ref` against the whole document. */
function resolveRef(ref: string, root: unknown): Schema {
  if (!ref.startsWith('#/')) return {};
  let node: unknown = root;
  for (const part of ref.slice(2).split('/')) node = (node as Record<string, unknown> | undefined)?.[decodeURIComponent(part)];
  return (node ?? {}) as Schema;
}

const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 2 });

/** Numbers in a schema's bounds (doubles inside the interval, with its ends and small integers favoured). */
function numberArbitrary(schema: Schema, integer: boolean): fc.Arbitrary<number> {
  const min = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const max = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  const exMin = typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : undefined;
  const exMax = typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : undefined;
  if (integer) {
    const lo = min ?? (exMin === undefined ? -1e6 : Math.floor(exMin) + 1);
    const hi = max ?? (exMax === undefined ? 1e6 : Math.ceil(exMax) - 1);
    return fc.integer({ min: Math.max(lo, Number.MIN_SAFE_INTEGER), max: Math.min(hi, Number.MAX_SAFE_INTEGER) });
  }
  const lo = min ?? exMin ?? -1e300;
  const hi = max ?? exMax ?? 1e300;
  // Small values most of the time (the ones models are trained on), the whole interval sometimes.
  const [smallLo, smallHi] = Math.max(lo, -10) <= Math.min(hi, 10) ? [Math.max(lo, -10), Math.min(hi, 10)] : [lo, hi];
  return fc.oneof(
    { weight: 3, arbitrary: fc.double({ min: smallLo, max: smallHi, noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true, minExcluded: exMin !== undefined, maxExcluded: exMax !== undefined }) },
  ).filter((n) => (exMin === undefined || n > exMin) && (exMax === undefined || n < exMax) && (min === undefined || n >= min) && (max === undefined || n <= max));
}

function stringArbitrary(schema: Schema): fc.Arbitrary<string> {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? Math.min(schema.maxLength, minLength + 40) : minLength + 40;
  if (schema.format === 'uuid') return fc.uuid();
  if (typeof schema.pattern === 'string' && schema.pattern === '^-?[0-9]+$') return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
  return fc.oneof(fc.string({ minLength, maxLength }), fc.string({ minLength, maxLength, unit: 'grapheme' }), fc.constantFrom('the team scored a goal', 'rain tomorrow', 'olive oil'));
}

/** An arbitrary of values valid for `schema`; `$ref`s are resolved in `root` (the OpenAPI document). */
export function schemaArbitrary(schema: Schema | boolean | undefined, root: unknown, depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined || schema === true || depth > 8) return anyJson;
  if (schema === false) return fc.constant(null);
  if (typeof schema.$ref === 'string') return schemaArbitrary(resolveRef(schema.$ref, root), root, depth + 1);
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    return fc.oneof(...alternatives.map((alternative) => schemaArbitrary({ ...rest, ...alternative }, root, depth + 1)));
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === 'string' ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((type) => schemaArbitrary({ ...schema, type }, root, depth + 1)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return numberArbitrary(schema, true);
    case 'number':
      return numberArbitrary(schema, false);
    case 'string':
      return stringArbitrary(schema);
    case 'array': {
      const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maxLength = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(minLength, 4);
      return fc.array(schemaArbitrary(schema.items as Schema | undefined, root, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArbitrary(schema, root, depth);
    default:
      return schema.properties === undefined ? anyJson : objectArbitrary(schema, root, depth);
  }
}

function objectArbitrary(schema: Schema, root: unknown, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, property] of Object.entries(properties)) record[key] = schemaArbitrary(property, root, depth + 1);
  // Required keys without a property schema (free-form) still have to be there.
  for (const key of required) record[key] ??= anyJson;
  return fc.record(record, { requiredKeys: [...required] });
}
