/**
 * A model's custom operations (`POST /api/models/{name}/operations/{op}`, docs/operations.md): each one's schemas
 * compiled once, its input and output validated around its `run`.
 */
import { InferenceError, LongshoreError, RouteNotFoundError, SchemaValidationError } from '../errors.js';
import type { OperationDescription } from '../wire.js';
import type { CallContext, OperationSpec } from './contract.js';
import { createSchemaCompiler, isRecord, summarize, type RecordValidator, type SchemaRecord } from './validation.js';

/** Operation names, as they appear in URLs. */
const OPERATION_NAME = /^[A-Za-z0-9_-]+$/;

interface CompiledOperation {
  readonly spec: OperationSpec;
  readonly validateInput: RecordValidator;
  readonly validateOutput: RecordValidator;
}


export class ModelOperations {
  readonly #model: string;
  readonly #operations = new Map<string, CompiledOperation>();

  /** Compiles every operation's schemas; throws (failing the model's load) on a bad name, schema or missing run(). */
  constructor(model: string, operations: Readonly<Record<string, OperationSpec>> | undefined) {
    this.#model = model;
    for (const [name, spec] of Object.entries(operations ?? {})) {
      if (!OPERATION_NAME.test(name)) throw new Error(`operation '${name}' of model '${model}' needs a name of letters, digits, '_' or '-' (it becomes a URL)`);
      if (typeof spec?.run !== 'function') throw new Error(`operation '${name}' of model '${model}' has no run() function`);
      this.#operations.set(name, {
        spec,
        validateInput: compile(model, name, 'input_schema', spec.input_schema),
        validateOutput: compile(model, name, 'output_schema', spec.output_schema),
      });
    }
  }

  get size(): number {
    return this.#operations.size;
  }

  describe(): OperationDescription[] {
    return [...this.#operations].map(([name, { spec }]) => ({
      name,
      description: spec.description ?? '',
      input_schema: spec.input_schema,
      output_schema: spec.output_schema,
    }));
  }

  /** Validates the input, runs the operation, validates its output. 404 for an operation the model does not have. */
  async run(name: string, input: unknown, context: CallContext): Promise<unknown> {
    const operation = this.#operations.get(name);
    if (!operation) {
      const known = [...this.#operations.keys()];
      throw new RouteNotFoundError(`model '${this.#model}' has no operation '${name}'; its operations: ${known.length > 0 ? known.join(', ') : 'none'}`);
    }
    const problems = operation.validateInput(input);
    if (problems) {
      throw new SchemaValidationError(`input does not match the input schema of operation '${name}' of model '${this.#model}': ${summarize(problems)}`, { details: problems });
    }
    let output: unknown;
    try {
      output = await operation.spec.run(input, context);
    } catch (error) {
      if (error instanceof LongshoreError) throw error;
      throw new InferenceError(`operation '${name}' of model '${this.#model}' failed: ${(error as Error).message ?? String(error)}`, { cause: error });
    }
    const outputProblems = operation.validateOutput(output);
    if (outputProblems) {
      throw new InferenceError(`operation '${name}' of model '${this.#model}' returned output that does not match its output schema: ${summarize(outputProblems)}`, {
        details: outputProblems,
      });
    }
    return output;
  }
}

function compile(model: string, operation: string, which: string, schema: SchemaRecord): RecordValidator {
  if (!isRecord(schema)) {
    throw new Error(`${which} of operation '${operation}' of model '${model}' must be a JSON Schema object`);
  }
  try {
    return createSchemaCompiler()(schema);
  } catch (error) {
    throw new Error(`${which} of operation '${operation}' of model '${model}' is not a valid JSON Schema: ${(error as Error).message}`);
  }
}
