/**
 * An iris classifier written in TypeScript: multinomial logistic regression with the coefficients scikit-learn learned
 * (the same weights as iris_logreg.onnx), so its labels match the ONNX model's reference outputs.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import type { Model } from 'longshore';

const Measurement = (description: string) => Type.Number({ minimum: 0, maximum: 100, description });

export const IrisInput = Type.Object(
  {
    sepal_length: Measurement('Sepal length in centimetres.'),
    sepal_width: Measurement('Sepal width in centimetres.'),
    petal_length: Measurement('Petal length in centimetres.'),
    petal_width: Measurement('Petal width in centimetres.'),
  },
  { additionalProperties: false, description: 'Measurements of one iris flower.' },
);

export const SPECIES = ['setosa', 'versicolor', 'virginica'] as const;

export const IrisOutput = Type.Object(
  {
    species: Type.Union(SPECIES.map((name) => Type.Literal(name)), { description: 'The most likely species.' }),
    label: Type.Integer({ minimum: 0, maximum: 2, description: 'Class index: 0 setosa, 1 versicolor, 2 virginica.' }),
    probabilities: Type.Array(Type.Number({ minimum: 0, maximum: 1 }), {
      minItems: 3,
      maxItems: 3,
      description: 'Probability of each species, in label order.',
    }),
  },
  { additionalProperties: false },
);

export type IrisInput = Static<typeof IrisInput>;
export type IrisOutput = Static<typeof IrisOutput>;

interface Coefficients {
  coefficients: number[][];
  intercepts: number[];
}

export class IrisModel implements Model<IrisInput, IrisOutput> {
  readonly qualified_name = 'iris_model';
  readonly display_name = 'Iris Model';
  readonly description = 'Predicts the species of an iris flower from its sepal and petal measurements.';
  readonly version = '1.0.0';
  readonly input_schema = IrisInput;
  readonly output_schema = IrisOutput;

  readonly #coefficientsPath: string;
  #weights: Coefficients | undefined;

  /** `configuration.coefficients_path`: JSON file with `coefficients` (3x4) and `intercepts` (3). */
  constructor(configuration: Record<string, unknown>) {
    const path = configuration.coefficients_path;
    if (typeof path !== 'string') throw new Error('configuration.coefficients_path must be the path of a coefficients JSON file');
    this.#coefficientsPath = resolve(import.meta.dirname, path);
  }

  async load(): Promise<void> {
    const weights = JSON.parse(await readFile(this.#coefficientsPath, 'utf8')) as Coefficients;
    if (weights.coefficients.length !== 3 || weights.coefficients.some((row) => row.length !== 4) || weights.intercepts.length !== 3) {
      throw new Error(`${this.#coefficientsPath} must hold 3x4 coefficients and 3 intercepts`);
    }
    this.#weights = weights;
  }

  predict(input: IrisInput): IrisOutput {
    if (!this.#weights) throw new Error('predict() called before load()');
    const features = [input.sepal_length, input.sepal_width, input.petal_length, input.petal_width];
    const { coefficients, intercepts } = this.#weights;
    const scores = coefficients.map((row, k) => row.reduce((sum, weight, j) => sum + weight * (features[j] ?? 0), intercepts[k] ?? 0));
    const top = Math.max(...scores);
    const exps = scores.map((score) => Math.exp(score - top));
    const total = exps.reduce((a, b) => a + b, 0);
    const probabilities = exps.map((e) => e / total);
    const label = probabilities.indexOf(Math.max(...probabilities));
    return { species: SPECIES[label] ?? 'setosa', label, probabilities };
  }
}
