/**
 * A served model's metadata: the class's own (every field optional in the contract) with the YAML entry's overrides and
 * the defaults applied, so every field is known. The registry resolves it once per model; everything after reads it.
 */
import { MODEL_NAME_PATTERN, type ModelEntry } from '../config/schema.js';
import { EntryProblem } from '../errors.js';
import type { Model, ModelMetadata } from './contract.js';

const NAME = new RegExp(MODEL_NAME_PATTERN);

/** ModelMetadata with every field resolved, as `GET /api/models` shows it. */
export type ServedMetadata = Required<ModelMetadata>;


/** The model's own metadata with the entry's overrides applied; throws EntryProblem when a field is unusable. */
export function resolveMetadata(model: Model, entry: ModelEntry): ServedMetadata {
  const qualifiedName = entry.qualified_name ?? model.qualified_name;
  if (typeof qualifiedName !== 'string' || !NAME.test(qualifiedName)) {
    throw new EntryProblem(
      'class_path',
      qualifiedName === undefined
        ? `the model has no qualified_name; set it on the class or as qualified_name in this entry`
        : `qualified_name ${JSON.stringify(qualifiedName)} is not usable in a URL; use letters, digits, '_', '.' or '-'`,
    );
  }
  const version = entry.version ?? model.version ?? '1';
  return {
    qualified_name: qualifiedName,
    // A display name that only mirrors the model's own default name follows a rename in the entry.
    display_name: entry.display_name ?? (model.display_name === model.qualified_name ? qualifiedName : (model.display_name ?? qualifiedName)),
    description: entry.description ?? model.description ?? '',
    version: String(version),
  };
}
