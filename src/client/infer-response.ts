/** Decodes an inference response, JSON or framed binary, into outputs held in typed arrays, with an output(name) lookup. */
import { decodeBinary } from '../tensors/binary.js';
import type { Datatype, DatatypeInfo } from '../tensors/datatypes.js';
import { malformedAnswer, type HttpAnswer } from './http.js';
import { HEADER_LENGTH } from './infer-request.js';
import { parseJsonLosslessly } from './lossless-json.js';
import { fromElements, requireDatatype } from './tensor-data.js';
import type { DataOf, InferOutput, PlainElement } from './types.js';

/** The answer of `infer`: the outputs, decoded the same way whether they came as JSON or as binary data. */
export class InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: readonly InferOutput[];

  constructor(fields: { model_name: string; model_version: string; id?: string; outputs: readonly InferOutput[] }) {
    this.model_name = fields.model_name;
    this.model_version = fields.model_version;
    if (fields.id !== undefined) this.id = fields.id;
    this.outputs = fields.outputs;
  }

  /**
   * The output called `name`; with `datatype`, also checks it and narrows `data` (`output('label', 'INT64').data` is a
   * BigInt64Array). Throws a RangeError when the response has no such output, a TypeError when the datatype differs.
   */
  output(name: string): InferOutput;
  output<D extends Datatype>(name: string, datatype: D): InferOutput<D>;
  output(name: string, datatype?: Datatype): InferOutput {
    const found = this.outputs.find((output) => output.name === name);
    if (!found) {
      throw new RangeError(`model '${this.model_name}' returned no output '${name}'; it returned: ${this.outputs.map((output) => output.name).join(', ') || 'none'}`);
    }
    if (datatype !== undefined && found.datatype !== datatype) throw new TypeError(`output '${name}' is ${found.datatype}, not ${datatype}`);
    return found;
  }
}

/** Decodes a 2xx answer of `/infer`; a body that breaks the protocol throws LongshoreClientError (malformed response). */
export function decodeInferResponse(answer: HttpAnswer): InferResponse {
  try {
    return decode(answer);
  } catch (error) {
    if (error instanceof MalformedResponse) throw malformedAnswer(answer, error.message, error);
    throw error;
  }
}

class MalformedResponse extends Error {}

function decode(answer: HttpAnswer): InferResponse {
  const { header, tail } = split(answer);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new MalformedResponse('the body is not a JSON object');
  const { model_name, model_version, id, outputs } = header as Record<string, unknown>;
  if (typeof model_name !== 'string' || typeof model_version !== 'string') throw new MalformedResponse('model_name and model_version must be strings');
  if (id !== undefined && typeof id !== 'string') throw new MalformedResponse('id must be a string');
  if (!Array.isArray(outputs)) throw new MalformedResponse('outputs must be an array');
  let offset = 0;
  const decoded = outputs.map((output: unknown, index): InferOutput => {
    const { name, datatype, shape, data, parameters } = (output ?? {}) as Record<string, unknown>;
    if (typeof name !== 'string') throw new MalformedResponse(`outputs[${index}] has no name`);
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0)) throw new MalformedResponse(`output '${name}' has no valid shape`);
    const info = requireKnown(datatype, name);
    const count = (shape as number[]).reduce((product, dim) => product * dim, 1);
    const size = (parameters as { binary_data_size?: unknown } | undefined)?.binary_data_size;
    let values: DataOf[Datatype];
    if (size !== undefined) {
      if (!Number.isInteger(size) || (size as number) < 0 || offset + (size as number) > tail.length) {
        throw new MalformedResponse(`output '${name}': binary_data_size ${JSON.stringify(size)} does not fit the ${tail.length - offset} bytes left`);
      }
      values = binary(tail.subarray(offset, offset + (size as number)), info, shape as number[], count, name);
      offset += size as number;
    } else {
      if (!Array.isArray(data)) throw new MalformedResponse(`output '${name}' has neither data nor binary_data_size`);
      const flat = data.flat(Infinity) as (PlainElement | null)[];
      if (flat.length !== count) throw new MalformedResponse(`output '${name}': shape [${shape.join(',')}] needs ${count} elements, data has ${flat.length}`);
      values = json(flat, info, name);
    }
    return { name, datatype: info.datatype, shape: shape as number[], data: values };
  });
  if (offset !== tail.length) throw new MalformedResponse(`${tail.length - offset} bytes after the last binary output are not claimed by any binary_data_size`);
  return new InferResponse({ model_name, model_version, ...(id === undefined ? {} : { id: id as string }), outputs: decoded });
}

/** The JSON header (parsed keeping 64-bit integers exact) and the bytes after it. */
function split(answer: HttpAnswer): { header: unknown; tail: Buffer } {
  const length = answer.headers.get(HEADER_LENGTH);
  if (length === null) return { header: parseHeader(answer.body.toString('utf8'), 'the body'), tail: Buffer.alloc(0) };
  if (!/^\d+$/.test(length) || Number(length) > answer.body.length) {
    throw new MalformedResponse(`Inference-Header-Content-Length is ${JSON.stringify(length)}, but the body has ${answer.body.length} bytes`);
  }
  const headerLength = Number(length);
  return { header: parseHeader(answer.body.toString('utf8', 0, headerLength), `the JSON header (the first ${headerLength} bytes)`), tail: answer.body.subarray(headerLength) };
}

function parseHeader(text: string, what: string): unknown {
  try {
    return parseJsonLosslessly(text);
  } catch (error) {
    throw new MalformedResponse(`${what} is not valid JSON (${(error as Error).message})`);
  }
}

function requireKnown(datatype: unknown, name: string): DatatypeInfo {
  try {
    return requireDatatype(String(datatype), `output '${name}'`);
  } catch (error) {
    throw new MalformedResponse((error as Error).message);
  }
}

function binary(bytes: Buffer, info: DatatypeInfo, shape: number[], count: number, name: string): DataOf[Datatype] {
  try {
    return decodeBinary(bytes, info, shape, count, name, 'output');
  } catch (error) {
    throw new MalformedResponse(`binary data of output '${name}': ${(error as Error).message}`);
  }
}

function json(values: (PlainElement | null)[], info: DatatypeInfo, name: string): DataOf[Datatype] {
  try {
    return fromElements(values, info, `output '${name}'`);
  } catch (error) {
    throw new MalformedResponse((error as Error).message);
  }
}
