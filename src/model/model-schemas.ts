/**
 * A served model's schemas, compiled: the model's own, and the ones callers see through its decorators (the same
 * objects when there are none), with their validators and their tensor-column view. Recompiled only when the model's
 * schema properties hold a different object (a model may learn its schemas in load()).
 */
import { decoratedSchemas, type NamedDecorator } from '../decorators/chain.js';
import { columnsOf, type ColumnSpec } from '../tensors/record-columns.js';
import type { TensorSignature } from '../tensors/tensor.js';
import type { Model } from './contract.js';
import { createSchemaCompiler, isRecord, type RecordValidator, type SchemaRecord } from './validation.js';

/** The platform a record (code) model reports in its V2 metadata. */
export const RECORD_PLATFORM = 'longshore_records';

export interface Validators {
  readonly validateInput: RecordValidator;
  readonly validateOutput: RecordValidator;
}

export class ModelSchemas {
  #input: SchemaRecord | undefined;
  #output: SchemaRecord | undefined;
  #validateInput: RecordValidator | undefined;
  #validateOutput: RecordValidator | undefined;
  /** Both outer validators, built at compile: every call reads them. */
  #validators: Validators | undefined;
  #modelInput: SchemaRecord | undefined;
  #modelOutput: SchemaRecord | undefined;
  #validateModelInput: RecordValidator | undefined;
  #validateModelOutput: RecordValidator | undefined;
  #inputColumns: ColumnSpec[] = [];
  #modelInputColumns: ColumnSpec[] = [];
  #outputColumns: ColumnSpec[] = [];
  #recordSignature: TensorSignature | undefined;

  constructor(
    private readonly name: string,
    private readonly decorators: readonly NamedDecorator[],
  ) {}

  /** What callers send: the input schema as the decorators present it. */
  get input(): SchemaRecord | undefined {
    return this.#input;
  }

  get output(): SchemaRecord | undefined {
    return this.#output;
  }

  /** Whether decorators changed the input schema callers see. */
  get decoratesInput(): boolean {
    return this.#input !== this.#modelInput;
  }

  /** The outer validators, once both schemas are known. */
  get validators(): Validators | undefined {
    return this.#validators;
  }

  /** The model's own validators (past its decorators); undefined until the schema is known. */
  get validateModelInput(): RecordValidator | undefined {
    return this.#validateModelInput;
  }

  get validateModelOutput(): RecordValidator | undefined {
    return this.#validateModelOutput;
  }

  /** The outer schemas as tensor columns (the tensor view of a record model). */
  get inputColumns(): readonly ColumnSpec[] {
    return this.#inputColumns;
  }

  get outputColumns(): readonly ColumnSpec[] {
    return this.#outputColumns;
  }

  /** The model's own input schema as columns (V2 explain, which is not decorated). */
  get modelInputColumns(): readonly ColumnSpec[] {
    return this.#modelInputColumns;
  }

  /** The columns as a signature, rebuilt only when a schema changes (it is read on every V2 call). */
  get recordSignature(): TensorSignature | undefined {
    return this.#recordSignature;
  }

  /** Compiles the model's current schemas where they changed (by identity); throws if one is not a valid JSON Schema. */
  compile(model: Model): void {
    // Where the model's schemas (public JsonSchema: TypeBox, literals, interface-typed objects) become records to read.
    const { input_schema: input, output_schema: output }: { input_schema?: SchemaRecord; output_schema?: SchemaRecord } = model;
    if (input !== undefined && input !== this.#modelInput) {
      this.#validateModelInput = this.#compileOne('input_schema', input);
      this.#modelInput = input;
      this.#modelInputColumns = columnsOf(input);
    }
    if (output !== undefined && output !== this.#modelOutput) {
      this.#validateModelOutput = this.#compileOne('output_schema', output);
      this.#modelOutput = output;
    }
    const outer = decoratedSchemas(this.decorators, input, output);
    if (outer.input !== undefined && outer.input !== this.#input) {
      this.#validateInput = outer.input === input ? this.#validateModelInput : this.#compileOne('input_schema (as the decorators present it)', outer.input);
      this.#input = outer.input;
      this.#inputColumns = columnsOf(outer.input);
    }
    if (outer.output !== undefined && outer.output !== this.#output) {
      this.#validateOutput = outer.output === output ? this.#validateModelOutput : this.#compileOne('output_schema (as the decorators present it)', outer.output);
      this.#output = outer.output;
      this.#outputColumns = columnsOf(outer.output);
    }
    this.#validators =
      this.#validateInput && this.#validateOutput ? { validateInput: this.#validateInput, validateOutput: this.#validateOutput } : undefined;
    this.#recordSignature =
      this.#inputColumns.length > 0 && this.#outputColumns.length > 0
        ? { platform: RECORD_PLATFORM, inputs: this.#inputColumns, outputs: this.#outputColumns }
        : undefined;
  }

  #compileOne(which: string, schema: SchemaRecord): RecordValidator {
    if (!isRecord(schema)) {
      throw new Error(`${which} of model '${this.name}' must be a JSON Schema object, got ${Array.isArray(schema) ? 'an array' : typeof schema}`);
    }
    try {
      // A fresh ajv per compile: a schema replaced in load() may keep its `$id`, which one ajv would refuse twice.
      return createSchemaCompiler()(schema);
    } catch (error) {
      const message = (error as Error).message;
      const hint = /no schema with key or ref/.test(message)
        ? ' (its $schema is not one longshore knows: use http://json-schema.org/draft-07/schema#, or a 2019-09 or 2020-12 URI)'
        : '';
      throw new Error(`${which} of model '${this.name}' is not a valid JSON Schema: ${message}${hint}`);
    }
  }
}
