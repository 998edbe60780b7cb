/**
 * BYTES elements sent in binary to a model that takes strings (an ONNX string input, a record model's string field)
 * must be valid UTF-8: anything else is a 400 naming the tensor and the element, never a silent U+FFFD (issue 14, item
 * 7). Raw bytes of other datatypes (UINT8) are not text and are not checked.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { identityModel } from '../fixtures/onnx/build-model.ts';
import { configYaml } from '../helpers/service.ts';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { assertError, bytesElements, decodeFramedResponse, elementsOf, framedRequest, inferFramed, okJson } from './v2-helpers.ts';

const COLUMN_MODELS = join(import.meta.dirname, 'fixtures/column-models.ts');

/** BYTES elements framed as the extension does, each given as raw bytes. */
function rawElements(elements: readonly Buffer[]): Buffer {
  return Buffer.concat(elements.flatMap((bytes) => [Buffer.from(Uint32Array.of(bytes.length).buffer), bytes]));
}

const NOT_UTF8 = [Buffer.from([0xff, 0xfe]), Buffer.from([0x61, 0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf])];

describe('V2 binary BYTES into string tensors must be UTF-8', () => {
  let harness: Harness;
  let app: Harness['app'];
  before(async () => {
    harness = await serveYaml(configYaml([{ model_path: './strings.onnx' }, { model_path: './u8.onnx' }, { class_path: `${COLUMN_MODELS}#ColumnsModel` }]), {
      'strings.onnx': identityModel([{ name: 'x', type: 'string', shape: ['N'] }], [{ name: 'y', type: 'string', shape: ['N'] }]),
      'u8.onnx': identityModel([{ name: 'x', type: 'uint8', shape: ['N'] }], [{ name: 'y', type: 'uint8', shape: ['N'] }]),
    });
    app = harness.app;
  });
  after(() => harness.close());

  it('UTF-8 strings arrive intact, multi-byte characters and a leading byte-order mark included', async () => {
    const strings = ['plain', 'héllo wörld', '日本語', '🙂', '\uFEFFbom', ''];
    const request = framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'BYTES', shape: [strings.length], bytes: bytesElements(strings) }]);
    assert.deepEqual(elementsOf(decodeFramedResponse(await inferFramed(app, 'strings', request)).outputs.get('y')), strings);
  });

  it('an element that is not UTF-8 is a 400 naming the ONNX input and the element (was: replaced by U+FFFD)', async () => {
    for (const invalid of NOT_UTF8) {
      const bytes = rawElements([Buffer.from('ok'), Buffer.from('fine'), invalid]);
      const response = await inferFramed(app, 'strings', framedRequest({}, [{ name: 'x', datatype: 'BYTES', shape: [3], bytes }]));
      assertError(response, 400, "input 'x': BYTES element 2 is not valid UTF-8; this model takes strings, so send them UTF-8 encoded");
    }
  });

  it("an element that is not UTF-8 is a 400 naming the record model's string field", async () => {
    const header = {
      inputs: [
        { name: 'n', datatype: 'INT64', shape: [2], data: [1, 2] },
        { name: 'flag', datatype: 'BOOL', shape: [2], data: [true, false] },
        { name: 'pair', datatype: 'FP64', shape: [2, 2], data: [1, 2, 3, 4] },
      ],
    };
    const tag = (bytes: Buffer) => ({ name: 'tag', datatype: 'BYTES', shape: [2], bytes });
    const good = okJson(await inferFramed(app, 'columns', framedRequest({}, [...header.inputs, tag(bytesElements(['a', 'ü']))])));
    assert.deepEqual(good.outputs.find((output) => output.name === 'tag')?.data, ['a!', 'ü!']);
    const response = await inferFramed(app, 'columns', framedRequest({}, [...header.inputs, tag(rawElements([Buffer.from([0x80]), Buffer.from('b')]))]));
    assertError(response, 400, "input 'tag': BYTES element 0 is not valid UTF-8; this model takes strings, so send them UTF-8 encoded");
  });

  it('raw UINT8 bytes are not text and are passed through as they are', async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0xc0, 0x80]);
    const request = framedRequest({ parameters: { binary_data_output: true } }, [{ name: 'x', datatype: 'UINT8', shape: [4], bytes }]);
    assert.deepEqual(elementsOf(decodeFramedResponse(await inferFramed(app, 'u8', request)).outputs.get('y')), [0xff, 0xfe, 0xc0, 0x80]);
  });
});
