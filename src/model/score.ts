/**
 * The score operation (`POST /api/models/{name}/score`, docs/score.md): quality metrics of a model over labelled
 * examples. The model's own `score()` when it has one; otherwise longshore predicts the inputs through the model's
 * normal validated batch path and computes classification or regression metrics from the predictions.
 */
import { InferenceError, LongshoreError, SchemaValidationError, type ErrorDetail } from '../errors.js';
import type { ScoreExample } from './contract.js';
import { MAX_DETAILS } from './call-errors.js';
import type { CallContext } from '../call-context.js';
import type { CallPath } from './call-path.js';
import { isRecord, summarize } from './validation.js';

export type ScoreTask = 'classification' | 'regression';

/** A score request body, after its shape was checked. */
export interface ScoreRequest {
  readonly examples: readonly ScoreExample[];
  /** The output field compared with `expected`; picked automatically when absent. */
  readonly target?: string;
  /** Forces the kind of metrics; inferred when absent. */
  readonly task?: ScoreTask;
}

/** What `POST /api/models/{name}/score` answers. */
export interface ScoreResponse {
  /** Metric name → value. */
  readonly metrics: Record<string, number>;
  /** `model` when the model's own score() computed them, `longshore` otherwise. */
  readonly computed_by: 'model' | 'longshore';
  /** The metrics longshore computed (absent when the model scored itself). */
  readonly task?: ScoreTask;
  /** The output field that was compared (absent when the model scored itself). */
  readonly target?: string;
}

/** Output field names that pick themselves, in order of preference, when the body names no `target`. */
export const PREFERRED_TARGETS = ['label', 'variable', 'value'] as const;

const BODY_KEYS = new Set(['examples', 'target', 'task']);

/** Checks the body's shape (not the inputs against the model's schema); every problem names its path. */
export function parseScoreBody(body: unknown): ScoreRequest {
  const problems: ErrorDetail[] = [];
  if (!isRecord(body)) {
    throw new SchemaValidationError('a score body must be a JSON object: {"examples": [{"input": {...}, "expected": ...}, ...]}', {
      details: [{ path: '/', message: 'must be object' }],
    });
  }
  for (const key of Object.keys(body)) if (!BODY_KEYS.has(key)) problems.push({ path: `/${escape(key)}`, message: 'is not an allowed field (examples, target, task)' });
  const { examples, target, task } = body;
  if (target !== undefined && (typeof target !== 'string' || target === '')) problems.push({ path: '/target', message: 'must be a non-empty string' });
  if (task !== undefined && task !== 'classification' && task !== 'regression') {
    problems.push({ path: '/task', message: 'must be one of "classification", "regression"' });
  }
  if (!Array.isArray(examples)) {
    problems.push({ path: '/examples', message: examples === undefined ? 'is required' : 'must be array' });
  } else if (examples.length === 0) {
    problems.push({ path: '/examples', message: 'must have at least 1 example' });
  } else {
    for (const [index, example] of examples.entries()) {
      if (problems.length >= MAX_DETAILS) break;
      if (!isRecord(example)) {
        problems.push({ path: `/examples/${index}`, message: 'must be object with "input" and "expected"' });
        continue;
      }
      if (!('input' in example)) problems.push({ path: `/examples/${index}/input`, message: 'is required' });
      if (!('expected' in example) || example.expected === null) problems.push({ path: `/examples/${index}/expected`, message: 'is required' });
      for (const key of Object.keys(example)) {
        if (key !== 'input' && key !== 'expected') problems.push({ path: `/examples/${index}/${escape(key)}`, message: 'is not an allowed field (input, expected)' });
      }
    }
  }
  if (problems.length > 0) throw bodyError(problems);
  return {
    examples: examples as ScoreExample[],
    ...(target === undefined ? {} : { target: target as string }),
    ...(task === undefined ? {} : { task: task as ScoreTask }),
  };
}

/**
 * Scores a ready model (the caller has its CallPath, so 404 and 503 came before the body is looked at): its own score()
 * when it has one, else metrics from its predictions.
 */
export async function scoreModel(served: CallPath, body: unknown, options: CallContext): Promise<ScoreResponse> {
  const request = parseScoreBody(body);
  const inputs = request.examples.map((example) => example.input);
  const own = served.model.score;
  if (own) {
    try {
      served.validateModelInputs(inputs); // the model's own score() gets records of its own schema, not its decorators'
    } catch (error) {
      throw error instanceof SchemaValidationError ? relocate(served.name, error) : error;
    }
    let result: unknown;
    try {
      result = await own.call(served.model, [...request.examples]);
    } catch (error) {
      if (error instanceof LongshoreError) throw error;
      throw new InferenceError(`model '${served.name}' failed to score: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    return { metrics: checkMetrics(served.name, result), computed_by: 'model' };
  }
  let outputs: unknown[];
  try {
    outputs = await served.predictBatch(inputs, options);
  } catch (error) {
    throw error instanceof SchemaValidationError ? relocate(served.name, error) : error;
  }
  const target = request.target ?? pickTarget(served.name, outputs[0]);
  const predicted = outputs.map((output, index) => predictedValue(served.name, target, output, index));
  const expected = request.examples.map((example, index) => expectedValue(target, example.expected, index));
  const task = request.task ?? inferTask(target, predicted, expected);
  const metrics = task === 'classification' ? classificationMetrics(expected, predicted) : scoreRegression(target, expected, predicted);
  return { metrics, computed_by: 'longshore', task, target };
}

/**
 * Regression over the rows with a prediction: a null one (a float the model computed as NaN or ±Infinity, which JSON
 * answers as null) is left out and counted in `non_finite_predictions`; a 400 when no row is left.
 */
function scoreRegression(target: string, expected: readonly Scalar[], predicted: readonly Prediction[]): Record<string, number> {
  const wanted = numbers(expected, 'expected');
  const kept = predicted.flatMap((value, index) => (value === null ? [] : [index]));
  const missing = predicted.length - kept.length;
  if (kept.length === 0) {
    throw new SchemaValidationError(
      `every prediction of '${target}' is null (the model computed NaN or ±Infinity for each input), so no regression metric can be computed; ` +
        'send inputs in the range the model was trained on',
      { details: [{ path: '/examples', message: `no example has a finite prediction of '${target}'` }] },
    );
  }
  const metrics = regressionMetrics(
    kept.map((index) => wanted[index] as number),
    numbers(kept.map((index) => predicted[index] as Scalar), 'predicted'),
  );
  return missing > 0 ? { ...metrics, non_finite_predictions: missing } : metrics;
}

/**
 * Accuracy and macro-averaged precision, recall and F1 over every class seen in `expected` or `predicted`. A null
 * prediction (non-finite) is a wrong answer for its expected class and no class of its own; `non_finite_predictions`
 * counts them when there are any.
 */
export function classificationMetrics(expected: readonly Scalar[], predicted: readonly Prediction[]): Record<string, number> {
  const count = expected.length;
  const classes = new Set<string>();
  const tp = new Map<string, number>();
  const expectedCount = new Map<string, number>();
  const predictedCount = new Map<string, number>();
  let correct = 0;
  let missing = 0;
  for (let i = 0; i < count; i++) {
    const want = String(expected[i]);
    classes.add(want);
    expectedCount.set(want, (expectedCount.get(want) ?? 0) + 1);
    const prediction = predicted[i] as Prediction;
    if (prediction === null) {
      missing++;
      continue;
    }
    const got = String(prediction);
    classes.add(got);
    predictedCount.set(got, (predictedCount.get(got) ?? 0) + 1);
    if (want === got) {
      correct++;
      tp.set(want, (tp.get(want) ?? 0) + 1);
    }
  }
  let precision = 0;
  let recall = 0;
  let f1 = 0;
  for (const label of classes) {
    const hits = tp.get(label) ?? 0;
    const p = ratio(hits, predictedCount.get(label) ?? 0);
    const r = ratio(hits, expectedCount.get(label) ?? 0);
    precision += p;
    recall += r;
    f1 += ratio(2 * p * r, p + r);
  }
  const metrics = {
    accuracy: correct / count,
    precision_macro: precision / classes.size,
    recall_macro: recall / classes.size,
    f1_macro: f1 / classes.size,
    count,
  };
  return missing > 0 ? { ...metrics, non_finite_predictions: missing } : metrics;
}

/** Mean absolute error, root mean squared error and the coefficient of determination. */
export function regressionMetrics(expected: readonly number[], predicted: readonly number[]): Record<string, number> {
  const count = expected.length;
  const mean = expected.reduce((a, b) => a + b, 0) / count;
  let absolute = 0;
  let squared = 0;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const error = (expected[i] as number) - (predicted[i] as number);
    absolute += Math.abs(error);
    squared += error * error;
    total += ((expected[i] as number) - mean) ** 2;
  }
  // Constant targets leave R² undefined: 1 for a perfect fit, 0 otherwise (as scikit-learn reports it).
  const r2 = total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total;
  return { mae: absolute / count, rmse: Math.sqrt(squared / count), r2, count };
}

type Scalar = string | number | boolean;

/** A predicted value; null where the model's output was null (a float it computed as NaN or ±Infinity). */
type Prediction = Scalar | null;

/** The output field to compare: `label`, `variable` or `value` when present, else the only single-valued field. */
export function pickTarget(model: string, output: unknown): string {
  const fields = isRecord(output) ? Object.keys(output) : [];
  const preferred = PREFERRED_TARGETS.find((name) => fields.includes(name));
  if (preferred) return preferred;
  const single = fields.filter((name) => predictionOf((output as Record<string, unknown>)[name]) !== undefined);
  if (single.length === 1) return single[0] as string;
  const listed = fields.length > 0 ? fields.map((name) => `'${name}'`).join(', ') : 'no fields';
  throw new SchemaValidationError(
    `cannot tell which output field of model '${model}' to score: its outputs have ${listed}` +
      `${single.length > 1 ? ` (${single.length} single-valued)` : ' (none single-valued)'}; name one with "target" in the body`,
    { details: [{ path: '/target', message: `is required for this model; one of ${listed}` }] },
  );
}

function predictedValue(model: string, target: string, output: unknown, index: number): Prediction {
  if (!isRecord(output) || !(target in output)) {
    const fields = isRecord(output) ? Object.keys(output).map((name) => `'${name}'`).join(', ') : 'none';
    throw new SchemaValidationError(`model '${model}' has no output field '${target}'; its fields are ${fields}`, {
      details: [{ path: '/target', message: `must be one of ${fields}` }],
    });
  }
  const value = predictionOf(output[target]);
  if (value === undefined) {
    throw new SchemaValidationError(`output field '${target}' of model '${model}' is not a single label or number (output ${index}); name another with "target"`, {
      details: [{ path: '/target', message: `'${target}' is not single-valued` }],
    });
  }
  return value;
}

function expectedValue(target: string, expected: unknown, index: number): Scalar {
  const path = `/examples/${index}/expected`;
  const raw = isRecord(expected) ? expected[target] : expected;
  const value = scalarOf(raw);
  if (value === undefined) {
    const where = isRecord(expected) ? `${path}/${escape(target)}` : path;
    throw bodyError([{ path: where, message: raw === undefined ? 'is required' : `must be a label or a number (the '${target}' output)` }]);
  }
  return value;
}

/** `task` when the body does not say: by the field's name, then by the values. */
function inferTask(target: string, predicted: readonly Prediction[], expected: readonly Scalar[]): ScoreTask {
  if (target === 'label') return 'classification';
  if (target === 'variable' || target === 'value') return 'regression';
  const all = [...predicted.filter((value) => value !== null), ...expected];
  if (all.some((value) => typeof value !== 'number')) return 'classification';
  return all.every((value) => Number.isInteger(value)) ? 'classification' : 'regression';
}

function numbers(values: readonly Scalar[], which: 'expected' | 'predicted'): number[] {
  return values.map((value, index) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const path = which === 'expected' ? `/examples/${index}/expected` : '/target';
      throw bodyError([{ path, message: `a regression needs numbers; the ${which} value of example ${index} is ${JSON.stringify(value)}` }]);
    }
    return value;
  });
}

/** A scalar, or the one element of a (nested) one-element array (an ONNX `[n, 1]` output); undefined otherwise. */
function scalarOf(value: unknown): Scalar | undefined {
  const current = unwrap(value);
  return typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean' ? current : undefined;
}

/** scalarOf, or null for a null (non-finite) prediction. */
function predictionOf(value: unknown): Prediction | undefined {
  const current = unwrap(value);
  return current === null ? null : scalarOf(current);
}

function unwrap(value: unknown): unknown {
  let current = value;
  while (Array.isArray(current) && current.length === 1) current = current[0];
  return current;
}

/** The model's own score() result, when it is an object of finite numbers. */
function checkMetrics(model: string, result: unknown): Record<string, number> {
  const bad = isRecord(result) ? Object.entries(result).filter(([, value]) => typeof value !== 'number' || !Number.isFinite(value)) : [];
  if (!isRecord(result) || bad.length > 0) {
    throw new InferenceError(`model '${model}' score() must return an object of finite numbers`, {
      details: isRecord(result) ? bad.map(([key]) => ({ path: `/${escape(key)}`, message: 'must be a finite number' })) : [{ path: '/', message: 'must be object' }],
    });
  }
  return { ...(result as Record<string, number>) };
}

/** A batch error (`/3/x`) re-pointed into the score body (`/examples/3/input/x`). */
function relocate(model: string, error: SchemaValidationError): SchemaValidationError {
  const details = error.details.map((detail) => {
    const match = /^\/(\d+)(\/.*)?$/.exec(detail.path);
    return match ? { ...detail, path: inputPath(Number(match[1]), match[2] ?? '/') } : detail;
  });
  return details.some((detail, i) => detail.path !== error.details[i]?.path) ? inputsError(model, details) : error;
}

function inputPath(index: number, path: string): string {
  return `/examples/${index}/input${path === '/' ? '' : path}`;
}

function inputsError(model: string, problems: ErrorDetail[]): SchemaValidationError {
  return new SchemaValidationError(`examples do not match the input schema of model '${model}': ${summarize(problems)}`, {
    details: problems.slice(0, MAX_DETAILS),
  });
}

function bodyError(problems: ErrorDetail[]): SchemaValidationError {
  return new SchemaValidationError(`the score body is invalid: ${summarize(problems)}`, { details: problems.slice(0, MAX_DETAILS) });
}

/** a / b, or 0 when b is 0 (a class never predicted has precision 0, as scikit-learn's zero_division default). */
function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** JSON pointer escaping of one key. */
function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
