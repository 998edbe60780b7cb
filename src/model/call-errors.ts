/**
 * The catalogue errors a served model's calls end in: not ready, input that breaks the schema, output that breaks it,
 * decorators that break the model's own schema, and whatever the model itself throws.
 */
import { InferenceError, LongshoreError, ModelNotReadyError, NotImplementedError, SchemaValidationError, type ErrorDetail } from '../errors.js';
import type { ModelState } from './contract.js';
import { summarize } from './validation.js';

/** Most details one error carries: a body with a million bad elements must not get a response a hundred times its size. */
export const MAX_DETAILS = 100;

/** Seconds a client is told to wait while a model loads. */
export const LOADING_RETRY_AFTER_SECONDS = 2;

/** ModelNotReadyError for a model in `state` (with Retry-After while it loads). */
export function notReadyError(name: string, state: ModelState, loadError: string | undefined): ModelNotReadyError {
  switch (state) {
    case 'loading':
      return new ModelNotReadyError(`model '${name}' is still loading; retry shortly`, { retryAfterSeconds: LOADING_RETRY_AFTER_SECONDS });
    case 'failed':
      return new ModelNotReadyError(`model '${name}' failed to load: ${loadError ?? 'unknown error'}`);
    default:
      return new ModelNotReadyError(`model '${name}' is ${state}: the server is shutting down`);
  }
}

export function inputError(name: string, problems: ErrorDetail[]): SchemaValidationError {
  const details = problems.slice(0, MAX_DETAILS);
  return new SchemaValidationError(`input does not match the input schema of model '${name}': ${summarize(problems)}`, { details });
}

/** Throws InferenceError (the model is at fault) when the output broke its output schema. */
export function checkOutput(name: string, problems: ErrorDetail[] | undefined): void {
  if (problems && problems.length > 0) {
    throw new InferenceError(`model '${name}' returned output that does not match its output schema: ${summarize(problems)}`, {
      details: problems.slice(0, MAX_DETAILS),
    });
  }
}

/** Throws InferenceError when decorators handed the model, or got from it, a record its own schema does not allow. */
export function checkDecorated(name: string, what: string, problems: ErrorDetail[] | undefined): void {
  if (problems) {
    throw new InferenceError(`the decorators of model '${name}' ${what} that does not match the model's own schema: ${summarize(problems)}`, {
      details: problems.slice(0, MAX_DETAILS),
    });
  }
}

/**
 * A catalogue error raised inside the model keeps its type (e.g. a ragged array the schema could not rule out, or a
 * full queue); a call cut off by shutdown is "not ready"; anything else is an InferenceError.
 */
export function modelThrewError(name: string, state: ModelState, error: unknown): LongshoreError {
  if (error instanceof LongshoreError) return error;
  if (state === 'unloading' || state === 'unloaded') return notReadyError(name, state, undefined);
  const reason = error instanceof Error ? error.message : String(error);
  return new InferenceError(`model '${name}' failed to predict: ${reason}`, { cause: error });
}

/** Throws SchemaValidationError when records break the input schema, each failing one reported by index (`/3/x`). */
export function checkRecords(name: string, records: readonly unknown[], validate: (record: unknown) => ErrorDetail[] | undefined): void {
  const problems = indexedProblems(records, validate);
  if (problems.length > 0) throw inputError(name, problems);
}

/** Prefixes each record's problems with its index in the request (`/3/x`), at most MAX_DETAILS in all. */
export function indexedProblems(records: readonly unknown[], validate: (record: unknown) => ErrorDetail[] | undefined): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  for (const [index, record] of records.entries()) {
    for (const detail of validate(record) ?? []) problems.push({ ...detail, path: `/${index}${detail.path === '/' ? '' : detail.path}` });
    if (problems.length >= MAX_DETAILS) break; // enough to act on; the response stays small
  }
  return problems;
}

/** 501 for explain on a model without explain(): the documented answer, saying what to add. */
export function notExplainableError(name: string): NotImplementedError {
  return new NotImplementedError(`model '${name}' does not implement explain; add an explain(input) method to its class (docs/operations.md)`);
}
