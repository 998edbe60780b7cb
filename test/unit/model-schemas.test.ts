/**
 * A served model's schemas (src/model/model-schemas.ts, with src/model/schema-edit.ts): compiled once per schema
 * object, as the model has them and as its decorators present them, with their validators, tensor columns and record
 * signature; an invalid schema is an error naming the model and which schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { NamedDecorator } from '../../src/decorators/chain.ts';
import type { JsonSchema, Model } from '../../src/model/contract.ts';
import { ModelSchemas, RECORD_PLATFORM } from '../../src/model/model-schemas.ts';
import { withRequiredProperty } from '../../src/model/schema-edit.ts';

const INPUT = {
  type: 'object',
  properties: { sepal: { type: 'array', minItems: 2, maxItems: 2, items: { type: 'number' } }, note: { type: 'string' } },
  required: ['sepal'],
  additionalProperties: false,
};
const OUTPUT = { type: 'object', properties: { label: { type: 'string' } }, required: ['label'] };

function model(input?: unknown, output?: unknown): Model {
  return { input_schema: input as JsonSchema, output_schema: output as JsonSchema, predict: () => ({}) } as Model;
}

/** A decorator adding a required `id` to the output, as the prediction id decorator does. */
const ADDS_ID: NamedDecorator = {
  label: 'longshore:prediction_id',
  decorator: { outputSchema: (inner) => withRequiredProperty(inner, 'id', { type: 'string' }) as JsonSchema, predict: (input, next) => next(input) },
};

describe('withRequiredProperty', () => {
  it('returns a copy with the property added and required, leaving the original alone', () => {
    const original = { type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false };
    const copy = withRequiredProperty(original, 'id', { type: 'string' });
    assert.deepEqual(copy, { type: 'object', properties: { a: { type: 'number' }, id: { type: 'string' } }, required: ['a', 'id'], additionalProperties: false });
    assert.deepEqual(original, { type: 'object', properties: { a: { type: 'number' } }, required: ['a'], additionalProperties: false });
  });

  it('adds properties and required to a schema that has neither, and does not list a name twice', () => {
    assert.deepEqual(withRequiredProperty({ type: 'object' }, 'id', { type: 'string' }), { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] });
    const again = withRequiredProperty({ properties: { id: { type: 'integer' } }, required: ['id'] }, 'id', { type: 'string' });
    assert.deepEqual(again, { properties: { id: { type: 'string' } }, required: ['id'] });
  });
});

describe('ModelSchemas', () => {
  it('without decorators serves the model schemas themselves, their validators and their columns', () => {
    const schemas = new ModelSchemas('iris', []);
    schemas.compile(model(INPUT, OUTPUT));
    assert.equal(schemas.input, INPUT);
    assert.equal(schemas.output, OUTPUT);
    assert.equal(schemas.decoratesInput, false);
    assert.equal(schemas.validators?.validateInput, schemas.validateModelInput);
    assert.equal(schemas.validators?.validateOutput, schemas.validateModelOutput);
    assert.equal(schemas.validators?.validateInput({ sepal: [1, 2] }), undefined);
    assert.deepEqual(schemas.validators?.validateInput({ sepal: [1], extra: 1 }), [
      { path: '/extra', message: 'is not an allowed field' },
      { path: '/sepal', message: 'must NOT have fewer than 2 items' },
    ]);
    assert.deepEqual(schemas.inputColumns.map((c) => [c.name, c.kind, c.datatype, c.shape]), [
      ['sepal', 'typed', 'FP64', [-1, 2]],
      ['note', 'json', 'BYTES', [-1]],
    ]);
    assert.deepEqual(schemas.modelInputColumns, schemas.inputColumns);
  });

  it('builds the record signature from the columns, with the record platform', () => {
    const schemas = new ModelSchemas('iris', []);
    schemas.compile(model(INPUT, OUTPUT));
    const signature = schemas.recordSignature;
    assert.equal(signature?.platform, RECORD_PLATFORM);
    assert.equal(RECORD_PLATFORM, 'longshore_records');
    assert.deepEqual(signature?.inputs.map((spec) => [spec.name, spec.datatype, spec.shape, spec.optional ?? false]), [
      ['sepal', 'FP64', [-1, 2], false],
      ['note', 'BYTES', [-1], true],
    ]);
    assert.deepEqual(signature?.outputs.map((spec) => [spec.name, spec.datatype, spec.shape]), [['label', 'BYTES', [-1]]]);
  });

  it('presents the output as the decorators change it, validating it apart from the model own output', () => {
    const schemas = new ModelSchemas('iris', [ADDS_ID]);
    schemas.compile(model(INPUT, OUTPUT));
    assert.notEqual(schemas.output, OUTPUT);
    assert.deepEqual(schemas.output?.required, ['label', 'id']);
    assert.equal(schemas.decoratesInput, false);
    assert.equal(schemas.validateModelOutput?.({ label: 'a' }), undefined);
    assert.deepEqual(schemas.validators?.validateOutput({ label: 'a' }), [{ path: '/id', message: 'is required' }]);
    assert.deepEqual(schemas.outputColumns.map((c) => c.name), ['label', 'id']);
    assert.deepEqual(schemas.recordSignature?.outputs.map((spec) => spec.name), ['label', 'id']);
  });

  it('marks the input decorated when a decorator changes it; the model input columns stay the model own', () => {
    const wrapsInput: NamedDecorator = {
      label: 'wrap',
      decorator: { inputSchema: (inner) => withRequiredProperty(inner, 'token', { type: 'string' }) as JsonSchema, predict: (input, next) => next(input) },
    };
    const schemas = new ModelSchemas('iris', [wrapsInput]);
    schemas.compile(model(INPUT, OUTPUT));
    assert.equal(schemas.decoratesInput, true);
    assert.deepEqual(schemas.inputColumns.map((c) => c.name), ['sepal', 'note', 'token']);
    assert.deepEqual(schemas.modelInputColumns.map((c) => c.name), ['sepal', 'note']);
    assert.equal(schemas.validateModelInput?.({ sepal: [1, 2] }), undefined);
    assert.deepEqual(schemas.validators?.validateInput({ sepal: [1, 2] }), [{ path: '/token', message: 'is required' }]);
  });

  it('recompiles only when a schema is a different object', () => {
    const schemas = new ModelSchemas('iris', []);
    const served = model(INPUT, OUTPUT);
    schemas.compile(served);
    const first = schemas.validateModelInput;
    const signature = schemas.recordSignature;
    schemas.compile(served);
    assert.equal(schemas.validateModelInput, first, 'same object: same validator');
    schemas.compile(model(structuredClone(INPUT), OUTPUT));
    assert.notEqual(schemas.validateModelInput, first, 'an equal but new object is compiled again');
    assert.notEqual(schemas.recordSignature, signature);
  });

  it('has no validators or signature until both schemas are known (a model may learn them in load())', () => {
    const schemas = new ModelSchemas('late', []);
    schemas.compile(model(undefined, undefined));
    assert.equal(schemas.validators, undefined);
    assert.equal(schemas.recordSignature, undefined);
    schemas.compile(model(INPUT, undefined));
    assert.equal(schemas.validators, undefined);
    assert.ok(schemas.validateModelInput);
    schemas.compile(model(INPUT, OUTPUT));
    assert.ok(schemas.validators);
    assert.ok(schemas.recordSignature);
  });

  it('has no record signature when a schema has no properties (not a record model)', () => {
    const schemas = new ModelSchemas('free', []);
    schemas.compile(model({ type: 'array' }, OUTPUT));
    assert.ok(schemas.validators);
    assert.equal(schemas.recordSignature, undefined);
  });

  it('refuses a schema that is not an object, or not a valid JSON Schema, naming the model and the schema', () => {
    assert.throws(() => new ModelSchemas('m', []).compile(model([1], OUTPUT)), { message: "input_schema of model 'm' must be a JSON Schema object, got an array" });
    assert.throws(() => new ModelSchemas('m', []).compile(model(INPUT, 'x')), { message: "output_schema of model 'm' must be a JSON Schema object, got string" });
    assert.throws(() => new ModelSchemas('m', []).compile(model({ type: 'nope' }, OUTPUT)), (error: Error) =>
      error.message.startsWith("input_schema of model 'm' is not a valid JSON Schema: "),
    );
    assert.throws(() => new ModelSchemas('m', []).compile(model({ $schema: 'http://example.com/my-draft', type: 'object' }, OUTPUT)), (error: Error) =>
      error.message.includes('(its $schema is not one longshore knows: use http://json-schema.org/draft-07/schema#, or a 2019-09 or 2020-12 URI)'),
    );
  });

  it('names the decorated schema when the decorators break it', () => {
    const breaks: NamedDecorator = { label: 'bad', decorator: { outputSchema: () => ({ type: 42 }) as unknown as JsonSchema, predict: (input, next) => next(input) } };
    assert.throws(() => new ModelSchemas('m', [breaks]).compile(model(INPUT, OUTPUT)), (error: Error) =>
      error.message.startsWith("output_schema (as the decorators present it) of model 'm' is not a valid JSON Schema"),
    );
  });
});
