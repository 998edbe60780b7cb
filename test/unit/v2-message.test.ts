/**
 * Whole V2 inference messages (src/tensors/v2-message.ts): request bodies decoded from JSON, the framed binary
 * extension and the raw header-length-0 form (each malformed part a 400 naming it), and responses encoded as JSON or
 * framed binary per output, decoding back to the same tensors.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MalformedRequestError, SchemaValidationError } from '../../src/errors.ts';
import { decodeBinary } from '../../src/tensors/binary.ts';
import { datatypeInfo, type DatatypeInfo } from '../../src/tensors/datatypes.ts';
import type { Tensor, TensorSpec } from '../../src/tensors/tensor.ts';
import { decodeInferRequest, encodeInferResponse, type DecodedInferRequest } from '../../src/tensors/v2-message.ts';
import { expectError } from './expect-error.ts';

const NO_RAW = (): TensorSpec => {
  throw new Error('the raw input spec is read only for the header-length-0 form');
};

function decodeJson(message: unknown): DecodedInferRequest {
  return decodeInferRequest(Buffer.from(JSON.stringify(message)), undefined, NO_RAW);
}

/** A framed body: the JSON header, then the binary parts in order; returns it with the header length as sent. */
function framed(header: unknown, ...parts: Buffer[]): [Buffer, string] {
  const json = Buffer.from(JSON.stringify(header));
  return [Buffer.concat([json, ...parts]), String(json.length)];
}

const fp32 = (...values: number[]) => Buffer.from(Float32Array.from(values).buffer);
const input = (extra: Record<string, unknown> = {}) => ({ name: 'x', datatype: 'FP32', shape: [2], data: [1, 2], ...extra });
const failsJson = (message: unknown, ...fragments: string[]) => expectError(() => decodeJson(message), SchemaValidationError, 400, ...fragments);

describe('decodeInferRequest: JSON', () => {
  it('decodes id, inputs, requested outputs and parameters; no binary outputs by default', () => {
    const request = decodeJson({ id: 'r1', inputs: [input()], outputs: [{ name: 'y' }, { name: 'z' }], parameters: { timeout: 1500 } });
    assert.equal(request.id, 'r1');
    assert.deepEqual(request.inputs, [{ name: 'x', datatype: 'FP32', shape: [2], data: Float32Array.from([1, 2]) }]);
    assert.deepEqual(request.outputs, ['y', 'z']);
    assert.deepEqual(request.binaryOutputs, new Set());
    assert.equal(request.timeoutMs, 1.5, 'parameters.timeout is in microseconds');
  });

  it('leaves out id, outputs and timeoutMs when the request has none (timeout 0 means none)', () => {
    const request = decodeJson({ inputs: [input()], parameters: { timeout: 0 } });
    assert.deepEqual(Object.keys(request).sort(), ['binaryOutputs', 'inputs']);
  });

  it('takes binary_data_output for every output, and a per-output binary_data over it', () => {
    assert.equal(decodeJson({ inputs: [input()], parameters: { binary_data_output: true } }).binaryOutputs, 'all');
    const mixed = decodeJson({
      inputs: [input()],
      parameters: { binary_data_output: true },
      outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: false } }],
    });
    assert.deepEqual(mixed.binaryOutputs, new Set(['a']));
    const one = decodeJson({ inputs: [input()], outputs: [{ name: 'a' }, { name: 'b', parameters: { binary_data: true } }] });
    assert.deepEqual(one.binaryOutputs, new Set(['b']));
  });

  it('refuses a body that is not UTF-8 or not JSON as a malformed request', () => {
    expectError(() => decodeInferRequest(Buffer.from([0x7b, 0xff, 0x7d]), undefined, NO_RAW), MalformedRequestError, 400, 'request body is not valid UTF-8');
    expectError(() => decodeInferRequest(Buffer.from('{"inputs":'), undefined, NO_RAW), MalformedRequestError, 400, 'request body is not valid JSON');
  });

  it('refuses a message without a non-empty inputs array, or with an id that is not a string', () => {
    assert.equal(failsJson([1]).message, 'the inference request must be a JSON object with "inputs"');
    failsJson({ inputs: [] }, '"inputs" must be a non-empty array of tensors');
    failsJson({ inputs: {} }, '"inputs" must be a non-empty array of tensors');
    assert.equal(failsJson({ id: 7, inputs: [input()] }).message, '"id" must be a string, got 7');
  });

  it('refuses malformed parameters, naming the parameter and quoting the value', () => {
    failsJson({ inputs: [input()], parameters: [] }, 'parameters must be a JSON object, got []');
    failsJson({ inputs: [input()], parameters: { binary_data_output: 'yes' } }, 'parameters.binary_data_output must be true or false, got "yes"');
    failsJson({ inputs: [input()], outputs: [{ name: 'a', parameters: { binary_data: 1 } }] }, 'outputs[0].parameters.binary_data must be true or false, got 1');
    failsJson({ inputs: [input()], outputs: [{ name: 'a', parameters: 'x' }] }, 'outputs[0].parameters must be a JSON object, got "x"');
    failsJson({ inputs: [input()], parameters: { timeout: -5 } }, 'parameters.timeout must be a whole number of microseconds (0 for none), got -5');
    failsJson({ inputs: [input()], parameters: { timeout: '100' } }, 'got "100"');
  });

  it('refuses malformed requested outputs and the classification extension', () => {
    failsJson({ inputs: [input()], outputs: 'y' }, '"outputs" must be an array of {"name": ...}');
    failsJson({ inputs: [input()], outputs: [{}] }, 'every entry of "outputs" needs a "name" string');
    failsJson({ inputs: [input()], outputs: [null] }, 'every entry of "outputs" needs a "name" string');
    failsJson({ inputs: [input()], outputs: [{ name: 'p', parameters: { classification: 2 } }] }, "output 'p': the classification extension is not supported");
  });
});

describe('decodeInferRequest: framed binary', () => {
  it('decodes binary inputs in header order, mixed with JSON inputs', () => {
    const ids = Buffer.from(BigInt64Array.from([2n ** 53n + 1n, -(2n ** 63n)]).buffer);
    const [body, length] = framed(
      {
        inputs: [
          { name: 'a', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
          { name: 'j', datatype: 'INT32', shape: [1], data: [7] },
          { name: 'ids', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
        ],
      },
      fp32(0.5, -1),
      ids,
    );
    const request = decodeInferRequest(body, length, NO_RAW);
    assert.deepEqual(
      request.inputs.map((tensor) => [tensor.name, tensor.shape, Array.from(tensor.data as ArrayLike<unknown>)]),
      [
        ['a', [2], [0.5, -1]],
        ['j', [1], [7]],
        ['ids', [2], [2n ** 53n + 1n, -(2n ** 63n)]],
      ],
    );
  });

  it('decodes an empty binary tensor (shape [0, 3], binary_data_size 0)', () => {
    const [body, length] = framed({ inputs: [{ name: 'e', datatype: 'FP32', shape: [0, 3], parameters: { binary_data_size: 0 } }] });
    const [tensor] = decodeInferRequest(body, length, NO_RAW).inputs;
    assert.deepEqual(tensor?.shape, [0, 3]);
    assert.equal(tensor?.data.length, 0);
  });

  it('refuses a header length that is not a byte count, or past the end of the body', () => {
    const [body] = framed({ inputs: [input()] });
    expectError(() => decodeInferRequest(body, '12abc', NO_RAW), SchemaValidationError, 400, 'Inference-Header-Content-Length must be a byte count, got "12abc"');
    expectError(() => decodeInferRequest(body, '-3', NO_RAW), SchemaValidationError, 400, 'got "-3"');
    expectError(() => decodeInferRequest(body, String(body.length + 1), NO_RAW), SchemaValidationError, 400, `is ${body.length + 1}, but the body has ${body.length} bytes`);
  });

  it('refuses a header cut inside the JSON as malformed', () => {
    const [body] = framed({ inputs: [input()] });
    expectError(() => decodeInferRequest(body, '10', NO_RAW), MalformedRequestError, 400, 'the JSON header (the first 10 bytes) is not valid JSON');
  });

  it('refuses a binary_data_size past the end of the body, naming the input and the bytes left', () => {
    const [body, length] = framed({ inputs: [{ name: 'a', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }] }, fp32(1));
    const error = expectError(() => decodeInferRequest(body, length, NO_RAW), SchemaValidationError, 400);
    assert.equal(error.message, "input 'a': binary_data_size 8 goes past the end of the body (4 bytes left)");
  });

  it('refuses a binary_data_size that does not match the shape (short buffer for the tensor)', () => {
    const [body, length] = framed({ inputs: [{ name: 'a', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 4 } }] }, fp32(1));
    expectError(() => decodeInferRequest(body, length, NO_RAW), SchemaValidationError, 400, "input 'a': FP32 [2] needs 8 bytes of binary data, got 4");
  });

  it('refuses bytes no binary_data_size claims, a bad size, and data given both ways', () => {
    const [extra, extraLength] = framed({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], parameters: { binary_data_size: 4 } }] }, fp32(1, 2));
    expectError(() => decodeInferRequest(extra, extraLength, NO_RAW), SchemaValidationError, 400, '4 bytes after the last binary input are not claimed by any binary_data_size');
    const [bad, badLength] = framed({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], parameters: { binary_data_size: -4 } }] });
    expectError(() => decodeInferRequest(bad, badLength, NO_RAW), SchemaValidationError, 400, "input 'a': binary_data_size must be a byte count");
    const [both, bothLength] = framed({ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1], parameters: { binary_data_size: 4 } }] }, fp32(1));
    expectError(() => decodeInferRequest(both, bothLength, NO_RAW), SchemaValidationError, 400, `input 'a' has both "data" and binary_data_size; send one`);
  });
});

describe('decodeInferRequest: raw (header length 0)', () => {
  const spec = (shape: number[], datatype: TensorSpec['datatype'] = 'FP32'): (() => TensorSpec) => () => ({ name: 'x', datatype, shape });

  it('reads the whole body as rows of the single input, its first dimension from the byte count', () => {
    const request = decodeInferRequest(fp32(1, 2, 3, 4, 5, 6), '0', spec([-1, 3]));
    assert.deepEqual(request.inputs, [{ name: 'x', datatype: 'FP32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]);
    assert.deepEqual(request.binaryOutputs, new Set());
    assert.deepEqual(decodeInferRequest(Buffer.alloc(0), '0', spec([-1, 3])).inputs[0]?.shape, [0, 3]);
    assert.deepEqual(decodeInferRequest(fp32(1, 2), '0', spec([2])).inputs[0]?.shape, [2]);
  });

  it('refuses BYTES, dynamic inner dims, a partial row, and a fixed first dim the body does not fill', () => {
    expectError(() => decodeInferRequest(Buffer.alloc(4), '0', spec([-1], 'BYTES')), SchemaValidationError, 400, "needs a fixed-size datatype; input 'x' is BYTES");
    expectError(() => decodeInferRequest(Buffer.alloc(4), '0', spec([-1, -1])), SchemaValidationError, 400, "needs input 'x' to be dynamic in its first dimension only; it is [-1,-1]");
    expectError(() => decodeInferRequest(Buffer.alloc(4), '0', spec([])), SchemaValidationError, 400, 'it is []');
    const partial = expectError(() => decodeInferRequest(Buffer.alloc(10), '0', spec([-1, 3])), SchemaValidationError, 400);
    assert.equal(partial.message, "input 'x': 10 bytes of raw data is not a whole number of FP32 [-1,3] rows (12 bytes each)");
    expectError(() => decodeInferRequest(Buffer.alloc(24), '0', spec([1, 3])), SchemaValidationError, 400, '24 bytes of raw data');
  });
});

describe('encodeInferResponse', () => {
  const outputs: Tensor[] = [
    { name: 'probabilities', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([0.25, 0.75, 1, Number.NaN]) },
    { name: 'label', datatype: 'BYTES', shape: [2], data: ['setosa', 'virginicä'] },
    { name: 'ids', datatype: 'INT64', shape: [1], data: BigInt64Array.from([2n ** 60n + 1n]) },
  ];
  const response = { model_name: 'm', model_version: '1', id: 'r1', outputs };

  it('writes JSON with every output inline when none is binary (id kept, 64-bit digits exact, NaN as null)', () => {
    const { body, headerLength } = encodeInferResponse(response, new Set());
    assert.equal(headerLength, undefined);
    assert.equal(
      body,
      '{"model_name":"m","model_version":"1","id":"r1","outputs":[' +
        '{"name":"probabilities","datatype":"FP32","shape":[2,2],"data":[0.25,0.75,1,null]},' +
        '{"name":"label","datatype":"BYTES","shape":[2],"data":["setosa","virginicä"]},' +
        '{"name":"ids","datatype":"INT64","shape":[1],"data":[1152921504606846977]}]}',
    );
  });

  it('frames the outputs asked for in binary after the JSON header and round-trips them', () => {
    const { body, headerLength } = encodeInferResponse({ ...response, id: undefined }, new Set(['label', 'ids']));
    assert.ok(Buffer.isBuffer(body) && headerLength !== undefined);
    const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { id?: string; outputs: Record<string, unknown>[] };
    assert.equal(header.id, undefined);
    assert.deepEqual(header.outputs[0]?.data, [0.25, 0.75, 1, null]);
    const labelSize = 4 + 6 + 4 + Buffer.byteLength('virginicä');
    assert.deepEqual(header.outputs[1], { name: 'label', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: labelSize } });
    assert.deepEqual(header.outputs[2], { name: 'ids', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } });
    const tail = body.subarray(headerLength);
    assert.equal(tail.length, labelSize + 8);
    const info = (datatype: string) => datatypeInfo(datatype) as DatatypeInfo;
    assert.deepEqual(decodeBinary(tail.subarray(0, labelSize), info('BYTES'), [2], 2, 'label', 'output'), ['setosa', 'virginicä']);
    assert.deepEqual(decodeBinary(tail.subarray(labelSize), info('INT64'), [1], 1, 'ids', 'output'), BigInt64Array.from([2n ** 60n + 1n]));
  });

  it("'all' sends every output in binary; the request decoder reads such a body back as the same tensors", () => {
    const { body, headerLength } = encodeInferResponse(response, 'all');
    assert.ok(Buffer.isBuffer(body));
    // A response frame has the shape of a request frame: decode it as one to check the bytes are the tensors.
    const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as { outputs: unknown[] };
    const asRequest = Buffer.concat([Buffer.from(JSON.stringify({ inputs: header.outputs })), body.subarray(headerLength)]);
    const headerBytes = Buffer.byteLength(JSON.stringify({ inputs: header.outputs }));
    const back = decodeInferRequest(asRequest, String(headerBytes), NO_RAW).inputs;
    assert.deepEqual(back.map((tensor) => tensor.name), ['probabilities', 'label', 'ids']);
    assert.deepEqual(Array.from(back[0]?.data as Float32Array), [0.25, 0.75, 1, Number.NaN]);
    assert.deepEqual(back[1]?.data, ['setosa', 'virginicä']);
    assert.deepEqual(back[2]?.data, BigInt64Array.from([2n ** 60n + 1n]));
  });

  it('escapes names and ids as JSON strings', () => {
    const { body } = encodeInferResponse({ model_name: 'a"b', model_version: '', id: 'x\ny', outputs: [{ name: 'q"', datatype: 'BOOL', shape: [0], data: new Uint8Array(0) }] }, new Set());
    assert.deepEqual(JSON.parse(body as string), { model_name: 'a"b', model_version: '', id: 'x\ny', outputs: [{ name: 'q"', datatype: 'BOOL', shape: [0], data: [] }] });
  });
});
