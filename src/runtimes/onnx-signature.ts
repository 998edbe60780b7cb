/**
 * Reads an ONNX session's graph signature (names, element types, shapes with dynamic dims) and turns it into tensor
 * specs and the JSON Schemas of the REST records: one field per graph tensor, holding one instance (the graph shape
 * without the batch dimension).
 */
import type { InferenceSession } from 'onnxruntime-node';
import { ALL_DATATYPES, datatypeOfOrt, MAX_SAFE_INT64, type DatatypeInfo } from '../tensors/datatypes.js';
import { formatShape, type TensorSpec } from '../tensors/tensor.js';
import type { JsonSchema } from '../model/contract.js';

/**
 * A graph input or output: the tensor view's spec (its `shape` is the graph's own, -1 where the graph leaves a dim
 * dynamic) plus what the record view needs.
 */
export interface GraphTensor extends TensorSpec {
  readonly info: DatatypeInfo;
  /** The shape of one record's value: `shape` without the batch dimension when the model is batched. */
  readonly instanceShape: readonly number[];
}

export interface OnnxSignature {
  readonly inputs: readonly GraphTensor[];
  /** The outputs longshore fetches and returns. */
  readonly outputs: readonly GraphTensor[];
  /** Graph outputs left out, with why and what to do. */
  readonly excluded: readonly { name: string; reason: string }[];
  /** True when every input's first dimension is dynamic, so records stack into one batch along it. */
  readonly batched: boolean;
}

export const ZIPMAP_HINT =
  "onnxruntime-node cannot return non-tensor values (sequences and maps, such as skl2onnx's ZipMap of class probabilities). " +
  "Re-export the model with skl2onnx option options={'zipmap': False} (or options={id(model): {'zipmap': False}}) " +
  'to get the probabilities as a tensor.';

type Metadata = InferenceSession.ValueMetadata;

const SUPPORTED = ALL_DATATYPES.map((info) => info.ort).join(', ');

const FLOATS: ReadonlySet<string> = new Set(['FP16', 'FP32', 'FP64']);

/**
 * A float output element: JSON has no NaN or ±Infinity, so one the graph computes is answered as `null` (as V2 JSON
 * writes it) and the schema /docs and the metadata publish says so. Maps of floats (skl2onnx's ZipMap) never reach
 * here: non-tensor outputs are left out (ZIPMAP_HINT).
 */
const NULLABLE_FLOAT: JsonSchema = {
  type: ['number', 'null'],
  description: 'A number; null where the model computed NaN or ±Infinity, which JSON cannot carry.',
};

/** Builds the signature; throws an Error saying what is wrong when the model cannot be served at all. */
export function readSignature(inputs: readonly Metadata[], outputs: readonly Metadata[], wanted?: readonly string[]): OnnxSignature {
  if (inputs.length === 0) throw new Error('the graph has no inputs');
  const batched = inputs.every((input) => input.isTensor && input.shape.length >= 1 && dim(input.shape[0]) === -1);
  const inputSpecs = inputs.map((input) => {
    if (!input.isTensor) throw new Error(`input '${input.name}' is not a tensor; longshore serves tensor inputs only`);
    const spec = toSpec(input, batched);
    if (typeof spec === 'string') throw new Error(`input '${input.name}' ${spec}`);
    return spec;
  });

  const byName = new Map(outputs.map((output) => [output.name, output]));
  for (const name of wanted ?? []) {
    const output = byName.get(name);
    if (!output) throw new Error(`configured output '${name}' is not a graph output; graph outputs: ${[...byName.keys()].join(', ')}`);
    if (!output.isTensor) throw new Error(`configured output '${name}' is not a tensor. ${ZIPMAP_HINT}`);
  }
  const chosen = wanted && wanted.length > 0 ? wanted.map((name) => byName.get(name) as Metadata) : outputs;
  const outputSpecs: GraphTensor[] = [];
  const excluded: { name: string; reason: string }[] = [];
  for (const output of chosen) {
    if (!output.isTensor) {
      excluded.push({ name: output.name, reason: `output '${output.name}' is not a tensor and was left out. ${ZIPMAP_HINT}` });
      continue;
    }
    const spec = toSpec(output, batched);
    if (typeof spec === 'string') excluded.push({ name: output.name, reason: `output '${output.name}' ${spec} and was left out` });
    else outputSpecs.push(spec);
  }
  if (outputSpecs.length === 0) {
    throw new Error(`the model has no output longshore can serve: ${excluded.map((e) => e.reason).join(' ')}`);
  }
  return { inputs: inputSpecs, outputs: outputSpecs, excluded, batched };
}

function toSpec(metadata: InferenceSession.TensorValueMetadata, batched: boolean): GraphTensor | string {
  const info = datatypeOfOrt(metadata.type);
  if (!info) return `has element type ${metadata.type}, which longshore cannot serve yet (supported: ${SUPPORTED})`;
  const shape = metadata.shape.map(dim);
  if (batched && shape.length === 0) return 'is a scalar, so it cannot be split into one value per record,';
  return { name: metadata.name, datatype: info.datatype, info, shape, instanceShape: batched ? shape.slice(1) : shape };
}

/** ORT reports a dynamic dim as '' or a symbolic name, sometimes as -1. */
function dim(value: number | string | undefined): number {
  return typeof value === 'number' && value >= 0 ? value : -1;
}

/** Schema of a record with one field per tensor. `direction` picks how 64-bit integers are written. */
export function recordSchema(specs: readonly GraphTensor[], direction: 'input' | 'output'): JsonSchema {
  const properties: Record<string, unknown> = {};
  for (const spec of specs) properties[spec.name] = fieldSchema(spec, direction);
  const description = `One ${direction} record: a field per graph ${direction}, holding one instance (the graph shape without the batch dimension).`;
  return { description, type: 'object', properties, required: specs.map((spec) => spec.name), additionalProperties: false };
}

function fieldSchema(spec: GraphTensor, direction: 'input' | 'output'): JsonSchema {
  let schema: JsonSchema = elementSchema(spec.info, direction);
  for (let i = spec.instanceShape.length - 1; i >= 0; i--) {
    const size = spec.instanceShape[i] as number;
    schema = size >= 0 ? { type: 'array', items: schema, minItems: size, maxItems: size } : { type: 'array', items: schema };
  }
  return {
    ...schema,
    description:
      `${spec.datatype} value of shape ${formatShape(spec.instanceShape)} (graph tensor '${spec.name}', shape ${formatShape(spec.shape)}).` +
      (direction === 'output' && FLOATS.has(spec.datatype) ? ' An element the model computed as NaN or ±Infinity is null.' : ''),
  };
}

function elementSchema(info: DatatypeInfo, direction: 'input' | 'output'): JsonSchema {
  if (direction === 'output' && (info.datatype === 'INT64' || info.datatype === 'UINT64')) {
    return {
      type: ['integer', 'string'],
      pattern: '^-?[0-9]+$',
      description: `64-bit integer: a JSON number within ±${MAX_SAFE_INT64}, a decimal string beyond (so it is never rounded).`,
    };
  }
  if (direction === 'output' && FLOATS.has(info.datatype)) return { ...NULLABLE_FLOAT };
  return info.elementSchema;
}
