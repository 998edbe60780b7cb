/**
 * The contents of the files `longshore init` writes, as TypeScript strings, so they compile into dist/ with the rest of
 * longshore and need no copy step. Each function takes what varies between projects (the package name, the versions
 * to depend on) and returns the file's text. Which files are written, and where, is decided in init.ts.
 */

/** What the templates fill in. */
export interface ScaffoldContext {
  /** The new project's npm package name, already valid. */
  readonly name: string;
  /** longshore's own version: the project depends on `^<version>`. */
  readonly longshoreVersion: string;
  /** The `@sinclair/typebox` range longshore itself depends on, so the model's schemas use the same TypeBox. */
  readonly typeboxRange: string;
}

/** The scaffolded model: its file (under models/), its exported class, and the name it is served under. */
export const MODEL = {
  file: 'models/price-model.ts',
  className: 'PriceModel',
  qualifiedName: 'price_model',
} as const;

export function packageJson(context: ScaffoldContext): string {
  const manifest = {
    name: context.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    description: 'A model service served by longshore.',
    engines: { node: '>=20.19' },
    scripts: {
      start: 'longshore serve',
      // No path: `node --test test/` fails on Node 22+ (a directory is taken as a glob matching itself); the default
      // patterns find test/**/*.js on Node 20 and 22+ alike.
      test: 'node --test',
      typecheck: 'tsc --noEmit',
    },
    dependencies: {
      '@sinclair/typebox': context.typeboxRange,
      longshore: `^${context.longshoreVersion}`,
    },
    devDependencies: {
      '@types/node': '^20.19.0',
      typescript: '~5.9.3',
    },
    // npm 11's install-script approvals: an explicit false skips onnxruntime-node's script (see .npmrc); esbuild's
    // (through tsx, which compiles the .ts model) only checks its own binary.
    allowScripts: { esbuild: true, 'onnxruntime-node': false },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export function npmrc(): string {
  return `# onnxruntime-node (an optional peer of longshore, installed with \`npm install onnxruntime-node\` to serve .onnx
# files) runs an install script that downloads CUDA provider files from the network on linux/x64, and fails offline.
# The CPU runtime is bundled in the package, so skipping the script loses nothing. Two settings skip it:
#   - the line below, read by npm 10 and npm 11;
#   - "allowScripts": {"onnxruntime-node": false} in package.json, npm 11's install-script approval list.
# To use CUDA, write onnxruntime-node-install=cuda12 here instead and remove the allowScripts entry.
# npm 11 warns on every npm command that it does not know this key ("Unknown project config"): that is expected, the
# install script reads it. On npm 11 alone, allowScripts does the job: delete this file to silence the warning.
onnxruntime-node-install=skip
`;
}

export function longshoreYaml(context: ScaffoldContext): string {
  return `# The service \`npm start\` (longshore serve) runs. Every key, with its default, is in longshore's
# docs/configuration.md (node_modules/longshore/docs/configuration.md).
service_title: ${JSON.stringify(context.name)}
version: 0.1.0

server:
  host: 127.0.0.1   # 0.0.0.0 in a container; --host / LONGSHORE_HOST override it
  port: 8000        # --port / LONGSHORE_PORT override it

models:
  # A model class written in TypeScript: longshore loads the .ts file itself, with no build step.
  # Served at POST /api/models/${MODEL.qualifiedName}/prediction and /v2/models/${MODEL.qualifiedName}/infer.
  - class_path: ./${MODEL.file}#${MODEL.className}
    configuration:   # passed as-is to the constructor
      round_to: 100  # round prices to this many euros
`;
}

export function modelSource(): string {
  return `/**
 * A flat price estimator: a linear regression with fixed coefficients, so its answers are deterministic and checkable.
 * Replace it with your own model. The contract (schemas, predict, examples) is longshore's docs/writing-a-model.md.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { Model, ModelExample } from 'longshore';

/** One input record. Every request is checked against this JSON Schema before predict() runs (400 otherwise). */
export const PriceInput = Type.Object(
  {
    area_m2: Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: 'Living area in square metres.' }),
    rooms: Type.Integer({ minimum: 1, maximum: 100, description: 'Number of rooms.' }),
  },
  { additionalProperties: false, description: 'A flat.' },
);

/** One output record. Every answer is checked against it too. */
export const PriceOutput = Type.Object(
  { price_eur: Type.Number({ description: 'Estimated price in euros.' }) },
  { additionalProperties: false },
);

export type PriceInput = Static<typeof PriceInput>;
export type PriceOutput = Static<typeof PriceOutput>;

/** The fitted coefficients: price = intercept + per_m2 * area_m2 + per_room * rooms. */
const COEFFICIENTS = { intercept: 20_000, per_m2: 3_100, per_room: 5_000 } as const;

export class ${MODEL.className} implements Model<PriceInput, PriceOutput> {
  readonly qualified_name = '${MODEL.qualifiedName}';
  readonly display_name = 'Price model';
  readonly description = 'Estimates the price of a flat from its area and number of rooms.';
  readonly version = '1.0.0';
  readonly input_schema = PriceInput;
  readonly output_schema = PriceOutput;

  /**
   * Self-tests (longshore's docs/self-tests.md): they run after load (a failing one marks the model failed), on
   * GET /api/health/ready?deep=true, and are the request examples in the API docs at /docs.
   */
  readonly examples: ModelExample<PriceInput>[] = [
    { name: 'three rooms', input: { area_m2: 70, rooms: 3 }, expected_output: { price_eur: 252_000 } },
    { name: 'studio', input: { area_m2: 40, rooms: 1 }, expected_output: { price_eur: 149_000 } },
  ];

  readonly #roundTo: number;

  /** \`configuration\` is the entry's \`configuration:\` mapping in longshore.yaml, passed as-is. */
  constructor(configuration: Record<string, unknown>) {
    const roundTo = configuration['round_to'] ?? 1;
    if (typeof roundTo !== 'number' || !(roundTo > 0)) throw new Error('configuration.round_to must be a positive number');
    this.#roundTo = roundTo;
  }

  predict(input: PriceInput): PriceOutput {
    const { intercept, per_m2, per_room } = COEFFICIENTS;
    const price = intercept + per_m2 * input.area_m2 + per_room * input.rooms;
    return { price_eur: Math.round(price / this.#roundTo) * this.#roundTo };
  }

  /** Many records in one call: POST /api/models/${MODEL.qualifiedName}/predictions, and V2 requests of several rows. */
  predictBatch(inputs: PriceInput[]): PriceOutput[] {
    return inputs.map((input) => this.predict(input));
  }
}
`;
}

export function modelTest(): string {
  return `// Starts the service in-process on a free port and calls it over HTTP, the way a client would.
// Plain JavaScript, so \`node --test\` runs it as is; longshore compiles the .ts model itself.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { loadConfigFile, startServer } from 'longshore';
import { LongshoreClient, LongshoreClientError } from 'longshore/client';

const MODEL = '${MODEL.qualifiedName}';

/** @type {import('longshore').RunningServer | undefined} */
let server;
/** @type {LongshoreClient} */
let client;

before(async () => {
  const loaded = loadConfigFile(fileURLToPath(new URL('../longshore.yaml', import.meta.url)));
  server = await startServer({ loaded, host: '127.0.0.1', port: 0, logLevel: 'silent' });
  await server.modelsLoaded;
  client = new LongshoreClient(server.url, { timeoutMs: 10_000 });
});

after(async () => {
  await server?.close();
});

test('the model loaded and passed its self-tests', async () => {
  const model = (await client.listModels()).find((listing) => listing.qualified_name === MODEL);
  // A failed load or self-test is reported with its reason, e.g. "self-test 'studio' failed: ...".
  assert.equal(model?.status, 'ready', model?.error);
});

test('REST: one prediction', async () => {
  assert.deepEqual(await client.predict(MODEL, { area_m2: 70, rooms: 3 }), { price_eur: 252_000 });
});

test('Open Inference Protocol (V2): two rows, one column per field', async () => {
  const response = await client.infer(MODEL, {
    inputs: [
      { name: 'area_m2', datatype: 'FP64', shape: [2], data: [70, 40] },
      { name: 'rooms', datatype: 'INT64', shape: [2], data: [3, 1] },
    ],
  });
  assert.deepEqual(Array.from(response.output('price_eur', 'FP64').data), [252_000, 149_000]);
});

test('an input that breaks the schema is a 400 SchemaValidationError', async () => {
  await assert.rejects(client.predict(MODEL, { area_m2: -5, rooms: 2 }), (error) => {
    assert.ok(error instanceof LongshoreClientError);
    assert.equal(error.status, 400);
    assert.equal(error.type, 'SchemaValidationError');
    assert.equal(error.details[0]?.path, '/area_m2');
    return true;
  });
});
`;
}

export function tsconfigJson(): string {
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      exactOptionalPropertyTypes: true,
      noPropertyAccessFromIndexSignature: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['models/'],
  };
  return `${JSON.stringify(tsconfig, null, 2)}\n`;
}

export function readme(context: ScaffoldContext): string {
  return `# ${context.name}

A model service served by [longshore](https://www.npmjs.com/package/longshore): the TypeScript model in \`${MODEL.file}\`, configured in \`longshore.yaml\` (to serve \`.onnx\` files as well, \`npm install onnxruntime-node\`).
Install and test: \`npm install && npm test\` (\`npm run typecheck\` type-checks the model).
Serve: \`npm start\`, then open http://127.0.0.1:8000/docs for the API; longshore's own docs are in \`node_modules/longshore/docs/\`.
`;
}

export function gitignore(): string {
  return 'node_modules/\n';
}
