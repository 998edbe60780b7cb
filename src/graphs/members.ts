/**
 * A graph's members as the graph uses them: each member entry resolved once, at creation, to the served model it names,
 * with its weight, field renames and header value. Keys that do not fit the graph's kind are config problems.
 */
import type { GraphEntry } from '../config/schema.js';
import type { ServedModel } from '../model/served-model.js';
import { EntryProblem } from '../errors.js';

export type GraphKind = GraphEntry['kind'];

export interface GraphMember {
  /** The member's model name (its qualified_name), as the entry gives it. */
  readonly name: string;
  /** The model serving the name now (its newest ready version). */
  readonly served: ServedModel;
  /** ensemble: vote or mean weight; router: share of traffic. Default 1. */
  readonly weight: number;
  /** pipeline: renames of the previous output's fields for this member, `[previous_field, this_field]`. */
  readonly renames: readonly (readonly [string, string])[];
  /** router: the routing header's value that picks this member. */
  readonly headerValue: string | undefined;
}

/** The member keys each kind reads; any other key set on a member is a mistake worth reporting. */
const MEMBER_KEYS: Record<GraphKind, readonly string[]> = {
  ensemble: ['weight'],
  pipeline: ['map'],
  router: ['weight', 'header_value'],
};

/**
 * Resolves every member of `graph`. Throws EntryProblem at `graph.members[j]` for a name `lookup` does not find (listing
 * `known()` when given), or at the member's key for a key its kind does not use.
 */
export function resolveMembers(
  graph: GraphEntry,
  lookup: (name: string) => ServedModel | undefined,
  known?: () => readonly string[],
): GraphMember[] {
  return graph.members.map((member, index) => {
    const spec: Exclude<typeof member, string> = typeof member === 'string' ? { model: member } : member;
    const served = lookup(spec.model);
    if (served === undefined) {
      const names = known?.();
      const list = names === undefined ? '' : `; those are: ${names.length > 0 ? names.join(', ') : 'none'}`;
      throw new EntryProblem(
        ['graph', 'members', index],
        `no model '${spec.model}' for this graph; a graph's members are the models of its file and the graphs defined above it${list}`,
      );
    }
    for (const key of ['weight', 'map', 'header_value'] as const) {
      if (spec[key] !== undefined && !MEMBER_KEYS[graph.kind].includes(key)) {
        throw new EntryProblem(['graph', 'members', index, key], `a ${graph.kind} member takes no ${key}`);
      }
    }
    if (spec.map !== undefined && index === 0) {
      throw new EntryProblem(['graph', 'members', 0, 'map'], 'the first member of a pipeline gets the request as it is; map applies to the members after it');
    }
    return {
      name: spec.model,
      // Looked up at each call, so a member replaced at run time (a new version, a reload) is the one called.
      get served() {
        return lookup(spec.model) ?? served;
      },
      weight: spec.weight ?? 1,
      renames: Object.entries(spec.map ?? {}),
      headerValue: spec.header_value,
    };
  });
}
