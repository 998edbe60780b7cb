/**
 * Records ⇄ tensors for record (code) models: one tensor per top-level field of the record schema, a column over the
 * batch (`[N]` for scalars, `[N, …]` for fixed-size arrays; strings as BYTES; anything else, and optional fields, as
 * BYTES holding JSON). This is MLServer's "pandas" codec made explicit by the schema, so a TypeScript model is callable
 * through the Open Inference Protocol with no extra code.
 */
import { InferenceError, quote, SchemaValidationError } from '../errors.js';
import type { JsonSchema } from '../model/contract.js';
import { elementCount, jsonSafe, readInstance, writeInstance } from './codec.js';
import { datatypeInfo, type Datatype, type DatatypeInfo } from './datatypes.js';
import { formatShape, type Tensor, type TensorSpec } from './tensor.js';

/** How one record field maps to a column. */
export interface ColumnSpec extends TensorSpec {
  /** `json`: each element is the field's value as JSON text in a BYTES tensor. */
  readonly kind: 'typed' | 'json';
  /** Shape of one record's value (`[]` for a scalar). */
  readonly instanceShape: readonly number[];
  /**
   * A float column whose schema also allows `null` (`type: ["number", "null"]`, as ONNX outputs declare): a null
   * element travels as NaN in the tensor, and a NaN or ±Infinity in a request tensor becomes null in the record.
   */
  readonly nullable?: boolean;
}

const SCALARS: Record<string, Datatype> = { number: 'FP64', integer: 'INT64', boolean: 'BOOL', string: 'BYTES' };

/** The columns of a record schema; an empty list when the schema is not an object with properties. */
export function columnsOf(schema: JsonSchema | undefined): ColumnSpec[] {
  const properties = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema?.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([name, field]) => {
    const typed = required.has(name) ? typedColumn(field) : undefined;
    if (typed) {
      const column: ColumnSpec = { name, kind: 'typed', datatype: typed.datatype, instanceShape: typed.instanceShape, shape: [-1, ...typed.instanceShape] };
      return typed.nullable ? { ...column, nullable: true } : column;
    }
    return { name, kind: 'json', datatype: 'BYTES', instanceShape: [], shape: [-1], optional: !required.has(name) };
  });
}

/** A scalar type, or nested arrays of fixed size ending in one; undefined when the field needs JSON. */
function typedColumn(field: JsonSchema): { datatype: Datatype; instanceShape: number[]; nullable: boolean } | undefined {
  const instanceShape: number[] = [];
  let node = field;
  while (node.type === 'array') {
    const size = node.minItems;
    if (typeof size !== 'number' || node.maxItems !== size || typeof node.items !== 'object' || node.items === null) return undefined;
    instanceShape.push(size);
    node = node.items as JsonSchema;
  }
  if (isNullableNumber(node)) return { datatype: 'FP64', instanceShape, nullable: true };
  const scalar = scalarType(node);
  return scalar ? { datatype: scalar, instanceShape, nullable: false } : undefined;
}

/** `type: ["number", "null"]` (either order): a float whose NaN/±Infinity is written as null. */
function isNullableNumber(node: JsonSchema): boolean {
  const type = node.type;
  return Array.isArray(type) && type.length === 2 && type.includes('number') && type.includes('null');
}

function scalarType(node: JsonSchema): Datatype | undefined {
  if (typeof node.type === 'string' && SCALARS[node.type]) return SCALARS[node.type];
  // A union of string literals (TypeBox's Union of Literal) is a string.
  const options = (node.anyOf ?? node.enum) as unknown[] | undefined;
  if (Array.isArray(options) && options.length > 0) {
    const values = options.map((option) => (typeof option === 'object' && option !== null ? (option as { const?: unknown }).const : option));
    if (values.every((value) => typeof value === 'string')) return 'BYTES';
  }
  return undefined;
}

/** Turns request tensors (already checked against the columns) into one record per row. */
export function columnsToRecords(columns: readonly ColumnSpec[], tensors: ReadonlyMap<string, Tensor>): Record<string, unknown>[] {
  const present = columns.filter((column) => tensors.has(column.name));
  const rows = present.length === 0 ? 0 : ((tensors.get(present[0]?.name as string) as Tensor).shape[0] ?? 0);
  for (const column of present) {
    const tensor = tensors.get(column.name) as Tensor;
    if (tensor.shape[0] !== rows) {
      throw new SchemaValidationError(`input '${column.name}' has ${tensor.shape[0]} rows but '${present[0]?.name}' has ${rows}; every column needs one row per record`);
    }
  }
  const records = Array.from({ length: rows }, () => ({}) as Record<string, unknown>);
  for (const column of present) {
    const tensor = tensors.get(column.name) as Tensor;
    const info = datatypeInfo(tensor.datatype) as DatatypeInfo;
    const instanceShape = tensor.shape.slice(1);
    const perRow = elementCount(instanceShape);
    const reader = column.nullable ? jsonSafe(info) : info;
    records.forEach((record, row) => {
      const value = readInstance(tensor.data, row * perRow, instanceShape, reader);
      record[column.name] = column.kind === 'json' ? parseJsonCell(value, column.name, row) : value;
    });
  }
  return records;
}

function parseJsonCell(value: unknown, name: string, row: number): unknown {
  try {
    return JSON.parse(value as string);
  } catch {
    throw new SchemaValidationError(`input '${name}', row ${row}: a BYTES column of this model holds JSON text, got ${quote(value)}`);
  }
}

/** Turns a model's output records into one tensor per requested column. */
export function recordsToColumns(columns: readonly ColumnSpec[], records: readonly Record<string, unknown>[]): Tensor[] {
  return columns.map((column) => {
    const info = datatypeInfo(column.datatype) as DatatypeInfo;
    const perRow = elementCount(column.instanceShape);
    const data = info.allocate(perRow * records.length);
    let offset = 0;
    records.forEach((record, row) => {
      const value = record[column.name];
      if (column.kind === 'json') {
        (data as string[])[offset++] = JSON.stringify(value ?? null);
        return;
      }
      try {
        offset = writeInstance(toElements(value, info, column.nullable === true), column.instanceShape, info, data, offset, column.name, `/${row}`);
      } catch (error) {
        throw new InferenceError(`output field '${column.name}' of record ${row} does not fit ${column.datatype} ${formatShape(column.shape)}: ${(error as Error).message}`);
      }
    });
    return { name: column.name, datatype: column.datatype, shape: [records.length, ...column.instanceShape], data };
  });
}

/**
 * 64-bit outputs may come back as decimal strings (beyond 2^53); give writeInstance numbers it can BigInt. A nullable
 * float column's nulls become NaN (V2 JSON writes them as null again; binary carries NaN).
 */
function toElements(value: unknown, info: DatatypeInfo, nullable: boolean): unknown {
  if (nullable) return nullToNaN(value);
  if (info.datatype !== 'INT64' && info.datatype !== 'UINT64') return value;
  return decimalToBigInt(value);
}

function nullToNaN(item: unknown): unknown {
  return Array.isArray(item) ? item.map(nullToNaN) : item === null ? Number.NaN : item;
}

function decimalToBigInt(item: unknown): unknown {
  return Array.isArray(item) ? item.map(decimalToBigInt) : typeof item === 'string' ? BigInt(item) : item;
}
