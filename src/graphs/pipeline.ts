/**
 * A pipeline: members run one after the other, each output feeding the next member. Between two members, the output's
 * fields are renamed by the next member's `map`, then cut to the fields its input schema lists, so extra output
 * fields do not trip an `additionalProperties: false`.
 */
import type { GraphModelEntry } from '../config/schema.js';
import type { CallContext } from '../model/contract.js';
import { isRecord } from '../model/validation.js';
import { GraphModel, schemaOf, type GraphSchemas } from './graph-model.js';
import type { GraphMember } from './members.js';

/** How the previous output becomes one member's input. */
interface Stage {
  readonly member: GraphMember;
  /** previous field → this member's field. */
  readonly renames: ReadonlyMap<string, string>;
  /** The fields the member's input schema lists; undefined when it lists none (everything passes). */
  readonly keep: ReadonlySet<string> | undefined;
}

export class PipelineModel extends GraphModel {
  #stages: readonly Stage[] = [];

  constructor(entry: GraphModelEntry, members: readonly GraphMember[]) {
    super(entry, 'pipeline', members, `Pipeline ${members.map((member) => member.name).join(' → ')}`);
  }

  protected deriveSchemas(): GraphSchemas {
    return {
      input: schemaOf(this.members[0] as GraphMember, 'input'),
      output: schemaOf(this.members[this.members.length - 1] as GraphMember, 'output'),
    };
  }

  protected override loaded(): void {
    this.#stages = this.members.slice(1).map((member) => {
      const properties = schemaOf(member, 'input').properties;
      return {
        member,
        renames: new Map(member.renames),
        keep: isRecord(properties) ? new Set(Object.keys(properties)) : undefined,
      };
    });
  }

  async predict(input: unknown, context?: CallContext): Promise<unknown> {
    let value = await this.call(this.members[0] as GraphMember, input, context);
    for (const stage of this.#stages) value = await this.call(stage.member, adapt(value, stage), context);
    return value;
  }
}

/** The previous output as the stage's member takes it: renamed, then only the fields it lists. Non-objects pass as they are. */
function adapt(output: unknown, stage: Stage): unknown {
  if (!isRecord(output)) return output;
  const next: Record<string, unknown> = {};
  // Fields kept under their own name first, so a renamed field wins over one that already has its new name.
  for (const [field, value] of Object.entries(output)) {
    if (!stage.renames.has(field) && (stage.keep === undefined || stage.keep.has(field))) next[field] = value;
  }
  for (const [from, to] of stage.renames) {
    if (Object.hasOwn(output, from) && (stage.keep === undefined || stage.keep.has(to))) next[to] = output[from];
  }
  return next;
}
