/**
 * ModelInfer messages ⇄ longshore's tensors. Typed `contents` take the field of their datatype (Triton's rule: INT8 to
 * INT32 in int_contents, UINT8 to UINT32 in uint_contents, …) and are checked element by element as V2 JSON `data` is
 * (tensors/v2-json.ts), so errors read the same as over REST; `raw_input_contents` are little-endian bytes, one entry per
 * input, decoded as the binary tensor extension's are (tensors/binary.ts). FP16 travels only raw (it has no contents
 * field). A response is raw when its request was, or when an output has no contents field (FP16); typed otherwise.
 */
import { CONTENTS_FIELD } from '../tensors/grpc-contents-fields.js';
import { quote, SchemaValidationError } from '../errors.js';
import { decodeBinary, encodeBinary } from '../tensors/binary.js';
import type { DatatypeInfo, TensorData } from '../tensors/datatypes.js';
import { formatShape, type Tensor } from '../tensors/tensor.js';
import { checkElementCount } from '../tensors/v2-message.js';
import { decodeJsonTensor, tensorHeader } from '../tensors/v2-json.js';
import type { InferRequest, InferResponse } from '../wire.js';

/** InferTensorContents as proto-loader gives it (defaults on: every field an array; 64-bit integers as strings). */
export interface Contents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: (string | number)[];
  uint_contents?: number[];
  uint64_contents?: (string | number)[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Uint8Array[];
}

type ContentsField = keyof Contents;

/** InferParameter: one of its fields is set (`parameter_choice` names which). */
export interface Parameter {
  parameter_choice?: string;
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
}

export interface InferInputMessage {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters?: Record<string, Parameter>;
  contents?: Contents | null;
}

export interface InferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: Record<string, Parameter>;
  inputs: InferInputMessage[];
  outputs: { name: string; parameters?: Record<string, Parameter> }[];
  raw_input_contents: Uint8Array[];
}

/** A decoded ModelInfer request: the dataplane's InferRequest, the deadline of `parameters.timeout`, and its form. */
export interface DecodedGrpcRequest extends InferRequest {
  readonly inputs: Tensor[];
  readonly timeoutMs?: number;
  readonly raw: boolean;
}

/** The contents field of each datatype (FP16 has none). */
const FIELD = CONTENTS_FIELD;
const FIELDS = [...new Set(Object.values(FIELD))].filter((field): field is ContentsField => field !== undefined);

function bad(message: string): SchemaValidationError {
  return new SchemaValidationError(message);
}

/** Decodes a ModelInfer request; `maxElements` is limits.predict.max_tensor_elements, checked on the shapes first. */
export function decodeGrpcRequest(message: InferRequestMessage, maxElements: number): DecodedGrpcRequest {
  const { inputs, raw_input_contents: raw } = message;
  if (inputs.length === 0) throw bad('"inputs" must be a non-empty list of tensors');
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw bad(`raw_input_contents has ${raw.length} entries for ${inputs.length} inputs; send one per input, in the order of "inputs"`);
  }
  const shapes = inputs.map((input) => ({ shape: input.shape.map(Number) }));
  checkElementCount(shapes, maxElements);
  const tensors = inputs.map((input, index) => {
    const header = { name: input.name, datatype: input.datatype, shape: shapes[index]?.shape };
    const where = `inputs[${index}]`;
    return raw.length > 0 ? rawTensor(input, header, raw[index] as Uint8Array, where) : typedTensor(input, header, where);
  });
  const outputs = message.outputs.map((output) => {
    if (output.parameters?.classification !== undefined) {
      throw bad(`output '${output.name}': the classification extension is not supported; ask for the output itself and rank its values`);
    }
    return output.name;
  });
  const timeoutMs = timeoutOf(message.parameters?.timeout);
  return {
    ...(message.id === '' ? {} : { id: message.id }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    inputs: tensors,
    ...(outputs.length > 0 ? { outputs } : {}),
    raw: raw.length > 0,
  };
}

function rawTensor(input: InferInputMessage, header: object, bytes: Uint8Array, where: string): Tensor {
  const { name, info, shape, count } = tensorHeader(header, where);
  if (hasContents(input.contents)) throw bad(`input '${name}' has both contents and raw_input_contents; send one form for every input`);
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { name, datatype: info.datatype, shape, data: decodeBinary(buffer, info, shape, count, name) };
}

function typedTensor(input: InferInputMessage, header: object, where: string): Tensor {
  const { name, info, shape, count } = tensorHeader(header, where);
  const field = FIELD[info.datatype];
  const contents = input.contents ?? {};
  if (field === undefined) throw bad(`input '${name}': ${info.datatype} has no contents field; send it in raw_input_contents (little-endian)`);
  const other = FIELDS.find((f) => f !== field && (contents[f]?.length ?? 0) > 0);
  if (other !== undefined) throw bad(`input '${name}': ${info.datatype} goes in contents.${field}, but contents.${other} was given`);
  const values = contents[field] ?? [];
  if (values.length !== count) throw bad(`input '${name}': shape ${formatShape(shape)} needs ${count} elements, contents.${field} has ${values.length}`);
  const tensor = { name, datatype: info.datatype, shape };
  switch (info.datatype) {
    case 'INT64':
    case 'UINT64':
      return { ...tensor, data: bigints(values as (string | number)[], info) };
    case 'BYTES':
      return { ...tensor, data: (values as Uint8Array[]).map((bytes, i) => utf8(bytes, name, i)) };
    default:
      // Range checks (an INT8 in int_contents), overflow (FP32) and BOOL as V2 JSON data has them.
      return decodeJsonTensor({ ...tensor, data: values }, where);
  }
}

function hasContents(contents: Contents | null | undefined): boolean {
  return contents != null && FIELDS.some((f) => (contents[f]?.length ?? 0) > 0);
}

function bigints(values: readonly (string | number)[], info: DatatypeInfo): TensorData {
  const data = info.allocate(values.length) as BigInt64Array | BigUint64Array;
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] as string | number);
  return data;
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(bytes: Uint8Array, name: string, index: number): string {
  try {
    return STRICT_UTF8.decode(bytes);
  } catch {
    throw bad(`input '${name}': BYTES element ${index} is not valid UTF-8; this model takes strings, so send them UTF-8 encoded`);
  }
}

/** `parameters.timeout`: microseconds as int64_param or uint64_param (Triton's), 0 for none. */
function timeoutOf(parameter: Parameter | undefined): number | undefined {
  if (parameter === undefined) return undefined;
  const value = parameter.parameter_choice === 'uint64_param' ? parameter.uint64_param : parameter.int64_param;
  const micros = parameter.parameter_choice === 'int64_param' || parameter.parameter_choice === 'uint64_param' ? Number(value) : NaN;
  if (!Number.isSafeInteger(micros) || micros < 0) {
    throw bad(`parameters.timeout must be an int64_param of microseconds (0 for none), got ${quote(parameter)}`);
  }
  return micros === 0 ? undefined : micros / 1000;
}

/** The ModelInfer response: raw outputs when the request was raw or an output has no contents field, else typed. */
export function encodeGrpcResponse(response: InferResponse, raw: boolean): Record<string, unknown> {
  const asRaw = raw || response.outputs.some((output) => FIELD[output.datatype] === undefined);
  const outputs = response.outputs.map((output) => {
    const head = { name: output.name, datatype: output.datatype, shape: output.shape };
    return asRaw ? head : { ...head, contents: { [FIELD[output.datatype] as string]: contentsOf(output) } };
  });
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    id: response.id ?? '',
    outputs,
    raw_output_contents: asRaw ? response.outputs.map((output) => encodeBinary(output.data)) : [],
  };
}

/** A tensor's data as its contents field takes it (protobufjs wants plain arrays; 64-bit integers as decimal strings). */
function contentsOf(tensor: Tensor): unknown[] {
  const { data } = tensor;
  if (Array.isArray(data)) return data.map((text) => Buffer.from(text, 'utf8'));
  switch (tensor.datatype) {
    case 'BOOL':
      return Array.from(data as Uint8Array, (value) => value !== 0);
    case 'INT64':
    case 'UINT64':
      return Array.from(data as BigInt64Array, String);
    default:
      return Array.from(data as Float32Array);
  }
}
