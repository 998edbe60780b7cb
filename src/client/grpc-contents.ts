/**
 * Tensors ⇄ the Open Inference Protocol's gRPC messages, for the client: typed `contents` (one repeated field per
 * element kind) or `raw_input_contents` / `raw_output_contents` (each tensor's bytes, little-endian, BYTES elements
 * length-prefixed: the binary tensor format). The messages are proto-loader's plain objects (int64 as strings, bytes as
 * Buffers).
 */
import { decodeBinary, encodeBinary } from '../tensors/binary.js';
import { CONTENTS_FIELD } from '../tensors/grpc-contents-fields.js';
import type { DatatypeInfo, TensorData } from '../tensors/datatypes.js';
import { fromElements, requireDatatype, toStorage } from './tensor-data.js';
import type { InferOptions, InferOutput, InferRequest, PlainElement } from './types.js';

type Contents = Record<string, unknown[] | undefined>;

export interface GrpcTensor {
  name: string;
  datatype: string;
  shape: (string | number)[];
  contents?: Contents;
}

export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  inputs: GrpcTensor[];
  outputs: { name: string }[];
  raw_input_contents: Buffer[];
}

export interface GrpcInferResponse {
  model_name?: string;
  model_version?: string;
  id?: string;
  outputs?: GrpcTensor[];
  raw_output_contents?: Buffer[];
}

/** The ModelInfer request of `request`: typed contents, or raw contents with `binary: true`. */
export function grpcInferRequest(name: string, request: InferRequest, options: InferOptions): GrpcInferRequest {
  const raw: Buffer[] = [];
  const inputs = request.inputs.map((input, index): GrpcTensor => {
    const what = `input '${input.name}' (inputs[${index}])`;
    const info = requireDatatype(input.datatype, what);
    const data = toStorage(input.data, info, what);
    const tensor: GrpcTensor = { name: input.name, datatype: info.datatype, shape: [...input.shape] };
    const field = CONTENTS_FIELD[info.datatype];
    if (options.binary || field === undefined) raw.push(encodeBinary(data));
    else tensor.contents = { [field]: typedContents(data, info) };
    return tensor;
  });
  if (raw.length > 0 && raw.length !== inputs.length) {
    throw new TypeError('FP16 and BF16 inputs travel only as raw bytes over gRPC, and then every input must: pass { binary: true }');
  }
  return {
    model_name: name,
    model_version: options.version ?? '',
    id: request.id ?? '',
    inputs,
    outputs: (request.outputs ?? []).map((output) => ({ name: output })),
    raw_input_contents: raw,
  };
}

/** The outputs of a ModelInfer response, decoded into each datatype's storage (see `DataOf`). */
export function grpcOutputs(response: GrpcInferResponse): InferOutput[] {
  const raw = response.raw_output_contents ?? [];
  return (response.outputs ?? []).map((output, index): InferOutput => {
    const what = `output '${output.name}'`;
    const info = requireDatatype(output.datatype, what);
    const shape = output.shape.map(Number);
    const count = shape.reduce((product, dim) => product * dim, 1);
    const bytes = raw[index];
    const data = raw.length > 0 && bytes !== undefined ? decodeBinary(bytes, info, shape, count, output.name, 'output') : fromContents(output.contents ?? {}, info, what);
    return { name: output.name, datatype: info.datatype, shape, data } as InferOutput;
  });
}

/** A tensor's elements as its contents field holds them (int64 as decimal strings, BYTES as bytes, BOOL as booleans). */
function typedContents(data: TensorData, info: DatatypeInfo): unknown[] {
  if (info.datatype === 'BYTES') return (data as string[]).map((text) => Buffer.from(text, 'utf8'));
  if (info.datatype === 'BOOL') return Array.from(data as Uint8Array, (value) => value !== 0);
  if (info.datatype === 'INT64' || info.datatype === 'UINT64') return Array.from(data as BigInt64Array, (value) => value.toString());
  return Array.from(data as ArrayLike<number>);
}

function fromContents(contents: Contents, info: DatatypeInfo, what: string): TensorData {
  const field = CONTENTS_FIELD[info.datatype];
  const values = (field === undefined ? undefined : contents[field]) ?? [];
  if (info.datatype === 'BYTES') return values.map((value) => Buffer.from(value as Uint8Array).toString('utf8'));
  return fromElements(values as PlainElement[], info, what);
}
