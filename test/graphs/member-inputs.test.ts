/**
 * Ensembles and routers whose members take different inputs (issue 14): the graph fails its load with a message
 * naming the graph, the members and the field, instead of answering every request with a 400 that blames the client.
 * The comparison itself (inputDifferences) is tested on schemas: fields, required, types, array lengths, nesting, and
 * what it deliberately leaves alone (value limits, schemas it does not read).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inputDifferences } from '../../src/graphs/input-compatibility.ts';
import { CAT, member, ONNX_FIXTURES, predict, serveModels, type Harness } from './graph-harness.ts';

const X = { type: 'object', properties: { x: { type: 'number' } }, required: ['x'], additionalProperties: false };

function differences(first: Record<string, unknown>, other: Record<string, unknown>): string[] {
  return inputDifferences([
    { name: 'a', schema: first },
    { name: 'b', schema: other },
  ]);
}

describe('inputDifferences', () => {
  it('finds none between equal structures, whatever their value limits and descriptions', () => {
    const limited = { ...X, description: 'x', properties: { x: { type: 'number', maximum: 10, description: 'a bounded x' } } };
    assert.deepEqual(differences(X, limited), []);
    assert.deepEqual(differences(X, { ...X, properties: { x: { type: 'number', enum: [1, 2] } } }), []);
  });

  it('names a field the other member requires and the first does not take, or leaves optional', () => {
    const value = { type: 'object', properties: { value: { type: 'number' } }, required: ['value'], additionalProperties: false };
    assert.deepEqual(differences(X, value), [
      "member 'b' requires field 'value', which member 'a' does not take",
      "member 'b' does not take field 'x', which member 'a' takes",
    ]);
    const optional = { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x'] };
    const both = { ...optional, required: ['x', 'y'] };
    assert.deepEqual(differences(optional, both), ["member 'b' requires field 'y', which member 'a' leaves optional"]);
  });

  it('lets a member take more than the first, as long as it requires no more', () => {
    const more = { type: 'object', properties: { x: { type: 'number' }, extra: { type: 'string' } }, required: ['x'] };
    assert.deepEqual(differences(X, more), []);
    assert.deepEqual(differences(X, { type: 'object', properties: {} }), [], 'without additionalProperties: false, unknown fields pass');
  });

  it('names a field of another type; an integer fits a number but not the other way round', () => {
    const text = { ...X, properties: { x: { type: 'string' } } };
    assert.deepEqual(differences(X, text), ["field 'x' is number for member 'a' but string for member 'b'"]);
    const integer = { ...X, properties: { x: { type: 'integer' } } };
    assert.deepEqual(differences(integer, X), []);
    assert.deepEqual(differences(X, integer), ["field 'x' is number for member 'a' but integer for member 'b'"]);
    assert.deepEqual(differences(X, { type: 'array' }), ["the input is object for member 'a' but array for member 'b'"]);
  });

  it('names arrays of other lengths, and compares items and nested objects by their path', () => {
    const vector = (size: number, items: Record<string, unknown> = { type: 'number' }) => ({
      type: 'object',
      properties: { input: { type: 'array', items, minItems: size, maxItems: size } },
      required: ['input'],
    });
    assert.deepEqual(differences(vector(4), vector(4)), []);
    assert.deepEqual(differences(vector(4), vector(8)), ["field 'input' takes exactly 4 items for member 'a' but exactly 8 items for member 'b'"]);
    assert.deepEqual(differences(vector(4), { type: 'object', properties: { input: { type: 'array', maxItems: 3 } } }), [
      "field 'input' takes exactly 4 items for member 'a' but at most 3 items for member 'b'",
    ]);
    assert.deepEqual(differences(vector(2, { type: 'string' }), vector(2)), ["field 'input[]' is string for member 'a' but number for member 'b'"]);
    const nested = (inner: Record<string, unknown>) => ({ type: 'object', properties: { point: inner }, required: ['point'] });
    assert.deepEqual(differences(nested(X), nested({ ...X, required: ['x', 'y'] })), ["member 'b' requires field 'point.y', which member 'a' does not take"]);
  });

  it('takes a schema it does not read as compatible, and a member listed twice once', () => {
    assert.deepEqual(differences(X, { $ref: '#/definitions/other' }), []);
    assert.deepEqual(differences({ anyOf: [X] }, { type: 'object', properties: {}, required: ['y'] }), []);
    assert.deepEqual(inputDifferences([{ name: 'a', schema: X }, { name: 'a', schema: X }]), []);
  });

  it('lists at most five differences', () => {
    const many = { type: 'object', properties: {}, required: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] };
    assert.equal(differences({ type: 'object', properties: {} }, many).length, 5);
  });
});

describe('graphs whose members take different inputs', () => {
  let harness: Harness;
  before(async () => {
    harness = await serveModels([
      ...CAT,
      `  - class_path: ${member('Threshold')}`,
      '    qualified_name: th',
      `  - class_path: ${member('Scaler')}`,
      '    qualified_name: capped',
      '    configuration: {max: 10}',
      `  - model_path: ${join(ONNX_FIXTURES, 'iris_logreg.onnx')}`,
      '    qualified_name: iris',
      `  - model_path: ${join(ONNX_FIXTURES, 'digits_mlp.onnx')}`,
      '    qualified_name: digits',
      '  - qualified_name: vote',
      '    required: false',
      '    graph: {kind: ensemble, members: [cat, th]}',
      '  - qualified_name: route',
      '    required: false',
      '    graph: {kind: router, members: [cat, th]}',
      '  - qualified_name: onnx_vote',
      '    required: false',
      '    graph: {kind: ensemble, combine: mean_probability, members: [iris, digits]}',
      '  - qualified_name: limits_differ',
      '    graph: {kind: ensemble, members: [cat, capped]}',
      '  - qualified_name: chain',
      '    graph: {kind: pipeline, members: [cat, {model: th, map: {x: value}}]}',
    ]);
  });
  after(() => harness.close());

  it('fails an ensemble at load, naming the graph, both members and each field', () => {
    const vote = harness.registry.require('vote');
    assert.equal(vote.state, 'failed');
    assert.equal(
      vote.error,
      "ensemble 'vote': its members take different inputs: member 'th' requires field 'value', which member 'cat' does not take; " +
        "member 'th' does not take field 'x', which member 'cat' takes. The ensemble takes the input of its first member, 'cat', " +
        'and every member of an ensemble gets the same request: give every member the same input fields',
    );
  });

  it('answers a call to it with 503 saying why, not a 400 that blames the client', async () => {
    const response = await predict(harness, 'vote', { x: 1 });
    assert.equal(response.statusCode, 503, response.body);
    assert.equal(response.json().type, 'ModelNotReadyError');
    assert.match(response.json().message, /model 'vote' failed to load: ensemble 'vote': its members take different inputs/);
  });

  it('fails a router the same way: any request may go to any member', () => {
    const route = harness.registry.require('route');
    assert.equal(route.state, 'failed');
    assert.match(route.error ?? '', /^router 'route': its members take different inputs: member 'th' requires field 'value'.*a router may send any request to any member/);
  });

  it('compares ONNX members once their sessions give their schemas', () => {
    const onnx = harness.registry.require('onnx_vote');
    assert.equal(onnx.state, 'failed');
    assert.match(onnx.error ?? '', /field 'input' takes exactly 4 items for member 'iris' but exactly 64 items for member 'digits'/);
  });

  it('loads graphs whose members differ only in value limits, and pipelines', async () => {
    assert.equal(harness.registry.require('limits_differ').state, 'ready');
    assert.equal(harness.registry.require('chain').state, 'ready');
    assert.equal((await predict(harness, 'chain', { x: 12 })).json().label, 'high');
  });
});
