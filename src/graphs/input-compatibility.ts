/**
 * Whether every member of an ensemble or router takes the graph's input (issue 14): the graph's input schema is its
 * first member's, so a member that needs other fields would refuse every request with a 400 that blames the client.
 * Checked once, at the graph's load, when every member's schemas are known (an ONNX member's only after its session
 * exists), so `longshore validate` reports it and `serve` marks the graph failed instead of answering 400s.
 *
 * Only the structure is compared: types, object fields and which are required, array items and lengths. Constraints on
 * values (`minimum`, `enum`, `pattern`, ...) are each member's own business, and a schema this check does not read
 * (`$ref`, `anyOf`, tuple `items`) is taken as compatible, so the check never fails a graph that could work.
 */
import { isRecord, type SchemaRecord } from '../model/validation.js';

/** Most differences listed in one message. */
const MAX_DIFFERENCES = 5;

/** A member as this check sees it: its name and its input schema. */
export interface MemberInput {
  readonly name: string;
  readonly schema: SchemaRecord;
}

/**
 * One line per difference between the first member's input and each other member's, each naming both members and the
 * field (at most five); empty when every member takes what the first takes.
 */
export function inputDifferences(members: readonly MemberInput[]): string[] {
  const [first, ...others] = members;
  if (first === undefined) return [];
  const found: string[] = [];
  for (const other of others) {
    if (other.name === first.name) continue;
    compare(first.schema, other.schema, '', { first: first.name, other: other.name }, found);
    if (found.length >= MAX_DIFFERENCES) break;
  }
  return found.slice(0, MAX_DIFFERENCES);
}

interface Names {
  readonly first: string;
  readonly other: string;
}

/** Adds to `found` why `other` may refuse a value `first` accepts at `where` (a field path such as `input[]`). */
function compare(first: SchemaRecord, other: SchemaRecord, where: string, names: Names, found: string[]): void {
  const what = where === '' ? 'the input' : `field '${where}'`;
  const firstTypes = typesOf(first);
  const otherTypes = typesOf(other);
  if (firstTypes !== undefined && otherTypes !== undefined) {
    const refused = firstTypes.filter((type) => !otherTypes.includes(type) && !(type === 'integer' && otherTypes.includes('number')));
    if (refused.length > 0) {
      found.push(`${what} is ${firstTypes.join(' or ')} for member '${names.first}' but ${otherTypes.join(' or ')} for member '${names.other}'`);
      return;
    }
  }
  if (isObject(first, firstTypes) && isObject(other, otherTypes)) compareObjects(first, other, where, names, found);
  if (isArray(first, firstTypes) && isArray(other, otherTypes)) compareArrays(first, other, where, what, names, found);
}

function compareObjects(first: SchemaRecord, other: SchemaRecord, where: string, names: Names, found: string[]): void {
  const firstFields = isRecord(first.properties) ? first.properties : {};
  const otherFields = isRecord(other.properties) ? other.properties : {};
  const firstRequired = requiredOf(first);
  const field = (name: string) => (where === '' ? name : `${where}.${name}`);
  for (const name of requiredOf(other)) {
    if (firstRequired.has(name)) continue;
    const how = Object.hasOwn(firstFields, name) ? 'leaves optional' : 'does not take';
    found.push(`member '${names.other}' requires field '${field(name)}', which member '${names.first}' ${how}`);
  }
  for (const [name, schema] of Object.entries(firstFields)) {
    const otherSchema = otherFields[name];
    if (otherSchema === undefined) {
      if (other.additionalProperties === false) found.push(`member '${names.other}' does not take field '${field(name)}', which member '${names.first}' takes`);
    } else if (isRecord(schema) && isRecord(otherSchema)) {
      compare(schema, otherSchema, field(name), names, found);
    }
  }
}

function compareArrays(first: SchemaRecord, other: SchemaRecord, where: string, what: string, names: Names, found: string[]): void {
  const firstLength = lengthOf(first);
  const otherLength = lengthOf(other);
  if (firstLength.min < otherLength.min || firstLength.max > otherLength.max) {
    found.push(`${what} takes ${lengthText(firstLength)} for member '${names.first}' but ${lengthText(otherLength)} for member '${names.other}'`);
    return;
  }
  if (isRecord(first.items) && isRecord(other.items)) compare(first.items, other.items, `${where}[]`, names, found);
}

/** The schema's `type` as a list, or undefined when it states none. */
function typesOf(schema: SchemaRecord): string[] | undefined {
  const { type } = schema;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type) && type.every((item) => typeof item === 'string')) return type as string[];
  return undefined;
}

function isObject(schema: SchemaRecord, types: string[] | undefined): boolean {
  return types === undefined ? isRecord(schema.properties) : types.length === 1 && types[0] === 'object';
}

function isArray(schema: SchemaRecord, types: string[] | undefined): boolean {
  return types === undefined ? schema.items !== undefined : types.length === 1 && types[0] === 'array';
}

function requiredOf(schema: SchemaRecord): Set<string> {
  return new Set(Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === 'string') : []);
}

interface Length {
  readonly min: number;
  readonly max: number;
}

function lengthOf(schema: SchemaRecord): Length {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY;
  return { min, max };
}

function lengthText({ min, max }: Length): string {
  if (min === max) return `exactly ${min} item${min === 1 ? '' : 's'}`;
  if (max === Number.POSITIVE_INFINITY) return min === 0 ? 'any number of items' : `at least ${min} items`;
  return min === 0 ? `at most ${max} items` : `${min} to ${max} items`;
}
