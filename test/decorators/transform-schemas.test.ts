/**
 * longshore:transform: a text preprocessor in front of a numeric model makes the raw-text schema the one callers see
 * (OpenAPI and validation), the model's own input is refused, and the answer is the model's on the computed features;
 * an output transform sees the caller's input; schemas may be inline or exports; a missing export fails the model's
 * load with a message naming the key and the module's exports; a bad configuration is refused at construction.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { TransformDecorator } from '../../src/decorators/builtin/transform.ts';
import { serveYaml, type Harness } from '../runtimes/onnx-harness.ts';
import { fixturePath, predict, testSetup } from './decorator-helpers.ts';

const MODEL = fixturePath('word-score-model.ts', 'WordScoreModel');
const MODULE = fixturePath('text-features.ts');

describe('TransformDecorator (class)', () => {
  it('needs at least one of input, output, input_schema, output_schema, and a module', () => {
    assert.throws(() => new TransformDecorator({ module: './m.ts' }, testSetup()), /needs at least one of input, output, input_schema, output_schema/);
    assert.throws(() => new TransformDecorator({ input: 'f' }, testSetup()), /module must be a non-empty string, got nothing/);
    assert.throws(() => new TransformDecorator({ module: './m.ts', input_schema: 5 }, testSetup()), /input_schema must be the name of an export of the module or an inline JSON Schema/);
    assert.throws(() => new TransformDecorator({ module: './m.ts', inputs: 'f' }, testSetup()), /inputs is not a setting of longshore:transform/);
  });

  it('presents an inline schema from construction, an exported one after load, else the inner one', async () => {
    const inline = { type: 'object', properties: { q: { type: 'string' } } };
    const decorator = new TransformDecorator({ module: './text-features.ts', input_schema: inline, output_schema: 'LabelledScore' }, testSetup());
    const inner = { type: 'object' };
    assert.equal(decorator.inputSchema(inner), inline);
    assert.equal(decorator.outputSchema(inner), inner, 'not loaded yet');
    await decorator.load();
    assert.deepEqual(Object.keys(decorator.outputSchema(inner).properties as object), ['score', 'loud', 'text', 'request_id']);
  });
});

describe('longshore:transform over HTTP', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveYaml(
      [
        'models:',
        `  - class_path: ${MODEL}`,
        '    qualified_name: text_score',
        '    decorators:',
        '      - class_path: longshore:transform',
        `        configuration: {module: ${MODULE}, input: toCounts, input_schema: RawText}`,
        `  - class_path: ${MODEL}`,
        '    qualified_name: labelled',
        '    decorators:',
        '      - class_path: longshore:transform',
        '        configuration:',
        '          module: ./text-features.ts', // relative to the config's directory
        '          input: toCounts',
        '          output: labelScore',
        '          input_schema: {type: object, properties: {text: {type: string}}, required: [text], additionalProperties: false}',
        '          output_schema: LabelledScore',
        `  - class_path: ${MODEL}`,
        '    qualified_name: missing_export',
        '    required: false',
        '    decorators:',
        '      - class_path: longshore:transform',
        `        configuration: {module: ${MODULE}, input: toFeatures}`,
        `  - class_path: ${MODEL}`,
        '    qualified_name: not_a_function',
        '    required: false',
        '    decorators:',
        '      - class_path: longshore:transform',
        `        configuration: {module: ${MODULE}, output: notAFunction}`,
      ].join('\n'),
      { 'text-features.ts': readFileSync(MODULE, 'utf8') },
    );
  });
  after(() => harness.close());

  it('shows the raw-text schema as the OpenAPI input component and the model’s own output', async () => {
    const document = (await harness.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ components: { schemas: Record<string, Record<string, unknown>> } }>();
    const input = document.components.schemas.text_score_input ?? {};
    assert.deepEqual(input.properties, { text: { type: 'string', minLength: 1, description: 'Any text.' } });
    assert.deepEqual(input.required, ['text']);
    assert.deepEqual(Object.keys(document.components.schemas.text_score_output?.properties as object), ['score']);
    assert.deepEqual(Object.keys(document.components.schemas.labelled_output?.properties as object), ['score', 'loud', 'text', 'request_id']);
  });

  it('scores text through the preprocessor: words + 10 × exclamations', async () => {
    const response = await predict(harness, 'text_score', { text: 'what a  great day!! really!' });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { score: 5 + 10 * 3 });
  });

  it('refuses the model’s original input (400, against the raw-text schema) and text that fails it', async () => {
    const original = await predict(harness, 'text_score', { words: 3, exclamations: 1 });
    assert.equal(original.statusCode, 400, original.body);
    const body = original.json<{ type: string; details: { path: string; message: string }[] }>();
    assert.equal(body.type, 'SchemaValidationError');
    assert.deepEqual(body.details.map((d) => d.path).sort(), ['/exclamations', '/text', '/words']);
    const empty = await predict(harness, 'text_score', { text: '' });
    assert.equal(empty.statusCode, 400, empty.body);
  });

  it('runs the output transform with the caller’s input and context', async () => {
    const quiet = await predict(harness, 'labelled', { text: 'one two three' }, { 'x-request-id': 'req-42' });
    assert.equal(quiet.statusCode, 200, quiet.body);
    assert.deepEqual(quiet.json(), { score: 3, loud: false, text: 'one two three', request_id: 'req-42' });
    const loud = await predict(harness, 'labelled', { text: 'yes!!! yes' });
    assert.equal(loud.json<{ score: number; loud: boolean }>().score, 32);
    assert.equal(loud.json<{ loud: boolean }>().loud, true);
  });

  it('fails a model whose transform names a missing export, naming the key and the module’s exports', async () => {
    const list = (await harness.app.inject({ method: 'GET', url: '/api/models' })).json<{ models: { qualified_name: string; status: string; error?: string }[] }>().models;
    const missing = list.find((m) => m.qualified_name === 'missing_export');
    assert.equal(missing?.status, 'failed');
    assert.match(missing?.error ?? '', /decorator 'longshore:transform': configuration\.input: '.*text-features\.ts' has no export 'toFeatures'; its exports are: .*toCounts/);
    const notFunction = list.find((m) => m.qualified_name === 'not_a_function');
    assert.equal(notFunction?.status, 'failed');
    assert.match(notFunction?.error ?? '', /configuration\.output: export 'notAFunction' of .* is not a function \(it is a number\)/);
    const ready = list.find((m) => m.qualified_name === 'text_score');
    assert.equal(ready?.status, 'ready');
  });
});
