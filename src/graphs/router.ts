/**
 * A router: each request goes to one member, picked by a request header when the graph names one and the request
 * carries it, else at random in proportion to the members' weights. The answer says which member gave it (`routed_to`).
 */
import type { GraphModelEntry } from '../config/schema.js';
import { EntryProblem, quote, SchemaValidationError } from '../errors.js';
import type { CallContext } from '../model/contract.js';
import { isRecord } from '../model/validation.js';
import { GraphModel, schemaOf, uniqueNames, type GraphSchemas } from './graph-model.js';
import { withRequiredProperty } from '../model/schema-edit.js';
import type { GraphMember } from './members.js';

/** The field a router adds to every answer. */
export const ROUTED_TO = 'routed_to';

export class RouterModel extends GraphModel {
  /** The routing header, lower case (as request headers arrive); undefined when the graph routes by weight only. */
  readonly #header: string | undefined;
  /** Header value → member. */
  readonly #byValue = new Map<string, GraphMember>();
  /** Running sums of the weights, for the weighted pick. */
  readonly #cumulative: readonly number[];
  readonly #total: number;

  constructor(entry: GraphModelEntry, members: readonly GraphMember[]) {
    const graph = entry.graph;
    const how = graph.header === undefined ? 'by weight' : `by header ${graph.header}, else by weight`;
    super(entry, 'router', members, `Router over ${uniqueNames(members).join(', ')} (${how})`);
    this.#header = graph.header?.toLowerCase();
    members.forEach((member, index) => {
      if (this.#header === undefined) {
        if (member.headerValue !== undefined) {
          throw new EntryProblem(['graph', 'members', index, 'header_value'], 'header_value needs graph.header, the header whose value it matches');
        }
        return;
      }
      const value = member.headerValue ?? member.name;
      const other = this.#byValue.get(value);
      if (other !== undefined) {
        throw new EntryProblem(
          ['graph', 'members', index],
          `header value '${value}' already picks member '${other.name}'; give each member a distinct header_value`,
        );
      }
      this.#byValue.set(value, member);
    });
    let sum = 0;
    this.#cumulative = members.map((member) => (sum += member.weight));
    this.#total = sum;
  }

  protected deriveSchemas(): GraphSchemas {
    this.requireSameInputs();
    const [first] = this.members as [GraphMember];
    return {
      input: schemaOf(first, 'input'),
      output: withRequiredProperty(schemaOf(first, 'output'), ROUTED_TO, {
        type: 'string',
        enum: uniqueNames(this.members),
        description: 'The member that answered.',
      }),
    };
  }

  async predict(input: unknown, context?: CallContext): Promise<unknown> {
    const member = this.#pick(context);
    const output = await this.call(member, input, context);
    if (!isRecord(output)) throw this.fail(`member '${member.name}' answered ${Array.isArray(output) ? 'an array' : typeof output}, not an object`);
    return { ...output, [ROUTED_TO]: member.name };
  }

  #pick(context: CallContext | undefined): GraphMember {
    if (this.#header !== undefined) {
      const raw = context?.headers?.[this.#header];
      const value = Array.isArray(raw) ? raw[0] : raw;
      if (value !== undefined && value !== '') {
        const member = this.#byValue.get(value);
        if (member !== undefined) return member;
        const accepted = [...this.#byValue.keys()].join(', ');
        const message = `header ${this.#header} is ${quote(value)}, which picks no member; accepted values: ${accepted}`;
        throw new SchemaValidationError(`router '${this.qualified_name}': ${message}`, { details: [{ path: `headers/${this.#header}`, message }] });
      }
    }
    const target = Math.random() * this.#total;
    const cumulative = this.#cumulative;
    for (let index = 0; index < cumulative.length; index++) if (target < (cumulative[index] as number)) return this.members[index] as GraphMember;
    return this.members[this.members.length - 1] as GraphMember; // target === total: floating-point edge
  }
}
