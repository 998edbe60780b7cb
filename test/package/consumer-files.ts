/**
 * Files of the user project in the packaging test: a plain .mjs that imports the package, a strict tsconfig, a model
 * and client code written against the shipped types, and the minimal model of docs/writing-a-model.md.
 */
import { readFileSync } from 'node:fs';
import { tsconfigJson } from '../../src/scaffold/templates.ts';

/** Prints what plain node sees of the package's two entry points. */
export const IMPORT_CHECK = `import { startServer, SchemaValidationError } from 'longshore';
import { LongshoreClient } from 'longshore/client';
const client = new LongshoreClient('http://127.0.0.1:1');
console.log(JSON.stringify({
  startServer: typeof startServer,
  LongshoreClient: typeof LongshoreClient,
  SchemaValidationError: new SchemaValidationError('x').status,
  client: client.constructor.name,
}));
`;

/** The same from CommonJS: require() of the ES module package (Node >= 20.19). */
export const REQUIRE_CHECK = `const { startServer } = require('longshore');
const { LongshoreClient } = require('longshore/client');
console.log(JSON.stringify({ startServer: typeof startServer, LongshoreClient: typeof LongshoreClient }));
`;

/** A model with TypeBox schemas, configuration read by index, optional members left out. */
export const SCALER_MODEL = `import { Type, type Static } from '@sinclair/typebox';
import type { CallContext, Model, ModelExample } from 'longshore';

const Input = Type.Object({ x: Type.Number() }, { additionalProperties: false });
const Output = Type.Object({ y: Type.Number() }, { additionalProperties: false });
type Input = Static<typeof Input>;
type Output = Static<typeof Output>;

export class Scaler implements Model<Input, Output> {
  readonly qualified_name = 'scaler';
  readonly description = 'Multiplies x by the configured factor.';
  readonly input_schema = Input;
  readonly output_schema = Output;
  readonly examples: readonly ModelExample[] = [{ name: 'two', input: { x: 2 } }];
  readonly #factor: number;

  constructor(configuration: Record<string, unknown>) {
    const factor = configuration['factor'];
    this.#factor = typeof factor === 'number' ? factor : 2;
  }

  predict(input: Input, context?: CallContext): Output {
    void context?.requestId;
    return { y: this.#factor * input.x };
  }

  predictBatch(inputs: Input[]): Output[] {
    return inputs.map((input) => this.predict(input));
  }
}
`;

/** Client code a user writes: every call typed, errors narrowed. */
export const CLIENT_USE = `import { LongshoreClient, LongshoreClientError } from 'longshore/client';

export async function scale(x: number): Promise<number> {
  const client = new LongshoreClient('http://127.0.0.1:8000', { timeoutMs: 1000 });
  try {
    const output = await client.predict<{ y: number }>('scaler', { x });
    return output.y;
  } catch (error) {
    if (error instanceof LongshoreClientError) throw new Error(\`\${error.status}: \${error.message}\`);
    throw error;
  }
}
`;

/** The consumer's tsconfig: the strict one `longshore init` writes, with the given skipLibCheck and files. */
export function CONSUMER_TSCONFIG(skipLibCheck: boolean, include: readonly string[] = ['models', 'client-use.ts']): string {
  const tsconfig = JSON.parse(tsconfigJson()) as { compilerOptions: Record<string, unknown>; include: readonly string[] };
  for (const option of ['strict', 'exactOptionalPropertyTypes', 'noPropertyAccessFromIndexSignature', 'noUncheckedIndexedAccess']) {
    if (tsconfig.compilerOptions[option] !== true) throw new Error(`the scaffold's tsconfig no longer sets ${option}`);
  }
  return JSON.stringify({ ...tsconfig, compilerOptions: { ...tsconfig.compilerOptions, skipLibCheck }, include }, null, 2);
}

/** The first TypeScript block after the heading "## A minimal model" of the given docs page. */
export function docsMinimalModel(docsFile: string): string {
  const text = readFileSync(docsFile, 'utf8');
  const section = text.split(/^## A minimal model$/m)[1];
  const block = section ? /```ts\n([\s\S]*?)```/.exec(section) : null;
  if (!block?.[1]) throw new Error(`${docsFile} has no \`\`\`ts block under "## A minimal model"`);
  return block[1];
}
