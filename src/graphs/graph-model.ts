/**
 * What every graph kind shares: metadata from the entry, loading (every member loads first; a member that is not
 * ready fails the graph), schemas derived from the members' after load, member calls that keep the caller's deadline,
 * cancellation, request id and headers, and errors that name the graph and the member.
 */
import type { GraphModelEntry } from '../config/schema.js';
import { InferenceError, LongshoreError, type ErrorDetail } from '../errors.js';
import type { CallContext, Model } from '../model/contract.js';
import type { SchemaRecord } from '../model/validation.js';
import { inputDifferences } from './input-compatibility.js';
import type { GraphKind, GraphMember } from './members.js';
import { ATTR } from '../tracing/span.js';

/** The constructor every catalogue class shares (LongshoreError's). */
type CatalogueClass = new (message: string, options?: { details?: ErrorDetail[]; retryAfterSeconds?: number; cause?: unknown }) => LongshoreError;

export interface GraphSchemas {
  readonly input: SchemaRecord;
  readonly output: SchemaRecord;
}

export abstract class GraphModel implements Model {
  readonly qualified_name: string;
  readonly display_name: string;
  readonly description: string;
  readonly version: string;
  readonly kind: GraphKind;
  protected readonly members: readonly GraphMember[];
  #schemas: GraphSchemas | undefined;

  protected constructor(entry: GraphModelEntry, kind: GraphKind, members: readonly GraphMember[], summary: string) {
    this.qualified_name = entry.qualified_name;
    this.display_name = entry.display_name ?? this.qualified_name;
    this.description = entry.description ?? summary;
    this.version = entry.version ?? '1';
    this.kind = kind;
    this.members = members;
  }

  /** Undefined until load(): the members' schemas are known only once they have loaded (ServedModel accepts that). */
  get input_schema(): SchemaRecord {
    return this.#schemas?.input as SchemaRecord;
  }

  get output_schema(): SchemaRecord {
    return this.#schemas?.output as SchemaRecord;
  }

  /** Waits for every member's load (shared with the registry's), then derives the graph's schemas from theirs. */
  async load(): Promise<void> {
    await Promise.all(this.members.map((member) => member.served.load()));
    for (const { name, served } of this.members) {
      if (served.state !== 'ready') throw new Error(`member '${name}' is ${served.state}${served.error === undefined ? '' : `: ${served.error}`}`);
    }
    this.#schemas = this.deriveSchemas();
    this.loaded();
  }

  /** The graph's schemas from its members' (all ready). */
  protected abstract deriveSchemas(): GraphSchemas;

  /**
   * For the kinds that hand every member the request as it is (ensemble, router): fails the load, naming the members
   * and the field, when a member would refuse input the graph accepts (the first member's), instead of answering a
   * 400 that blames the client for every request (issue 14). See input-compatibility.ts for what is compared.
   */
  protected requireSameInputs(): void {
    const differences = inputDifferences(this.members.map((member) => ({ name: member.name, schema: schemaOf(member, 'input') })));
    if (differences.length === 0) return;
    const why = this.kind === 'router' ? 'a router may send any request to any member' : 'every member of an ensemble gets the same request';
    throw new Error(
      `${this.kind} '${this.qualified_name}': its members take different inputs: ${differences.join('; ')}. ` +
        `The ${this.kind} takes the input of its first member, '${(this.members[0] as GraphMember).name}', and ${why}: ` +
        'give every member the same input fields',
    );
  }

  /** Work that needs the members' schemas, done once after load (e.g. the fields each pipeline stage keeps). */
  protected loaded(): void {}

  abstract predict(input: unknown, context?: CallContext): Promise<unknown>;

  /** Calls a member through its served model (validation, queue, deadline, metrics), naming it in any failure. */
  protected async call(member: GraphMember, input: unknown, context: CallContext | undefined): Promise<unknown> {
    // With tracing on, the member's call is a span of its own, where the member's model and queue are traced.
    const span = context?.span?.child(`graph.member ${member.name}`, { [ATTR.graphMember]: member.name });
    try {
      const memberContext = context === undefined ? {} : { timeoutMs: context.timeoutMs, signal: context.signal, requestId: context.requestId, headers: context.headers, span };
      return await member.served.use((calls) => calls.predict(input, memberContext));
    } catch (error) {
      span?.fail(error);
      throw this.memberFailed(member, error);
    } finally {
      span?.end();
    }
  }

  /** The member's error with the graph and member named in front; a catalogue error keeps its class, status and details. */
  protected memberFailed(member: GraphMember, error: unknown): LongshoreError {
    const reason = error instanceof Error ? error.message : String(error);
    const message = `${this.kind} '${this.qualified_name}': member '${member.name}' failed: ${reason}`;
    if (error instanceof LongshoreError) {
      const Class = error.constructor as CatalogueClass;
      return new Class(message, { details: error.details, retryAfterSeconds: error.retryAfterSeconds, cause: error });
    }
    return new InferenceError(message, { cause: error });
  }

  /** A failure of the graph's own logic (e.g. a member answered without the field a vote needs). */
  protected fail(message: string): InferenceError {
    return new InferenceError(`${this.kind} '${this.qualified_name}': ${message}`);
  }
}

/** The member's schema after its load; a ready member always has both. */
export function schemaOf(member: GraphMember, which: 'input' | 'output'): SchemaRecord {
  const schema = which === 'input' ? member.served.inputSchema : member.served.outputSchema;
  if (schema === undefined) throw new Error(`member '${member.name}' has no ${which} schema`);
  return schema;
}

/** Member names in order, each once. */
export function uniqueNames(members: readonly GraphMember[]): string[] {
  return [...new Set(members.map((member) => member.name))];
}
