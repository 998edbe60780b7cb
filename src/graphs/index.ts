/**
 * Model graphs (docs/graphs.md): a model entry whose members are other models of the same file, combined as an
 * ensemble, chained as a pipeline, or picked per request by a router. The registry serves the result like any model.
 */
import type { GraphModelEntry } from '../config/schema.js';
import type { Model } from '../model/contract.js';
import type { ServedModel } from '../model/served-model.js';
import { EnsembleModel } from './ensemble.js';
import { resolveMembers } from './members.js';
import { PipelineModel } from './pipeline.js';
import { RouterModel } from './router.js';

/**
 * Creates the model a graph entry describes. `members` finds a member by name (the file's models, and graphs defined
 * above this one). Throws EntryProblem (key under `graph`) for an unknown member or a key that does not fit the kind;
 * `known`, when given, lists the usable names in the unknown-member message.
 */
export function createGraphModel(
  entry: GraphModelEntry,
  members: (name: string) => ServedModel | undefined,
  known?: () => readonly string[],
): Model {
  const graph = entry.graph;
  const resolved = resolveMembers(graph, members, known);
  switch (graph.kind) {
    case 'ensemble':
      return new EnsembleModel(entry, resolved);
    case 'pipeline':
      return new PipelineModel(entry, resolved);
    case 'router':
      return new RouterModel(entry, resolved);
  }
}
