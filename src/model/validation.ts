/**
 * Compiles a model's JSON Schemas once (at registration or after load) into validators that report every failing
 * field as an ErrorDetail.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ErrorDetail } from '../errors.js';

// ajv-formats is CommonJS with a `default` property; which of the two is the function depends on the loader.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

/** Most problems reported for one value (ajv's allErrors can produce one per array element). */
const MAX_VALIDATION_DETAILS = 100;

/**
 * longshore's own view of a JSON Schema: an object whose keywords it reads. A model's schemas (the public `JsonSchema`,
 * which also accepts interface-typed and `as const` objects) are read into this type where the server takes them.
 */
export type SchemaRecord = Record<string, unknown>;

/** Whether `value` is a JSON object (not null, not an array): a schema or a record whose keys can be read. */
export function isRecord(value: unknown): value is SchemaRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the list of problems, or undefined when the value is valid. */
export type RecordValidator = (value: unknown) => ErrorDetail[] | undefined;

/**
 * `strict: false` lets models use keywords ajv does not know (docs, OpenAPI extras); `strictNumbers: true` is turned
 * back on explicitly (strict: false would turn it off), so `type: number` / `integer` never accepts NaN or ±Infinity:
 * JSON cannot carry them, so a value that holds one (a model's output, a record decoded from a binary tensor) breaks
 * the schema instead of being answered as a silent `null`.
 */
const AJV_OPTIONS = { allErrors: true, strict: false, strictNumbers: true, coerceTypes: false, useDefaults: false, verbose: true } as const;

/** The ajv class for the schema's declared draft: 2020-12 and 2019-09 when `$schema` says so, draft-07 otherwise. */
function ajvFor(schema: SchemaRecord): new (options: typeof AJV_OPTIONS) => Ajv {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  if (declared.includes('2020-12')) return Ajv2020;
  if (declared.includes('2019-09')) return Ajv2019;
  return Ajv;
}

/** Builds a validator factory with its own ajv instances, so two models' schemas never clash on `$id`. */
export function createSchemaCompiler(): (schema: SchemaRecord) => RecordValidator {
  const instances = new Map<unknown, Ajv>();
  return (schema) => {
    const AjvClass = ajvFor(schema);
    let ajv = instances.get(AjvClass);
    if (!ajv) {
      ajv = new AjvClass(AJV_OPTIONS);
      addFormats(ajv);
      instances.set(AjvClass, ajv);
    }
    const validate: ValidateFunction = ajv.compile(schema);
    return (value) => (validate(value) ? undefined : (validate.errors ?? []).slice(0, MAX_VALIDATION_DETAILS).map(toDetail));
  };
}

/** Turns an ajv error into `{path, message}` where `path` points at the failing field itself. */
function toDetail(error: ErrorObject): ErrorDetail {
  const path = error.instancePath || '/';
  // strictNumbers: a non-finite number fails `type: number`; ajv's "must be number" would read as nonsense.
  if (error.keyword === 'type' && typeof error.data === 'number' && !Number.isFinite(error.data)) {
    return { path, message: `must be ${finiteTypes(error.params.type)} (got ${String(error.data)})` };
  }
  switch (error.keyword) {
    case 'required':
      return { path: join(error.instancePath, String(error.params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: join(error.instancePath, String(error.params.additionalProperty)), message: 'is not an allowed field' };
    case 'enum':
      return { path, message: `must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    default:
      return { path, message: `${error.message ?? 'is invalid'}${expected(error)}` };
  }
}

/** `a finite number`, `a finite integer or null`: the types a non-finite number failed, as a reader would say them. */
function finiteTypes(type: unknown): string {
  const names = (Array.isArray(type) ? type : String(type).split(',')).map(String);
  return names.map((name) => (name === 'number' || name === 'integer' ? `a finite ${name}` : name)).join(' or ');
}

/** `; expected <description>` when the failing node's schema describes itself (e.g. an ONNX input's shape). */
function expected(error: ErrorObject): string {
  const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
  return typeof description === 'string' && description !== '' ? `; expected ${description}` : '';
}

function join(pointer: string, key: string): string {
  return `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** One-line summary of details, e.g. for an error message: `/sepal_length is required; /x must be number`. */
export function summarize(details: readonly ErrorDetail[], limit = 5): string {
  const shown = details.slice(0, limit).map((d) => `${d.path} ${d.message}`);
  if (details.length > limit) shown.push(`and ${details.length - limit} more`);
  return shown.join('; ');
}
