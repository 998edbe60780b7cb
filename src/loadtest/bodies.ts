/**
 * The request bodies of `longshore bench`: a model's examples (its metadata's `examples`, the self-tests), else a
 * record generated from its input schema (REST); for the Open Inference Protocol, tensors generated from its tensor
 * metadata (every -1 dimension 1, zeros or short strings), as JSON or with the binary tensor extension.
 */

type Schema = Record<string, unknown>;

/** A value `schema` accepts, as small as it allows (numbers at their minimum or 0, strings 'a', arrays minItems or 1). */
export function sampleOf(schema: unknown, depth = 0): unknown {
  if (typeof schema !== 'object' || schema === null || depth > 16) return null;
  const s = schema as Schema;
  if ('const' in s) return s.const;
  if (Array.isArray(s.examples) && s.examples.length > 0) return s.examples[0];
  if ('default' in s) return s.default;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const options = s[key];
    if (Array.isArray(options) && options.length > 0) return sampleOf(options[0], depth + 1);
  }
  const type = Array.isArray(s.type) ? (s.type.find((t) => t !== 'null') ?? s.type[0]) : s.type;
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Record<string, unknown>;
      const required = Array.isArray(s.required) ? (s.required as string[]) : Object.keys(properties);
      return Object.fromEntries(required.map((name) => [name, sampleOf(properties[name] ?? {}, depth + 1)]));
    }
    case 'array': {
      const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : [];
      const count = Math.max(typeof s.minItems === 'number' ? s.minItems : 1, prefix.length);
      const items = Array.isArray(s.items) ? (s.additionalItems ?? {}) : (s.items ?? {});
      return Array.from({ length: count }, (_, i) => sampleOf(prefix[i] ?? items, depth + 1));
    }
    case 'integer':
    case 'number': {
      const minimum = typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 0;
      const maximum = typeof s.maximum === 'number' ? s.maximum : Number.POSITIVE_INFINITY;
      return Math.min(Math.max(0, minimum), maximum);
    }
    case 'string':
      return 'a'.repeat(Math.max(1, typeof s.minLength === 'number' ? s.minLength : 1));
    case 'boolean':
      return false;
    default:
      return null;
  }
}

/** One body to try: where it came from, and the record (REST). */
export interface RecordCandidate {
  readonly source: string;
  readonly record: unknown;
}

/** The REST records to try, best first: every example's input, then one generated from the input schema. */
export function recordCandidates(metadata: { examples?: unknown; input_schema?: unknown }): RecordCandidate[] {
  const candidates: RecordCandidate[] = [];
  if (Array.isArray(metadata.examples)) {
    for (const example of metadata.examples as { name?: unknown; input?: unknown }[]) {
      if (example && typeof example === 'object' && 'input' in example) {
        candidates.push({ source: `example '${typeof example.name === 'string' ? example.name : candidates.length}'`, record: example.input });
      }
    }
  }
  if (metadata.input_schema !== undefined) candidates.push({ source: 'generated from the input schema', record: sampleOf(metadata.input_schema) });
  return candidates;
}

/** An input of V2 model metadata. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, UINT8: 1, INT8: 1, UINT16: 2, INT16: 2, FP16: 2, UINT32: 4, INT32: 4, FP32: 4, UINT64: 8, INT64: 8, FP64: 8,
};

/** A body with the headers it needs and the rows it carries. */
export interface Body {
  readonly source: string;
  readonly body: Buffer;
  readonly headers: Record<string, string>;
  readonly rows: number;
}

/** An infer request of zeros (BYTES: 'a') for the inputs, every -1 dimension 1; binary: the binary tensor extension. */
export function v2Body(inputs: readonly TensorMetadata[], binary: boolean): Body {
  const shapes = inputs.map((input) => input.shape.map((dim) => (dim < 0 ? 1 : dim)));
  const rows = inputs[0]?.shape[0] === -1 ? (shapes[0]?.[0] ?? 1) : 1;
  const source = 'generated from the tensor metadata';
  const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  if (!binary) {
    const tensors = inputs.map((input, i) => {
      const shape = shapes[i] as number[];
      const element = input.datatype === 'BYTES' ? 'a' : input.datatype === 'BOOL' ? false : 0;
      return { name: input.name, datatype: input.datatype, shape, data: new Array<unknown>(count(shape)).fill(element) };
    });
    return { source, body: Buffer.from(JSON.stringify({ inputs: tensors })), headers: { 'content-type': 'application/json' }, rows };
  }
  const parts = inputs.map((input, i) => {
    const elements = count(shapes[i] as number[]);
    if (input.datatype !== 'BYTES') return Buffer.alloc(elements * (ELEMENT_BYTES[input.datatype] ?? 4));
    const one = Buffer.from([1, 0, 0, 0, 0x61]); // length 1 (little-endian uint32), then 'a'
    return Buffer.concat(Array.from({ length: elements }, () => one));
  });
  const header = Buffer.from(
    JSON.stringify({
      inputs: inputs.map((input, i) => ({ name: input.name, datatype: input.datatype, shape: shapes[i], parameters: { binary_data_size: (parts[i] as Buffer).length } })),
      parameters: { binary_data_output: true },
    }),
  );
  return {
    source: `${source}, binary`,
    body: Buffer.concat([header, ...parts]),
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    rows,
  };
}

/**
 * A V2 JSON infer request of one record (a model's example or a generated record), one row per input the record has:
 * the field's value flattened into the tensor's data (a BYTES input that is not a string gets its JSON text, as record
 * models read their JSON columns). Inputs the record leaves out (optional fields) are not sent. Undefined when the
 * record does not fit the tensors (a field missing from them, a shape that is not the value's).
 */
export function v2RecordBody(record: unknown, inputs: readonly TensorMetadata[], source: string): Body | undefined {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return undefined;
  const fields = record as Record<string, unknown>;
  if (Object.keys(fields).some((name) => !inputs.some((input) => input.name === name))) return undefined;
  const tensors = [];
  for (const input of inputs) {
    if (!(input.name in fields)) continue;
    const value = fields[input.name];
    if (input.datatype === 'BYTES') {
      const instance = input.shape.slice(1);
      const element = typeof value === 'string' || instance.length > 0 ? value : JSON.stringify(value);
      const data = instance.length > 0 ? (Array.isArray(value) ? value.flat(instance.length) : [element]) : [element];
      tensors.push({ name: input.name, datatype: input.datatype, shape: [1, ...(instance.length > 0 ? measure(value, instance.length) : [])], data });
      continue;
    }
    const instanceRank = input.shape.length - 1;
    const data = Array.isArray(value) ? value.flat(instanceRank) : [value];
    tensors.push({ name: input.name, datatype: input.datatype, shape: [1, ...measure(value, instanceRank)], data });
  }
  if (tensors.length === 0) return undefined;
  return { source, body: Buffer.from(JSON.stringify({ inputs: tensors })), headers: { 'content-type': 'application/json' }, rows: 1 };
}

/** The dimensions of nested arrays, `rank` deep (first elements). */
function measure(value: unknown, rank: number): number[] {
  const dims: number[] = [];
  let node = value;
  for (let depth = 0; depth < rank; depth++) {
    if (!Array.isArray(node)) return dims;
    dims.push(node.length);
    node = node[0];
  }
  return dims;
}
