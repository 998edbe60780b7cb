/**
 * No silent wrong answer: the same tensors must give the same outputs however they are sent — V2 JSON with flat
 * `data`, V2 JSON with nested `data`, V2 framed binary, and REST records on /predictions. A server that misreads one
 * form (the flat-data shortcut reading only `data[0]`, a binary offset off by one, a record column out of order)
 * answers 200 with outputs that differ from the others.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nest, tensorBytes, validTensors, type ModelTensors, type Tensor } from './v2-bodies.ts';
import { repro, send, type FuzzRequest } from './wire.ts';

type Outputs = Map<string, number[]>;

function v2Request(model: string, tensors: Tensor[], form: 'flat' | 'nested' | 'binary'): FuzzRequest {
  const path = `/v2/models/${model}/infer`;
  if (form !== 'binary') {
    const inputs = tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: form === 'flat' ? t.flat : nest(t.flat, t.shape) }));
    return { method: 'POST', path, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ inputs })), label: `V2 ${form} JSON` };
  }
  const tails = tensors.map(tensorBytes);
  const inputs = tensors.map((t, i) => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: { binary_data_size: (tails[i] as Buffer).length } }));
  const header = Buffer.from(JSON.stringify({ inputs }));
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) },
    body: Buffer.concat([header, ...tails]),
    label: 'V2 framed binary',
  };
}

/** One REST record per row: each input's row, nested to the instance shape (the graph shape without the batch dim). */
function restRequest(model: string, tensors: Tensor[]): FuzzRequest {
  const rows = (tensors[0] as Tensor).shape[0] as number;
  const records = Array.from({ length: rows }, (_, row) =>
    Object.fromEntries(
      tensors.map((t) => {
        const instance = t.shape.slice(1);
        const size = instance.reduce((a, b) => a * b, 1);
        const slice = t.flat.slice(row * size, (row + 1) * size);
        return [t.name, instance.length === 0 ? slice[0] : nest(slice, instance)];
      }),
    ),
  );
  return { method: 'POST', path: `/api/models/${model}/predictions`, headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(records)), label: 'REST records' };
}

function v2Outputs(body: Buffer): Outputs {
  const outputs = (JSON.parse(body.toString('utf8')) as { outputs: { name: string; data: unknown[] }[] }).outputs;
  return new Map(outputs.map((o) => [o.name, o.data.flat(Infinity as 1).map(Number)]));
}

/** REST output records back into flat columns, field by field in row order. */
function restOutputs(body: Buffer): Outputs {
  const records = JSON.parse(body.toString('utf8')) as Record<string, unknown>[];
  const columns: Outputs = new Map();
  for (const record of records) {
    for (const [name, value] of Object.entries(record)) {
      const column = columns.get(name) ?? [];
      column.push(...[value].flat(Infinity as 1).map(Number));
      columns.set(name, column);
    }
  }
  return columns;
}

function assertSame(reference: Outputs, other: Outputs, what: string): void {
  for (const [name, expected] of reference) {
    const actual = other.get(name);
    if (actual === undefined) continue; // an output one protocol serves and the other leaves out (e.g. a ZipMap)
    assert.equal(actual.length, expected.length, `${what}: output '${name}' has ${actual.length} values, the flat JSON answer ${expected.length}`);
    expected.forEach((value, i) => {
      const close = Object.is(value, actual[i]) || Math.abs(value - (actual[i] as number)) <= 1e-6 * Math.max(1, Math.abs(value));
      assert.ok(close, `${what}: output '${name}'[${i}] is ${actual[i]}, the flat JSON answer ${value}`);
    });
  }
}

/** The property: one model and valid tensors for it, sent in every form; every 200 must agree with flat JSON. */
export function sameAnswerProperty(base: URL, models: ModelTensors[]): fc.IAsyncPropertyWithHooks<[[ModelTensors, Tensor[]]]> {
  const cases = fc.constantFrom(...models).chain((model) => validTensors(model, true).map((tensors) => [model, tensors] as [ModelTensors, Tensor[]]));
  return fc.asyncProperty(cases, async ([model, tensors]) => {
    const reference = v2Request(model.name, tensors, 'flat');
    const first = await send(base, reference);
    assert.equal(first.status, 200, `${reference.label} of valid tensors: ${first.body.toString('utf8').slice(0, 300)}\n  repro: ${repro(base, reference)}`);
    const expected = v2Outputs(first.body);
    for (const req of [v2Request(model.name, tensors, 'nested'), v2Request(model.name, tensors, 'binary'), restRequest(model.name, tensors)]) {
      const res = await send(base, req);
      assert.equal(res.status, 200, `${req.label} of the same tensors: ${res.body.toString('utf8').slice(0, 300)}\n  repro: ${repro(base, req)}`);
      const actual = req.label === 'REST records' ? restOutputs(res.body) : v2Outputs(res.body);
      try {
        assertSame(expected, actual, `${model.name} ${req.label}`);
      } catch (error) {
        throw new Error(`${(error as Error).message}\n  flat JSON: ${repro(base, reference)}\n  ${req.label}: ${repro(base, req)}`);
      }
    }
  });
}
