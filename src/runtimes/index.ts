/**
 * Picks the runtime for a model entry and creates its Model. Every runtime returns the same contract.
 */
import type { ModelEntry } from '../config/schema.js';
import type { Model } from '../model/contract.js';
import { constructModel, importModelClass } from './module.js';

export { EntryProblem } from './module.js';

/** Creates (but does not load) the model an entry describes. Throws EntryProblem naming the faulty key. */
export async function createModelFromEntry(entry: ModelEntry, dir: string): Promise<Model> {
  const modelClass = await importModelClass(entry.class_path, dir);
  return constructModel(modelClass, entry.configuration);
}
