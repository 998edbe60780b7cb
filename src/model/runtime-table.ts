/**
 * The one table of runtimes: for each kind of model entry, how its model is created. A module entry imports a user's
 * class, an ONNX entry opens a `.onnx` file, a graph entry composes models served above it in the file. A new runtime
 * is one more row here (and its keys in the config schema).
 */
import type { ModelEntry } from '../config/schema.js';
import { createGraphModel } from '../graphs/index.js';
import { createModuleModel, createOnnxModel, createTransformersModel } from '../runtimes/index.js';
import type { RuntimeModel } from '../runtimes/runtime-model.js';
import type { ServedModel } from './served-model.js';

/** What a runtime may use to create an entry's model. */
export interface RuntimeContext {
  /** The config file's directory: relative paths resolve against it. */
  readonly dir: string;
  /** A model served above this entry in the file, by name (graph members). */
  readonly member: (name: string) => ServedModel | undefined;
  /** The names of the models served above this entry (for "did you mean" messages). */
  readonly memberNames: () => readonly string[];
}

export interface Runtime<Entry extends ModelEntry = ModelEntry> {
  /**
   * Whether the entry's model is built from models above it, so it is created after them, in file order. Otherwise it
   * is created with every other such entry, concurrently.
   */
  readonly composesMembers: boolean;
  /** Creates (does not load) the entry's model; throws EntryProblem naming the faulty key. */
  create(entry: Entry, context: RuntimeContext): RuntimeModel | Promise<RuntimeModel>;
}

/** The runtimes an entry may have (`entry.runtime`, set by the config loader from the entry's keys). */
export type RuntimeKind = ModelEntry['runtime'];

export const RUNTIMES: { readonly [Kind in RuntimeKind]: Runtime<Extract<ModelEntry, { runtime: Kind }>> } = {
  module: { composesMembers: false, create: (entry, { dir }) => createModuleModel(entry, dir) },
  onnx: { composesMembers: false, create: (entry, { dir }) => createOnnxModel(entry, dir) },
  transformers: { composesMembers: false, create: (entry, { dir }) => createTransformersModel(entry, dir) },
  graph: { composesMembers: true, create: (entry, { member, memberNames }) => createGraphModel(entry, member, memberNames) },
};

/** The runtime of an entry. */
export function runtimeFor(entry: ModelEntry): Runtime {
  // The row's entry type is the one whose `runtime` picked the row.
  return RUNTIMES[entry.runtime] as Runtime;
}
