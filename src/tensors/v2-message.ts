/**
 * Open Inference Protocol inference messages: decodes a request body (JSON, the binary tensor extension, or the raw
 * header-length-0 form) into tensors, and encodes a response as JSON or binary as the request asked.
 */
import { isUtf8 } from 'node:buffer';
import { MalformedRequestError, quote, SchemaValidationError, TooManyElementsError } from '../errors.js';
import { decodeBinary, encodeBinary, splitFramedBody } from './binary.js';
import { elementCount } from './codec.js';
import { datatypeInfo } from './datatypes.js';
import { formatShape, type Tensor, type TensorSpec } from './tensor.js';
import { decodeJsonTensor, jsonData, tensorHeader } from './v2-json.js';

export interface DecodedInferRequest {
  readonly id?: string;
  readonly inputs: Tensor[];
  readonly outputs?: string[];
  /** Outputs to send as binary data: every output, or those named. */
  readonly binaryOutputs: 'all' | ReadonlySet<string>;
  /** The client's deadline from `parameters.timeout` (given in microseconds, as Triton and KServe take it). */
  readonly timeoutMs?: number;
}

function bad(message: string): SchemaValidationError {
  return new SchemaValidationError(message);
}

/**
 * Decodes a request body. `headerLength` is the `Inference-Header-Content-Length` header (undefined for plain JSON);
 * `rawInput` is the model's single input, needed only for the header-length-0 form. `maxElements`
 * (`limits.predict.max_tensor_elements`) bounds the elements of all inputs together, checked on their shapes before any
 * tensor is allocated (413 TooManyElementsError).
 */
export function decodeInferRequest(body: Buffer, headerLength: string | undefined, rawInput: () => TensorSpec, maxElements = Infinity): DecodedInferRequest {
  if (headerLength === '0') return { inputs: [decodeRawInput(body, rawInput(), maxElements)], binaryOutputs: new Set() };
  let header: unknown;
  let tail: Buffer = Buffer.alloc(0);
  if (headerLength === undefined) {
    if (!isUtf8(body)) throw new MalformedRequestError('request body is not valid UTF-8; send JSON UTF-8 encoded');
    try {
      header = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new MalformedRequestError(`request body is not valid JSON: ${(error as Error).message}`);
    }
  } else {
    if (!/^\d+$/.test(headerLength)) throw bad(`Inference-Header-Content-Length must be a byte count, got ${quote(headerLength)}`);
    ({ header, tail } = splitFramedBody(body, Number(headerLength)));
  }
  return decodeHeader(header, tail, maxElements);
}

/** The key a client raises when its request holds too many elements. */
const ELEMENTS_KEY = 'limits.predict.max_tensor_elements';

function tooManyElements(count: string, max: number): TooManyElementsError {
  return new TooManyElementsError(`the request's inputs hold ${count} tensor elements, over the limit of ${max} (${ELEMENTS_KEY}); send fewer rows per request`);
}

/**
 * Sums the elements the inputs' shapes declare and refuses the request past `max`, before any data is read. A shape
 * that is not a list of whole numbers is skipped here (decoding then reports it). Never overflows: a product stops
 * growing once it passes what is left of the budget, so `[2**53, 2**53]` is "more than" the limit, not Infinity.
 */
export function checkElementCount(inputs: readonly unknown[], max: number): void {
  if (max === Infinity) return;
  let total = 0;
  for (const input of inputs) {
    const shape = (input as { shape?: unknown } | null)?.shape;
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && (dim as number) >= 0)) continue;
    if (shape.includes(0)) continue;
    let count = 1;
    for (const [index, dim] of (shape as number[]).entries()) {
      count *= dim;
      if (total + count <= max) continue;
      // Past the budget: a lower bound when the product is complete (inputs after this one are not counted), else "more than".
      const known = index === shape.length - 1 && Number.isSafeInteger(total + count);
      throw tooManyElements(known ? `at least ${total + count}` : `more than ${max}`, max);
    }
    total += count;
  }
}

function decodeHeader(header: unknown, tail: Buffer, maxElements: number): DecodedInferRequest {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw bad('the inference request must be a JSON object with "inputs"');
  const { id, inputs, outputs, parameters } = header as { id?: unknown; inputs?: unknown; outputs?: unknown; parameters?: unknown };
  if (id !== undefined && typeof id !== 'string') throw bad(`"id" must be a string, got ${quote(id)}`);
  if (!Array.isArray(inputs) || inputs.length === 0) throw bad('"inputs" must be a non-empty array of tensors');
  checkElementCount(inputs, maxElements);
  let offset = 0;
  const tensors = inputs.map((input: unknown, index) => {
    const size = (input as { parameters?: { binary_data_size?: unknown } } | null)?.parameters?.binary_data_size;
    if (size === undefined) return decodeJsonTensor(input, `inputs[${index}]`);
    const { name, info, shape, count } = tensorHeader(input, `inputs[${index}]`);
    if (!Number.isInteger(size) || (size as number) < 0) throw bad(`input '${name}': binary_data_size must be a byte count`);
    if ((input as { data?: unknown }).data !== undefined) throw bad(`input '${name}' has both "data" and binary_data_size; send one`);
    if (offset + (size as number) > tail.length) {
      throw bad(`input '${name}': binary_data_size ${size} goes past the end of the body (${tail.length - offset} bytes left)`);
    }
    const data = decodeBinary(tail.subarray(offset, offset + (size as number)), info, shape, count, name);
    offset += size as number;
    return { name, datatype: info.datatype, shape, data };
  });
  if (offset !== tail.length) throw bad(`${tail.length - offset} bytes after the last binary input are not claimed by any binary_data_size`);
  const params = parameterObject(parameters, 'parameters');
  const allBinary = optionalBoolean(params?.binary_data_output, 'parameters.binary_data_output') ?? false;
  const requested = decodeRequestedOutputs(outputs, allBinary);
  const timeoutMs = decodeTimeout(params?.timeout);
  return {
    ...(id === undefined ? {} : { id }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    inputs: tensors,
    ...(requested ? { outputs: requested.names } : {}),
    binaryOutputs: requested ? new Set(requested.binary) : allBinary ? 'all' : new Set(),
  };
}

/** A `parameters` member: absent, or a JSON object. */
function parameterObject(value: unknown, where: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${where} must be a JSON object, got ${quote(value)}`);
  return value as Record<string, unknown>;
}

/** A boolean parameter: absent, true or false; anything else (`"yes"`, `1`, `null`) is a 400, never read as false. */
function optionalBoolean(value: unknown, where: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw bad(`${where} must be true or false, got ${quote(value)}`);
}

/** `parameters.timeout`: microseconds, 0 for none. */
function decodeTimeout(timeout: unknown): number | undefined {
  if (timeout === undefined || timeout === 0) return undefined;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0) {
    throw bad(`parameters.timeout must be a whole number of microseconds (0 for none), got ${quote(timeout)}`);
  }
  return timeout / 1000;
}

/**
 * The requested outputs and which of them go as binary: an output's own `parameters.binary_data` when it has one, else
 * the request's `binary_data_output` (the binary tensor extension: the per-output setting wins).
 */
function decodeRequestedOutputs(outputs: unknown, allBinary: boolean): { names: string[]; binary: string[] } | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) throw bad('"outputs" must be an array of {"name": ...}');
  const names: string[] = [];
  const binary: string[] = [];
  outputs.forEach((output: unknown, index) => {
    const name = (output as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') throw bad('every entry of "outputs" needs a "name" string');
    names.push(name);
    const params = parameterObject((output as { parameters?: unknown }).parameters, `outputs[${index}].parameters`);
    if (params?.classification !== undefined) {
      throw bad(`output '${name}': the classification extension is not supported; ask for the output itself and rank its values`);
    }
    if (optionalBoolean(params?.binary_data, `outputs[${index}].parameters.binary_data`) ?? allBinary) binary.push(name);
  });
  return { names, binary };
}

/** The whole body is the raw data of a single-input model; its shape follows from the byte count. */
function decodeRawInput(body: Buffer, spec: TensorSpec, maxElements: number): Tensor {
  const info = datatypeInfo(spec.datatype);
  if (!info || info.datatype === 'BYTES') throw bad(`the raw binary form (Inference-Header-Content-Length: 0) needs a fixed-size datatype; input '${spec.name}' is ${spec.datatype}`);
  const rest = spec.shape.slice(1);
  if (spec.shape.length === 0 || rest.some((dim) => dim < 0)) {
    throw bad(`the raw binary form needs input '${spec.name}' to be dynamic in its first dimension only; it is ${formatShape(spec.shape)}`);
  }
  const rowBytes = elementCount(rest) * info.byteSize;
  if (body.length % rowBytes !== 0 || (spec.shape[0] !== -1 && body.length !== (spec.shape[0] as number) * rowBytes)) {
    throw bad(`input '${spec.name}': ${body.length} bytes of raw data is not a whole number of ${spec.datatype} ${formatShape(spec.shape)} rows (${rowBytes} bytes each)`);
  }
  const shape = [body.length / rowBytes, ...rest];
  const count = elementCount(shape);
  if (count > maxElements) throw tooManyElements(String(count), maxElements);
  return { name: spec.name, datatype: info.datatype, shape, data: decodeBinary(body, info, shape, count, spec.name) };
}

export interface EncodedResponse {
  readonly body: string | Buffer;
  /** Set when the body is framed: the JSON header's byte length. */
  readonly headerLength?: number;
}

/** Writes the response; outputs named in `binary` (or all) go as raw bytes after the JSON header. */
export function encodeInferResponse(
  response: { model_name: string; model_version: string; id?: string; outputs: readonly Tensor[] },
  binary: 'all' | ReadonlySet<string>,
): EncodedResponse {
  const tails: Buffer[] = [];
  const outputs = response.outputs.map((output) => {
    const head = `{"name":${JSON.stringify(output.name)},"datatype":"${output.datatype}","shape":[${output.shape.join(',')}]`;
    if (binary !== 'all' && !binary.has(output.name)) return `${head},"data":${jsonData(output)}}`;
    const bytes = encodeBinary(output.data);
    tails.push(bytes);
    return `${head},"parameters":{"binary_data_size":${bytes.length}}}`;
  });
  const id = response.id === undefined ? '' : `,"id":${JSON.stringify(response.id)}`;
  const json = `{"model_name":${JSON.stringify(response.model_name)},"model_version":${JSON.stringify(response.model_version)}${id},"outputs":[${outputs.join(',')}]}`;
  if (tails.length === 0) return { body: json };
  const header = Buffer.from(json, 'utf8');
  return { body: Buffer.concat([header, ...tails]), headerLength: header.length };
}
