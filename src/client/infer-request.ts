/** Encodes an inference request as JSON or as the binary tensor extension (JSON header, then each input's raw bytes). */
import { encodeBinary } from '../tensors/binary.js';
import { jsonData } from '../tensors/v2-json.js';
import { requireDatatype, toStorage } from './tensor-data.js';
import type { InferOptions, InferRequest } from './types.js';

export const HEADER_LENGTH = 'inference-header-content-length';

export interface EncodedRequest {
  readonly body: string | Uint8Array<ArrayBuffer>;
  readonly headers: Record<string, string>;
}

export function encodeInferRequest(request: InferRequest, options: Pick<InferOptions, 'binary' | 'binaryOutputs'> = {}): EncodedRequest {
  const tails: Buffer[] = [];
  const inputs = request.inputs.map((input, index) => {
    const what = `input '${input.name}' (inputs[${index}])`;
    const info = requireDatatype(input.datatype, what);
    const tensor = { name: input.name, datatype: info.datatype, shape: [...input.shape], data: toStorage(input.data, info, what) };
    const head = JSON.stringify({ name: tensor.name, datatype: tensor.datatype, shape: tensor.shape }).slice(0, -1);
    if (!options.binary) return `${head},"data":${jsonData(tensor)}}`;
    const bytes = encodeBinary(tensor.data);
    tails.push(bytes);
    return `${head},"parameters":{"binary_data_size":${bytes.length}}}`;
  });
  const fields = [
    ...(request.id === undefined ? [] : [`"id":${JSON.stringify(request.id)}`]),
    `"inputs":[${inputs.join(',')}]`,
    ...(request.outputs === undefined ? [] : [`"outputs":${JSON.stringify(request.outputs.map((name) => ({ name })))}`]),
    ...(options.binaryOutputs ? ['"parameters":{"binary_data_output":true}'] : []),
  ];
  const json = `{${fields.join(',')}}`;
  if (!options.binary) return { body: json, headers: { 'content-type': 'application/json' } };
  const header = Buffer.from(json, 'utf8');
  return {
    body: Buffer.concat([header, ...tails]),
    headers: { 'content-type': 'application/octet-stream', [HEADER_LENGTH]: String(header.length) },
  };
}
