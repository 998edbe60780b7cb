/**
 * The public model contract (src/model/contract.ts, exported from src/index.ts) as a user's strict TypeScript project
 * sees it: small consumer files, written to a temp dir, type-checked with the compiler API under `strict`,
 * `exactOptionalPropertyTypes`, `noPropertyAccessFromIndexSignature` and `noUncheckedIndexedAccess`, importing
 * 'longshore' from the source. Only the consumer files' own diagnostics count (longshore's sources are checked by the
 * project's tsconfig, and the shipped .d.ts by the packaging test). The minimal model is read from
 * docs/writing-a-model.md, so the docs and this test cannot drift apart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';

const REPO = resolve(import.meta.dirname, '../..');
const WRITING_A_MODEL = join(REPO, 'docs/writing-a-model.md');

/** The first ```ts block after the heading `## A minimal model`. */
function docsMinimalModel(markdown: string): string {
  const section = markdown.split(/^## A minimal model$/m)[1];
  const block = section === undefined ? null : /```ts\n([\s\S]*?)```/.exec(section);
  if (!block?.[1]) throw new Error('docs/writing-a-model.md has no ```ts block under "## A minimal model"');
  return block[1];
}

/** Every ```ts block of the page with the heading it is under, except the contract's outline (a summary, not code). */
function docsExamples(markdown: string): { heading: string; code: string }[] {
  const examples: { heading: string; code: string }[] = [];
  let heading = '';
  for (const part of markdown.split(/^(## .*)$/m)) {
    if (part.startsWith('## ')) {
      heading = part;
      continue;
    }
    if (heading === '## The contract') continue;
    for (const match of part.matchAll(/```ts\n([\s\S]*?)```/g)) examples.push({ heading, code: match[1] as string });
  }
  return examples;
}

/** Plain JSON Schema, `as const` throughout, with every optional member a user may add. */
const AS_CONST_MODEL = `import type { CallContext, Model, ModelClass, ModelExample, OperationSpec, ScoreExample } from 'longshore';

const InputSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    label: { enum: ['a', 'b'] },
    values: { type: 'array', items: { type: 'number' }, minItems: 1 },
  },
  required: ['label', 'values'],
  additionalProperties: false,
} as const;

const OutputSchema = { type: 'object', properties: { sum: { type: 'number' } }, required: ['sum'] } as const;

type Input = { label: 'a' | 'b'; values: number[] };
type Output = { sum: number };

const similar: OperationSpec = {
  description: 'Labels near the input.',
  input_schema: { type: 'object', properties: { k: { type: 'integer' } }, required: ['k'] } as const,
  output_schema: { type: 'array', items: { type: 'string' } } as const,
  run: (input) => Array.from({ length: (input as { k: number }).k }, () => 'a'),
};

export class Summer implements Model<Input, Output> {
  readonly qualified_name = 'summer';
  readonly display_name = 'Summer';
  readonly description = 'Adds numbers.';
  readonly version = '2.1.0';
  readonly input_schema = InputSchema;
  readonly output_schema = OutputSchema;
  readonly operations = { similar };
  readonly examples: readonly ModelExample[] = [{ name: 'two', input: { label: 'a', values: [1, 1] }, expected_output: { sum: 2 } }];
  readonly notes = ['sums in float64'] as const;
  readonly #offset: number;

  constructor(configuration: Record<string, unknown>) {
    const offset = configuration['offset'];
    this.#offset = typeof offset === 'number' ? offset : 0;
  }

  async load(): Promise<void> {}

  predict(input: Input, context?: CallContext): Output {
    if (context?.signal?.cancelled === true) throw new Error('client left');
    return { sum: this.#offset + input.values.reduce((total, value) => total + value, 0) };
  }

  async predictBatch(inputs: Input[]): Promise<Output[]> {
    return inputs.map((input) => this.predict(input));
  }

  metricsFor(inputs: unknown): Record<string, number> {
    return { rows: Array.isArray(inputs) ? inputs.length : 1 };
  }

  score(examples: ScoreExample<Input>[]): Record<string, number> {
    return { count: examples.length };
  }

  explain(input: Input): { terms: number } {
    return { terms: input.values.length };
  }

  unload(): void {}
}

export const asClass: ModelClass = Summer;
`;

/** TypeBox schemas and their Static types; no metadata at all (the YAML entry names the model). */
const TYPEBOX_MODEL = `import { Type, type Static } from '@sinclair/typebox';
import type { Model } from 'longshore';

const Input = Type.Object({ x: Type.Number(), tags: Type.Optional(Type.Array(Type.String())) }, { additionalProperties: false });
const Output = Type.Object({ y: Type.Number() });
type Input = Static<typeof Input>;
type Output = Static<typeof Output>;

export class Doubler implements Model<Input, Output> {
  readonly input_schema = Input;
  readonly output_schema = Output;

  predict(input: Input): Output {
    return { y: 2 * input.x };
  }
}
`;

/** Schemas typed by interfaces without an index signature (as JSONSchema7 of @types/json-schema is), and a decorator. */
const INTERFACE_SCHEMA_MODEL = `import type { Decorator, DecoratorSetup, JsonSchema, Model } from 'longshore';

interface Schema7 {
  $schema?: string;
  type?: 'object' | 'string' | 'number' | 'integer' | 'array' | 'boolean' | 'null';
  properties?: { [name: string]: Schema7 };
  required?: string[];
  additionalProperties?: boolean | Schema7;
  description?: string;
}

interface ObjectSchema {
  type: 'object';
  properties: { text: { type: 'string' } };
  required: readonly string[];
}

const input: ObjectSchema = { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] };
const output: Schema7 = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };

export class Counter implements Model<{ text: string }, { n: number }> {
  readonly qualified_name = 'counter';
  readonly input_schema = input;
  readonly output_schema = output;

  predict(record: { text: string }): { n: number } {
    return { n: record.text.length };
  }
}

export class Stamp implements Decorator {
  readonly #model: string;

  constructor(_configuration: Record<string, unknown>, setup: DecoratorSetup) {
    this.#model = setup.model;
  }

  outputSchema(inner: JsonSchema): JsonSchema {
    const properties: unknown = inner['properties'];
    const stamped: Schema7 = { type: 'object', properties: { ...(properties as Schema7['properties']), model: { type: 'string' } } };
    return stamped;
  }

  async predict(record: unknown, next: (input: unknown) => Promise<unknown>): Promise<unknown> {
    return { ...(await next(record) as object), model: this.#model };
  }
}
`;

/** The minimal model without predict(): must not compile. */
const NO_PREDICT = `import type { Model } from 'longshore';

export class NoPredict implements Model {
  readonly qualified_name = 'no_predict';
  readonly input_schema = { type: 'object' } as const;
  readonly output_schema = { type: 'object' } as const;
  guess(input: unknown): unknown {
    return input;
  }
}
`;

/** A model without input_schema: must not compile. */
const NO_INPUT_SCHEMA = `import type { Model } from 'longshore';

export class NoInputSchema implements Model {
  readonly output_schema = { type: 'object' } as const;
  predict(input: unknown): unknown {
    return input;
  }
}
`;

/** The server's own types are not part of the public API. */
const INTERNAL_IMPORTS = `import type { RuntimeModel, RecordTensorCodec, ServedMetadata, SchemaRecord } from 'longshore';

export type Internals = [RuntimeModel, RecordTensorCodec, ServedMetadata, SchemaRecord];
`;

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  exactOptionalPropertyTypes: true,
  noPropertyAccessFromIndexSignature: true,
  noUncheckedIndexedAccess: true,
  skipLibCheck: false,
  noEmit: true,
  allowImportingTsExtensions: true,
  types: ['node'],
  paths: { longshore: [join(REPO, 'src/index.ts')] },
};

let dir: string;
/** Consumer file name → its diagnostics, from one program over all of them. */
const diagnostics = new Map<string, readonly ts.Diagnostic[]>();
let docsExampleFiles: { heading: string; file: string }[] = [];

function consumerFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'longshore-contract-types-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  // The consumer's own dependencies (TypeBox, @types/node) are longshore's dev copies.
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const markdown = readFileSync(WRITING_A_MODEL, 'utf8');
  const files = [
    consumerFile('minimal.ts', docsMinimalModel(markdown)),
    consumerFile('as-const.ts', AS_CONST_MODEL),
    consumerFile('typebox.ts', TYPEBOX_MODEL),
    consumerFile('interface-schema.ts', INTERFACE_SCHEMA_MODEL),
    consumerFile('no-predict.ts', NO_PREDICT),
    consumerFile('no-input-schema.ts', NO_INPUT_SCHEMA),
    consumerFile('internal-imports.ts', INTERNAL_IMPORTS),
  ];
  docsExampleFiles = docsExamples(markdown).map(({ heading, code }, index) => ({ heading, file: consumerFile(`docs-example-${index}.ts`, code) }));
  files.push(...docsExampleFiles.map(({ file }) => file));
  const program = ts.createProgram(files, OPTIONS);
  assert.deepEqual(program.getOptionsDiagnostics().map(format), []);
  for (const file of files) {
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} is not in the program`);
    diagnostics.set(file, [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]);
  }
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function format(diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (!diagnostic.file || diagnostic.start === undefined) return `TS${diagnostic.code}: ${message}`;
  const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
  return `${diagnostic.file.fileName.slice(dir.length + 1)}(${line + 1},${character + 1}): TS${diagnostic.code}: ${message}`;
}

function diagnosticsOf(name: string): string[] {
  const found = diagnostics.get(join(dir, name));
  assert.ok(found, `no diagnostics recorded for ${name}`);
  return found.map(format);
}

describe('the public Model type in a strict consumer project', () => {
  it('compiles the minimal model of docs/writing-a-model.md (## A minimal model) with no diagnostics', () => {
    assert.deepEqual(diagnosticsOf('minimal.ts'), []);
  });

  it('compiles a model with `as const` JSON Schemas and every optional member', () => {
    assert.deepEqual(diagnosticsOf('as-const.ts'), []);
  });

  it('compiles a model with TypeBox schemas and no metadata', () => {
    assert.deepEqual(diagnosticsOf('typebox.ts'), []);
  });

  it('compiles schemas typed by interfaces without an index signature, and a decorator returning one', () => {
    assert.deepEqual(diagnosticsOf('interface-schema.ts'), []);
  });

  it('compiles every TypeScript example of docs/writing-a-model.md', () => {
    assert.ok(docsExampleFiles.length >= 4, `expected the page's examples, found ${docsExampleFiles.length}`);
    for (const { heading, file } of docsExampleFiles) {
      assert.deepEqual((diagnostics.get(file) ?? []).map(format), [], `an example under "${heading}" does not compile`);
    }
  });

  it('rejects a class without predict()', () => {
    const found = diagnosticsOf('no-predict.ts');
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0] as string, /TS2420: Class 'NoPredict' incorrectly implements interface 'Model<unknown, unknown>'[\s\S]*'predict'/);
  });

  it('rejects a class without input_schema', () => {
    const found = diagnosticsOf('no-input-schema.ts');
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0] as string, /TS2420: Class 'NoInputSchema' incorrectly implements interface 'Model<unknown, unknown>'[\s\S]*'input_schema'/);
  });

  it('does not export the server\'s internal types', () => {
    const found = diagnosticsOf('internal-imports.ts');
    for (const name of ['RuntimeModel', 'RecordTensorCodec', 'ServedMetadata', 'SchemaRecord']) {
      assert.ok(
        found.some((line) => /TS2305/.test(line) && line.includes(`'${name}'`)),
        `importing ${name} from 'longshore' should fail with TS2305:\n${found.join('\n')}`,
      );
    }
  });
});
