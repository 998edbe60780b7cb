/**
 * Checks an Open Inference Protocol request against a model's tensor signature before anything runs: input names,
 * missing inputs, datatypes, shapes, a common batch dimension, and the requested outputs. Every message names the
 * tensor and what was expected.
 */
import { SchemaValidationError } from '../errors.js';
import { formatShape, type Tensor, type TensorSignature, type TensorSpec } from './tensor.js';

function bad(message: string): SchemaValidationError {
  return new SchemaValidationError(message);
}

/** Returns the inputs by name; throws a 400 naming the first problem. */
export function checkInputs(model: string, signature: TensorSignature, inputs: readonly Tensor[]): Map<string, Tensor> {
  const specs = inputSpecs(signature);
  const byName = new Map<string, Tensor>();
  for (const input of inputs) {
    const spec = specs.get(input.name);
    if (!spec) throw bad(`unknown input '${input.name}'; model '${model}' takes: ${[...specs.keys()].join(', ')}`);
    if (byName.has(input.name)) throw bad(`input '${input.name}' is given twice`);
    if (input.datatype !== spec.datatype || !shapeFits(input.shape, spec.shape)) {
      throw bad(`input '${input.name}': expected ${spec.datatype} ${formatShape(spec.shape)}, got ${input.datatype} ${formatShape(input.shape)}`);
    }
    byName.set(input.name, input);
  }
  for (const spec of signature.inputs) {
    if (!byName.has(spec.name) && !spec.optional) throw bad(`missing input '${spec.name}' (${spec.datatype} ${formatShape(spec.shape)})`);
  }
  checkBatchDimension(signature.inputs, byName);
  return byName;
}

/** Input specs by name, built once per signature (signatures live as long as their model's load). */
const INPUT_SPECS = new WeakMap<TensorSignature, Map<string, TensorSpec>>();

function inputSpecs(signature: TensorSignature): Map<string, TensorSpec> {
  let specs = INPUT_SPECS.get(signature);
  if (!specs) {
    specs = new Map(signature.inputs.map((spec) => [spec.name, spec]));
    INPUT_SPECS.set(signature, specs);
  }
  return specs;
}

/** Same rank, and every fixed dimension equal. */
function shapeFits(shape: readonly number[], expected: readonly number[]): boolean {
  return shape.length === expected.length && expected.every((dim, i) => dim < 0 || dim === shape[i]);
}

/** Inputs whose first dimension is dynamic are batched together, so they must agree on it. */
function checkBatchDimension(specs: readonly TensorSpec[], inputs: ReadonlyMap<string, Tensor>): void {
  let first: Tensor | undefined;
  for (const spec of specs) {
    const input = inputs.get(spec.name);
    if (!input || spec.shape[0] !== -1) continue;
    if (!first) first = input;
    else if (input.shape[0] !== first.shape[0]) {
      throw bad(`inputs disagree on the batch dimension: '${first.name}' has ${first.shape[0]} rows, '${input.name}' has ${input.shape[0]}`);
    }
  }
}

/** The names of the outputs to return: the requested ones in their order, else every output. */
export function checkOutputs(model: string, signature: TensorSignature, requested: readonly string[] | undefined): string[] {
  const known = signature.outputs.map((spec) => spec.name);
  if (!requested || requested.length === 0) return known;
  const seen = new Set<string>();
  for (const name of requested) {
    if (!known.includes(name)) throw bad(`unknown output '${name}'; model '${model}' returns: ${known.join(', ')}`);
    if (seen.has(name)) throw bad(`output '${name}' is requested twice`);
    seen.add(name);
  }
  return [...requested];
}
