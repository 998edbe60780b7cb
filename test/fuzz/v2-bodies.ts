/**
 * Open Inference Protocol request bodies for the fuzzer, generated from a model's V2 metadata (its tensors' names,
 * datatypes and shapes, -1 for a dynamic dimension): valid requests as JSON (flat or nested `data`), framed binary (some
 * or all inputs in the binary tail) or the raw form, then hostile variants: JSON mutations of the request object,
 * shape/datatype lies, and framing lies (`Inference-Header-Content-Length` and `binary_data_size` that do not add up).
 */
import fc from 'fast-check';
import { bytesElements, toBytes } from '../v2/v2-helpers.ts';
import { applyMutation, applyTextMutation, describeTextMutation, mutation, oddNumber, raw, textMutation, toJsonText, type Mutation, type TextMutation } from './mutations.ts';

export interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelTensors {
  name: string;
  inputs: TensorMeta[];
  outputs: TensorMeta[];
}

export interface V2Body {
  body: Buffer;
  headers: Record<string, string>;
  label: string;
  /** Why any 2xx to this body would be a silent wrong answer (its `data` does not fit its shape), if it would. */
  mustRefuse?: string;
}

/** `data` as the protocol takes it: flat with exactly the shape's element count, or nested exactly as the shape. */
function fitsShape(data: unknown[], shape: number[]): boolean {
  if (!data.some(Array.isArray)) return data.length === shape.reduce((a, b) => a * b, 1);
  const nested = (node: unknown, dims: number[]): boolean =>
    dims.length === 0 ? !Array.isArray(node) : Array.isArray(node) && node.length === dims[0] && node.every((child) => nested(child, dims.slice(1)));
  return shape.length > 0 && nested(data, shape);
}

/**
 * The oracle for mixed or miscounted `data`: the first input of the final request whose shape is valid and whose
 * `data` is an array that fits it neither flat nor nested. (Values written verbatim by toJsonText count as one scalar
 * each here, so the oracle may miss a refusal, never claim a wrong one.)
 */
export function illFormedData(request: unknown): string | undefined {
  const inputs = (request as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs)) return undefined;
  for (const input of inputs) {
    const { name, shape, data } = (input ?? {}) as { name?: unknown; shape?: unknown; data?: unknown };
    if (!Array.isArray(data) || !Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && (dim as number) >= 0)) continue;
    if (!fitsShape(data, shape as number[])) return `input ${JSON.stringify(name)}: data ${JSON.stringify(data).slice(0, 80)} fits shape ${JSON.stringify(shape)} neither flat nor nested`;
  }
  return undefined;
}

export interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  flat: unknown[];
}

const SMALL_FLOAT = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });
const FLOAT32 = fc.double({ min: -3.4e38, max: 3.4e38, noNaN: true, noDefaultInfinity: true });

function elementArbitrary(datatype: string, small: boolean): fc.Arbitrary<unknown> {
  switch (datatype) {
    case 'FP32':
      if (small) return SMALL_FLOAT.map(Math.fround);
      return fc.oneof({ weight: 4, arbitrary: SMALL_FLOAT.map(Math.fround) }, { weight: 1, arbitrary: FLOAT32.map(Math.fround) });
    case 'FP64':
      if (small) return SMALL_FLOAT;
      return fc.oneof(SMALL_FLOAT, fc.double({ noNaN: true, noDefaultInfinity: true }));
    case 'INT64':
      return fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }) }, { weight: 1, arbitrary: fc.maxSafeInteger() });
    case 'INT32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'BOOL':
      return fc.boolean();
    case 'BYTES':
      return fc.oneof(fc.constantFrom('the team scored a goal', 'rain and wind tomorrow', 'garlic in olive oil', ''), fc.string({ maxLength: 30, unit: 'grapheme' }));
    default:
      return fc.integer({ min: 0, max: 100 });
  }
}

/** A valid tensor for `meta`: dynamic dims filled with 1..3 (the first dim shared by every input: `rows`). */
function tensorArbitrary(meta: TensorMeta, rows: number, small: boolean): fc.Arbitrary<Tensor> {
  return fc.tuple(...meta.shape.map((dim, i) => (dim >= 0 ? fc.constant(dim) : i === 0 ? fc.constant(rows) : fc.integer({ min: 1, max: 3 })))).chain((dims) => {
    const shape = dims as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    return fc.array(elementArbitrary(meta.datatype, small), { minLength: count, maxLength: count }).map((flat) => ({ name: meta.name, datatype: meta.datatype, shape, flat }));
  });
}

export function nest(flat: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length <= 1) return [...flat];
  const [first, ...rest] = shape as [number, ...number[]];
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}

export function tensorBytes(tensor: Tensor): Buffer {
  return tensor.datatype === 'BYTES' ? bytesElements(tensor.flat as string[]) : toBytes(tensor.datatype, tensor.flat);
}

/**
 * Valid tensors for every input of `model`, with one batch size (1..3) shared by all; `small`: floats in [-10, 10]
 * only (else a fifth of them anywhere in FP32's range).
 */
export function validTensors(model: ModelTensors, small = false): fc.Arbitrary<Tensor[]> {
  return fc.integer({ min: 1, max: 3 }).chain((rows) => fc.tuple(...model.inputs.map((meta) => tensorArbitrary(meta, rows, small))));
}

/** Framing lies: what is announced in Inference-Header-Content-Length versus the header's true length. */
type HeaderLengthLie = 'true' | 'plus' | 'minus' | 'negative' | 'huge' | 'text' | 'zero' | 'float' | 'spaces' | 'absent';
const headerLengthLie = fc.oneof(
  { weight: 15, arbitrary: fc.constant<HeaderLengthLie>('true') },
  { weight: 1, arbitrary: fc.constantFrom<HeaderLengthLie>('plus', 'minus', 'negative', 'huge', 'text', 'zero', 'float', 'spaces', 'absent') },
);

function announcedLength(lie: HeaderLengthLie, length: number, delta: number): string | undefined {
  switch (lie) {
    case 'true':
      return String(length);
    case 'plus':
      return String(length + delta);
    case 'minus':
      return String(Math.max(0, length - delta));
    case 'negative':
      return String(-delta);
    case 'huge':
      return '99999999999999999999';
    case 'text':
      return 'twelve';
    case 'zero':
      return '0';
    case 'float':
      return `${length}.0`;
    case 'spaces':
      return ` ${length} `;
    case 'absent':
      return undefined;
  }
}

/** binary_data_size lies, per binary input. */
const sizeLie = fc.oneof(
  { weight: 20, arbitrary: fc.constant<unknown>('true') },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom<unknown>(-1, 0, 1.5, '8', null, true, 2 ** 40), fc.integer({ min: -3, max: 3 }).map((d) => `delta:${d}`)) },
);

/** Request-level knobs: id, parameters (binary_data_output, timeout, odd extras), requested outputs. */
function requestExtras(model: ModelTensors): fc.Arbitrary<Record<string, unknown>> {
  const odd = fc.constantFrom<unknown>('yes', 1, 0, null, {}, [], 'true');
  return fc.record(
    {
      id: fc.oneof({ weight: 8, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.constant('a'.repeat(5000)) }, { weight: 1, arbitrary: oddNumber }),
      parameters: fc.record(
        {
          binary_data_output: fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: odd }),
          timeout: fc.oneof({ weight: 8, arbitrary: fc.constantFrom<unknown>(0, 10_000_000, 5_000_000) }, { weight: 1, arbitrary: fc.constantFrom<unknown>(1, 1000, -1, 1.5, '1000', null) }, { weight: 1, arbitrary: oddNumber }),
          extra: fc.jsonValue({ maxDepth: 2 }),
        },
        { requiredKeys: [] },
      ),
      outputs: fc.subarray(model.outputs.map((o) => o.name)).chain((names) =>
        fc.tuple(...names.map((name) => fc.record({ name: fc.oneof({ weight: 15, arbitrary: fc.constant(name) }, { weight: 1, arbitrary: fc.constantFrom('nope', '') }), parameters: fc.record({ binary_data: fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: odd }) }, { requiredKeys: [] }) }, { requiredKeys: ['name'] }))),
      ),
    },
    { requiredKeys: [] },
  );
}

/** `arbitrary` one time in 12, else undefined. */
function rarely<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: 11, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}

type Encoding = 'json-flat' | 'json-nested' | 'binary-all' | 'binary-some' | 'raw';

export interface V2Plan {
  tensors: Tensor[];
  extras: Record<string, unknown>;
  encoding: Encoding;
  mutations: readonly Mutation[];
  text: TextMutation;
  headerLie: HeaderLengthLie;
  delta: number;
  sizeLies: unknown[];
  shapeLie: { index: number; shape: unknown } | undefined;
  datatypeLie: { index: number; datatype: string } | undefined;
  /** Mixed nesting in `data` (issue 14 item 3): one element wrapped, split, unwrapped into its parent, or an empty array added. */
  mixLie: { index: number; at: number; kind: 'wrap' | 'split' | 'empty' | 'unwrap' } | undefined;
}

/** A V2 request plan for `model`: valid most of the time, with hostile variants mixed in. */
export function v2PlanArbitrary(model: ModelTensors): fc.Arbitrary<V2Plan> {
  return validTensors(model).chain((tensors) =>
    fc.record({
      tensors: fc.constant(tensors),
      extras: requestExtras(model),
      encoding: fc.constantFrom<Encoding>('json-flat', 'json-nested', 'binary-all', 'binary-some', 'raw'),
      mutations: fc.oneof({ weight: 6, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
      text: textMutation,
      headerLie: headerLengthLie,
      delta: fc.integer({ min: 1, max: 64 }),
      sizeLies: fc.array(sizeLie, { minLength: model.inputs.length, maxLength: model.inputs.length }),
      shapeLie: rarely(
        fc.record({ index: fc.nat(), shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 4 }), fc.constantFrom<unknown>([2 ** 31, 2 ** 31], [1e308], [1.5, 4], ['1', '4'], [], null, '4', [-1, 4], [0, 4])) }),
      ),
      mixLie: rarely(fc.record({ index: fc.nat(), at: fc.nat(), kind: fc.constantFrom<'wrap' | 'split' | 'empty' | 'unwrap'>('wrap', 'split', 'empty', 'unwrap') })),
      datatypeLie: rarely(fc.record({ index: fc.nat(), datatype: fc.constantFrom('FP64', 'FP16', 'fp32', 'INT8', 'UINT64', 'BOOL', 'BYTES', 'FP32', 'INT64', 'BOGUS', '') })),
    }),
  );
}

/** The wire form of a plan. */
export function encodeV2(plan: V2Plan): V2Body {
  const labels: string[] = [plan.encoding];
  const binaryIndexes = new Set<number>();
  if (plan.encoding === 'binary-all') plan.tensors.forEach((_, i) => binaryIndexes.add(i));
  if (plan.encoding === 'binary-some') binaryIndexes.add(plan.delta % plan.tensors.length);

  if (plan.encoding === 'raw') {
    const first = plan.tensors[0] as Tensor;
    const body = plan.tensors.length === 1 ? tensorBytes(first) : Buffer.concat(plan.tensors.map(tensorBytes));
    const cut = plan.headerLie === 'true' ? body : body.subarray(0, Math.max(0, body.length - plan.delta));
    return { body: cut, headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '0' }, label: `raw ${plan.headerLie === 'true' ? '' : `cut by ${plan.delta}`}` };
  }

  const tails: Buffer[] = [];
  const inputs = plan.tensors.map((tensor, i) => {
    const entry: Record<string, unknown> = { name: tensor.name, datatype: tensor.datatype, shape: tensor.shape };
    if (binaryIndexes.has(i)) {
      const bytes = tensorBytes(tensor);
      tails.push(bytes);
      const lie = plan.sizeLies[i];
      let size: unknown = bytes.length;
      if (typeof lie === 'string' && lie.startsWith('delta:')) size = bytes.length + Number(lie.slice(6));
      else if (lie !== 'true') size = lie;
      if (lie !== 'true') labels.push(`binary_data_size ${JSON.stringify(size)} for ${bytes.length} bytes`);
      entry.parameters = { binary_data_size: size };
    } else {
      entry.data = plan.encoding === 'json-nested' ? nest(tensor.flat, tensor.shape) : tensor.flat;
      // 64-bit integers beyond 2^53 as exact JSON text.
      if (tensor.datatype === 'INT64' && tensor.flat.some((v) => typeof v === 'number' && !Number.isSafeInteger(v))) entry.data = tensor.flat.map((v) => raw(String(v)));
    }
    return entry;
  });
  if (plan.mixLie) {
    const input = inputs[plan.mixLie.index % inputs.length] as Record<string, unknown>;
    if (Array.isArray(input.data) && input.data.length > 0) {
      const data = input.data as unknown[];
      const at = plan.mixLie.at % data.length;
      const element = data[at];
      if (plan.mixLie.kind === 'wrap') data[at] = [element];
      else if (plan.mixLie.kind === 'split') data.splice(at, 1, [element, element]);
      else if (plan.mixLie.kind === 'empty') data.splice(at, 0, []);
      else if (Array.isArray(element)) data.splice(at, 1, ...(element as unknown[]));
      else data[at] = [[element]];
      labels.push(`mixed nesting in data (${plan.mixLie.kind} at ${at})`);
    }
  }
  if (plan.shapeLie) {
    const input = inputs[plan.shapeLie.index % inputs.length] as Record<string, unknown>;
    input.shape = plan.shapeLie.shape;
    labels.push(`shape ${JSON.stringify(plan.shapeLie.shape)} for ${JSON.stringify((plan.tensors[plan.shapeLie.index % inputs.length] as Tensor).shape)}`);
  }
  if (plan.datatypeLie) {
    const input = inputs[plan.datatypeLie.index % inputs.length] as Record<string, unknown>;
    labels.push(`datatype ${JSON.stringify(plan.datatypeLie.datatype)} for ${String(input.datatype)}`);
    input.datatype = plan.datatypeLie.datatype;
  }
  let request: unknown = { ...plan.extras, inputs };
  for (const m of plan.mutations) {
    const applied = applyMutation(request, m);
    request = applied.value;
    labels.push(applied.label);
  }
  const mustRefuse = illFormedData(request);
  const refusal = mustRefuse === undefined ? {} : { mustRefuse };
  const text = describeTextMutation(plan.text);
  if (text) labels.push(text);
  const header = applyTextMutation(toJsonText(request), plan.text);
  if (binaryIndexes.size === 0 && plan.headerLie === 'true') {
    return { body: header, headers: { 'content-type': 'application/json' }, label: labels.join(', '), ...refusal };
  }
  const announced = announcedLength(plan.headerLie, header.length, plan.delta);
  if (plan.headerLie !== 'true') labels.push(`Inference-Header-Content-Length ${announced ?? 'absent'} for ${header.length}`);
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (announced !== undefined) headers['inference-header-content-length'] = announced;
  // A header length of 0 is the raw form: the whole body is the single input's bytes, so what the JSON would have been
  // says nothing about the answer (an empty body, or one whose length fits the input, is a valid raw request).
  const rawForm = announced === '0';
  return { body: Buffer.concat([header, ...tails]), headers, label: labels.join(', '), ...(rawForm ? {} : refusal) };
}
