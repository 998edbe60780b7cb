/**
 * Small edits of a model's JSON Schema for layers that add to its output (a decorator's prediction id, a router's
 * `routed_to`). The original schema is never changed: it may be another model's.
 */
import type { SchemaRecord } from './validation.js';

/** A copy of an object schema with one more property, required. */
export function withRequiredProperty(schema: SchemaRecord, name: string, property: SchemaRecord): SchemaRecord {
  const properties = typeof schema.properties === 'object' && schema.properties !== null ? (schema.properties as Record<string, unknown>) : {};
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]) : [];
  return {
    ...schema,
    properties: { ...properties, [name]: property },
    required: required.includes(name) ? required : [...required, name],
  };
}
