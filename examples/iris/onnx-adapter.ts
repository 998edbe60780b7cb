/**
 * Puts the ONNX export of the iris classifier behind the same API as the TypeScript model, so the two can share one
 * A/B router (examples/longshore.yaml, `iris_ab`). Used by the built-in `longshore:transform` decorator.
 */
import { IrisInput, IrisOutput, SPECIES } from './iris-model.ts';

/** The API callers see: the TypeScript model's schemas. */
export const input_schema = IrisInput;
export const output_schema = IrisOutput;

/** Named measurements → the ONNX graph's one input row, in the feature order scikit-learn was trained with. */
export function toTensorRecord(input: IrisInput): { input: number[] } {
  return { input: [input.sepal_length, input.sepal_width, input.petal_length, input.petal_width] };
}

/** The graph's label and probabilities → the TypeScript model's answer, species name included. */
export function fromTensorRecord(output: { label: number; probabilities: number[] }): IrisOutput {
  const species = SPECIES[output.label];
  if (species === undefined) throw new Error(`the ONNX model answered label ${output.label}; expected 0, 1 or 2`);
  return { species, label: output.label, probabilities: output.probabilities };
}
