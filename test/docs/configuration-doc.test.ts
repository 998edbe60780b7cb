/**
 * Keeps docs/configuration.md in sync with the config schema: every key of ConfigSchema must be documented, under its
 * full path (`server.port`, `models[].class_path`), with the schema's default.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ConfigSchema, ONNX_ONLY_KEYS } from '../../src/config/schema.ts';

const DOC = resolve(import.meta.dirname, '../../docs/configuration.md');
const ONNX_DOC = resolve(import.meta.dirname, '../../docs/onnx.md');

interface SchemaNode {
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  /** A model entry: one schema per runtime, whose keys are documented together under `models[]`. */
  oneOf?: SchemaNode[];
  default?: unknown;
}

interface Key {
  path: string;
  schema: SchemaNode;
}

/**
 * Every property key of the schema, depth first, as a full path; array items add `[]` to the path. The branches of a
 * `oneOf` (a model entry's runtimes) are walked in turn, a key they share listed once.
 */
function keysOf(schema: SchemaNode, prefix = ''): Key[] {
  const keys: Key[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    keys.push({ path, schema: child }, ...keysOf(child, path));
    if (child.items) keys.push(...keysOf(child.items, `${path}[]`));
  }
  for (const branch of schema.oneOf ?? []) keys.push(...keysOf(branch, prefix));
  return keys.filter((key, index) => keys.findIndex((other) => other.path === key.path) === index);
}

/** How a default is written in the table: strings bare (`""` when empty), everything else as JSON. */
function formatDefault(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '""' : value;
  return JSON.stringify(value);
}

/** The key table: key path → default cell, from rows like `| \`server.port\` | integer | \`8000\` | ... |`. */
function documentedDefaults(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const match = /^\|\s*`([^`]+)`\s*\|[^|]*\|([^|]*)\|/.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) rows.set(match[1], match[2].trim());
  }
  return rows;
}

const keys = keysOf(ConfigSchema as unknown as SchemaNode);

test('the schema walk finds the keys it should', () => {
  const paths = keys.map((key) => key.path);
  for (const expected of ['service_title', 'server.port', 'logging.level', 'health.ready_without_models', 'models[].class_path']) {
    assert.ok(paths.includes(expected), `walk misses ${expected}`);
  }
});

test('docs/configuration.md documents every key of the config schema', () => {
  const doc = readFileSync(DOC, 'utf8');
  const missing = keys.map((key) => key.path).filter((path) => !doc.includes(`\`${path}\``));
  assert.deepEqual(missing, [], `keys missing from docs/configuration.md (write each as \`key.path\`): ${missing.join(', ')}`);
});

test('docs/configuration.md gives every key its row in the key table, with the default of the schema', () => {
  const rows = documentedDefaults(readFileSync(DOC, 'utf8'));
  for (const { path, schema } of keys) {
    const cell = rows.get(path);
    assert.ok(cell !== undefined, `docs/configuration.md has no table row for \`${path}\``);
    if (schema.default !== undefined) {
      assert.ok(cell.includes(`\`${formatDefault(schema.default)}\``), `default of ${path}: expected \`${formatDefault(schema.default)}\` in "${cell}"`);
    }
  }
});

test('docs/onnx.md mentions every session setting of ONNX models', () => {
  const doc = readFileSync(ONNX_DOC, 'utf8');
  const missing = ONNX_ONLY_KEYS.filter((key) => !new RegExp(`\\b${key}\\b`).test(doc));
  assert.deepEqual(missing, [], `keys missing from docs/onnx.md: ${missing.join(', ')}`);
});
