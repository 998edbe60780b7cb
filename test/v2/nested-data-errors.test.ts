/**
 * V2 JSON `data` is flat (row-major) or nested exactly as the shape; anything else (mixed, ragged, or nested
 * differently from the shape) is a 400 naming the input and where, never a silent reshuffle of the elements or a 500.
 * Client values quoted in messages are bounded, so values nested 10,000 deep are a 400 too (issue 14, items 2 and 3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { identityModel } from '../fixtures/onnx/build-model.ts';
import { configYaml } from '../helpers/service.ts';
import { FIXTURES, serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { assertError, inferJson, okJson, postJson } from './v2-helpers.ts';

const RULE = 'data must be flat (row-major) or nested exactly as the shape';
const DEEP = 10_000;

/** Text of `open` nested DEEP times around `inner`, closed by `close` (JSON.stringify cannot write this deep). */
const deep = (open: string, inner: string, close: string): string => `${open.repeat(DEEP)}${inner}${close.repeat(DEEP)}`;

describe('V2 JSON data: flat or nested exactly as the shape', () => {
  let harness: Harness;
  let app: Harness['app'];
  before(async () => {
    harness = await serveYaml(
      configYaml([{ model_path: `${FIXTURES}iris_logreg.onnx` }, { model_path: './strings.onnx' }, { model_path: './matrix.onnx' }, { model_path: './cube.onnx' }]),
      {
        'strings.onnx': identityModel([{ name: 'x', type: 'string', shape: ['N'] }], [{ name: 'y', type: 'string', shape: ['N'] }]),
        'matrix.onnx': identityModel([{ name: 'x', type: 'float32', shape: ['N', 'M'] }], [{ name: 'y', type: 'float32', shape: ['N', 'M'] }]),
        'cube.onnx': identityModel([{ name: 'x', type: 'float32', shape: ['N', 2, 2] }], [{ name: 'y', type: 'float32', shape: ['N', 2, 2] }]),
      },
    );
    app = harness.app;
  });
  after(() => harness.close());

  const iris = (data: unknown[], shape = [1, 4]) => ({ inputs: [{ name: 'input', datatype: 'FP32', shape, data }] });
  const tensor = (datatype: string, shape: number[], data: unknown[]) => ({ inputs: [{ name: 'x', datatype, shape, data }] });

  it('flat and exactly nested data are read in row-major order', async () => {
    okJson(await inferJson(app, 'iris_logreg', iris([5.1, 3.5, 1.4, 0.2])));
    okJson(await inferJson(app, 'iris_logreg', iris([[5.1, 3.5, 1.4, 0.2]])));
    for (const data of [[1, 2, 3, 4, 5, 6], [[1, 2, 3], [4, 5, 6]]]) {
      assert.deepEqual(okJson(await inferJson(app, 'matrix', tensor('FP32', [2, 3], data))).outputs[0]?.data, [1, 2, 3, 4, 5, 6]);
    }
    const cube = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]];
    assert.deepEqual(okJson(await inferJson(app, 'cube', tensor('FP32', [2, 2, 2], cube))).outputs[0]?.data, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(okJson(await inferJson(app, 'matrix', tensor('FP32', [2, 0], [[], []]))).outputs[0]?.data, []);
    assert.deepEqual(okJson(await inferJson(app, 'strings', tensor('BYTES', [2], ['a', 'b']))).outputs[0]?.data, ['a', 'b']);
  });

  it('an array among the elements of flat data is a 400 naming where (was: read as if flattened, or zero-filled)', async () => {
    // Was a bug: only data[0] was looked at, so [1,2,[3,5],4] answered 200 as [1,2,3,5] and [1,2,[],3] as [1,2,3,0].
    assertError(await inferJson(app, 'iris_logreg', iris([1, 2, [3, 5], 4])), 400, `input 'input': data[2] is an array but data[0] is a number: ${RULE} [1,4]`);
    assertError(await inferJson(app, 'iris_logreg', iris([1, 2, [], 3])), 400, `input 'input': data[2] is an array but data[0] is a number: ${RULE} [1,4]`);
    assertError(await inferJson(app, 'iris_logreg', iris([1, [2, 3], 4])), 400, `input 'input': data[1] is an array but data[0] is a number: ${RULE} [1,4]`);
  });

  it('BYTES data with an array among its strings is a 400, not a 500', async () => {
    assertError(await inferJson(app, 'strings', tensor('BYTES', [2], ['a', ['b', 'c']])), 400, `input 'x': data[1] is an array but data[0] is a string: ${RULE} [2]`);
  });

  it('mixed nesting inside nested data is a 400 naming where', async () => {
    assertError(await inferJson(app, 'matrix', tensor('FP32', [2, 2], [[1, 2], 3])), 400, `input 'x': data[1] is a number but data[0] is an array: ${RULE} [2,2]`);
    assertError(await inferJson(app, 'matrix', tensor('FP32', [2, 2], [[1, 2], [3, [4]]])), 400, `input 'x': data[1][1] is an array but data[1][0] is a number: ${RULE} [2,2]`);
    assertError(await inferJson(app, 'matrix', tensor('FP32', [2, 2], [[1, 2], [[3], 4]])), 400, `input 'x': data[1][0] is an array but data[0][0] is a number: ${RULE} [2,2]`);
  });

  it('ragged data is a 400 even when the element count matches the shape', async () => {
    // Was a bug: 9 elements in rows of 3, 4 and 2 were taken as a [3,3] tensor.
    assertError(
      await inferJson(app, 'matrix', tensor('FP32', [3, 3], [[1, 2, 3], [4, 5, 6, 7], [8, 9]])),
      400,
      `input 'x': data[1] has 4 elements but the shape [3,3] needs 3 in dimension 1: ${RULE} [3,3]`,
    );
  });

  it('nesting that disagrees with the shape is a 400 even when the element count matches', async () => {
    // Was a bug: two rows of 2 were taken as one row of 4.
    assertError(await inferJson(app, 'iris_logreg', iris([[1, 2], [3, 4]])), 400, `input 'input': data has 2 elements but the shape [1,4] needs 1 in dimension 0: ${RULE} [1,4]`);
    assertError(await inferJson(app, 'cube', tensor('FP32', [2, 2, 2], [[1, 2, 3, 4], [5, 6, 7, 8]])), 400, `input 'x': data[0][0] is a number but the shape [2,2,2] has 3 dimensions: ${RULE} [2,2,2]`);
    assertError(await inferJson(app, 'matrix', tensor('FP32', [1, 2], [[[1], [2]]])), 400, `input 'x': data[0][0] is an array but the shape [1,2] has 2 dimensions: ${RULE} [1,2]`);
  });
});

describe('V2 client values nested 10,000 deep', () => {
  let harness: Harness;
  let app: Harness['app'];
  before(async () => {
    harness = await serveYaml(configYaml([{ model_path: `${FIXTURES}iris_logreg.onnx` }]));
    app = harness.app;
  });
  after(() => harness.close());

  /** An iris request with `field` of the input (or the request, for id and parameters) replaced by raw JSON text. */
  const body = (input: { shape?: string; data?: string }, request = ''): string =>
    `{${request}"inputs":[{"name":"input","datatype":"FP32","shape":${input.shape ?? '[1,4]'},"data":${input.data ?? '[5.1,3.5,1.4,0.2]'}}]}`;
  const infer = (text: string) => postJson(app, '/v2/models/iris_logreg/infer', text);
  /** A 400 whose message quotes at most a bounded piece of the client's value. */
  const bounded400 = (response: Awaited<ReturnType<typeof infer>>, expected: RegExp): void => {
    const message = assertError(response, 400, expected);
    assert.ok(message.length < 400, `the message quotes a bounded piece of the value, got ${message.length} characters`);
  };

  it('a shape nested 10,000 deep is a 400', async () => {
    bounded400(await infer(body({ shape: deep('[', '1', ']') })), /^input 'input': "shape" must be an array of non-negative integers, got \[\[\[\[…\]\]\]\]$/);
  });

  it('data with an element nested 10,000 deep is a 400', async () => {
    bounded400(await infer(body({ data: `[1,2,3,${deep('[', '4', ']')}]` })), /^input 'input': data\[3\] is an array but data\[0\] is a number/);
    bounded400(await infer(body({ data: `[1,2,3,${deep('{"a":', '4', '}')}]` })), /^input 'input': element 3 is \{"a":\{"a":\{"a":\{…\}\}\}\}, expected a number for FP32$/);
    bounded400(await infer(body({ data: deep('[', '4', ']') })), /^input 'input': data\[0\]\[0\] is an array but the shape \[1,4\] has 2 dimensions/);
  });

  it('an id or parameters.timeout nested 10,000 deep is a 400', async () => {
    bounded400(await infer(body({}, `"id":${deep('[', '1', ']')},`)), /^"id" must be a string, got \[\[\[\[…\]\]\]\]$/);
    bounded400(await infer(body({}, `"parameters":{"timeout":${deep('{"a":', '1', '}')}},`)), /^parameters\.timeout must be a whole number of microseconds \(0 for none\), got \{"a":\{"a":\{"a":\{…\}\}\}\}$/);
  });

  it('long values are quoted up to 100 characters and an ellipsis', async () => {
    const message = assertError(await infer(body({}, `"id":[${JSON.stringify('x'.repeat(100_000))}],`)), 400);
    assert.equal(message, `"id" must be a string, got ["${'x'.repeat(98)}…`);
    const datatype = assertError(await infer(body({}).replace('"FP32"', JSON.stringify('Q'.repeat(100_000)))), 400);
    assert.match(datatype, /^input 'input': unknown datatype "Q{99}…; use one of BOOL/);
  });
});
