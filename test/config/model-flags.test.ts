/**
 * `--model` specs as model entries: `name=file.onnx` and a bare path become ONNX entries; a TypeScript or JavaScript
 * module is refused with a ConfigError (exit 2) that says what `--model` takes and how to serve the module (issue 14).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelFlagEntries } from '../../src/config/model-flags.ts';
import { ConfigError } from '../../src/errors.ts';

describe('modelFlagEntries', () => {
  it('turns name=file.onnx and a bare path into model entries labelled with the flag', () => {
    assert.deepEqual(modelFlagEntries(['iris=./models/iris.onnx', 'digits.onnx', 'weird=a=b.bin']), [
      { label: '--model iris=./models/iris.onnx', entry: { qualified_name: 'iris', model_path: './models/iris.onnx' } },
      { label: '--model digits.onnx', entry: { model_path: 'digits.onnx' } },
      { label: '--model weird=a=b.bin', entry: { qualified_name: 'weird', model_path: 'a=b.bin' } },
    ]);
  });

  for (const spec of ['x.ts', './x.mts', 'a/x.cts', 'x.tsx', 'x.js', 'x.mjs', 'x.cjs', 'iris=./m/x.TS#Iris', 'x.js#']) {
    it(`refuses ${spec} as a code module`, () => {
      assert.throws(
        () => modelFlagEntries(['ok.onnx', spec]),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.startsWith(`--model ${spec}: --model takes an ONNX file (--model name=file.onnx, or --model file.onnx), and `) &&
          /class_path: \S+#\w+/.test(error.message) &&
          error.details[0]?.path === `--model ${spec}`,
      );
    });
  }

  it('names the language and keeps the export of the spec in the example class_path', () => {
    assert.throws(() => modelFlagEntries(['iris=./m/iris.ts#IrisModel']), /and \.\/m\/iris\.ts is a TypeScript module\. .*'class_path: \.\/m\/iris\.ts#IrisModel'/);
    assert.throws(() => modelFlagEntries(['lib/m.cjs']), /and lib\/m\.cjs is a JavaScript module\. .*'class_path: \.\/lib\/m\.cjs#YourModelClass'/);
  });

  it('leaves other files to the ONNX runtime, which says when one is not ONNX', () => {
    assert.deepEqual(modelFlagEntries(['model.json', 'tsconfig.d', 'x.ts.onnx']).map((model) => model.entry.model_path), ['model.json', 'tsconfig.d', 'x.ts.onnx']);
  });
});
