/**
 * The tensor view of a model (the Open Inference Protocol's): named, typed, shaped tensors with flat row-major data.
 */
import type { Datatype, TensorData } from './datatypes.js';

/** A tensor with its data, as a request brings it or a model returns it. */
export interface Tensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** Flat, row-major; a typed array for numbers and booleans (as 0/1), strings for BYTES. */
  readonly data: TensorData;
}

/** A model's declared input or output: -1 marks a dimension of any size. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  /** An input a request may leave out (an optional field of a record model). */
  readonly optional?: boolean;
}

/** The tensor view of a model: what `GET /v2/models/{name}` reports and `/infer` checks requests against. */
export interface TensorSignature {
  /** `onnx_onnxv1` for ONNX files, `longshore_records` for record (code) models. */
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** `[-1,4]`: how shapes appear in messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
