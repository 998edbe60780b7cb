/**
 * The config's two validators (the whole file, and the `models:` list of `--model` entries), from the one schema.
 * Compiling them with Ajv was the largest cost of starting a server (0.2 s of 0.97 s to ready for one ONNX file,
 * BENCHMARKS.md "Cold start": the entry schema, one branch per runtime, is some 300 KB of generated code, and the
 * config holds it too). So `npm run build` compiles
 * them once, with Ajv's standalone code, into `dist/config/validators.generated.cjs` (scripts/build.mjs calls
 * `validatorsSource()`), and the built package loads that file; from the sources, where it does not exist, they are
 * compiled on first use as before. Same schema, same Ajv options, same errors either way
 * (test/config/precompiled-validators.test.ts).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Type } from '@sinclair/typebox';
import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { ModelEntrySchema, type ValidatedEntry } from './entry-schema.js';
import { ConfigSchema, type ValidatedConfig } from './schema.js';

export interface ConfigValidators {
  readonly config: ValidateFunction<ValidatedConfig>;
  readonly models: ValidateFunction<{ models: ValidatedEntry[] }>;
}

/** The file the build writes beside this module's compiled JavaScript. */
export const GENERATED_FILE = 'validators.generated.cjs';

const OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false, verbose: true, discriminator: true };
const MODELS_SCHEMA = Type.Object({ models: Type.Array(ModelEntrySchema) });

let validators: ConfigValidators | undefined;

/** The validators: precompiled when the build wrote them, else compiled now (once per process). */
export function configValidators(): ConfigValidators {
  validators ??= precompiled() ?? compile();
  return validators;
}

function precompiled(): ConfigValidators | undefined {
  const file = new URL(GENERATED_FILE, import.meta.url);
  if (!existsSync(file)) return undefined;
  return createRequire(import.meta.url)(fileURLToPath(file)) as ConfigValidators;
}

function compile(): ConfigValidators {
  const ajv = new Ajv(OPTIONS);
  return { config: ajv.compile<ValidatedConfig>(ConfigSchema), models: ajv.compile<{ models: ValidatedEntry[] }>(MODELS_SCHEMA) };
}

/**
 * The CommonJS source of both validators (exports `config` and `models`), for the build. `standaloneCode` is Ajv's
 * `ajv/dist/standalone` export, passed in so that only the build (and its test) loads it.
 */
export function validatorsSource(standaloneCode: (ajv: Ajv, refsOrFunc: Record<string, string>) => string): string {
  const ajv = new Ajv({ ...OPTIONS, code: { source: true } });
  ajv.addSchema(ConfigSchema, 'config');
  ajv.addSchema(MODELS_SCHEMA, 'models');
  return standaloneCode(ajv, { config: 'config', models: 'models' });
}
