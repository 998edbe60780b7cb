/**
 * Keeps docs/errors.md in sync with the error catalogue: its table must list exactly the types of ERROR_STATUS, each
 * with the same HTTP status.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ERROR_STATUS } from '../../src/errors.ts';
import { errorTableRows } from './errors-table.ts';

const DOC = resolve(import.meta.dirname, '../../docs/errors.md');

/** The rows of the first table whose header starts with `| Type | Status |`, as type → status text. */
function documentedStatuses(markdown: string): Map<string, string> {
  const table = errorTableRows(markdown);
  assert.notEqual(table, undefined, 'docs/errors.md has no table with a "| Type | Status |" header');
  const rows = new Map<string, string>();
  for (const { line, cells } of table ?? []) {
    const [typeCell = '', statusCell = ''] = cells;
    const type = /^`(\w+)`$/.exec(typeCell)?.[1];
    assert.ok(type, `docs/errors.md: the first cell of this row is not a \`Type\`: ${line}`);
    assert.ok(!rows.has(type), `docs/errors.md lists ${type} twice`);
    rows.set(type, statusCell);
  }
  return rows;
}

test('docs/errors.md lists every error type of ERROR_STATUS and no other', () => {
  const documented = new Set(documentedStatuses(readFileSync(DOC, 'utf8')).keys());
  const catalogue = new Set(Object.keys(ERROR_STATUS));
  const undocumented = [...catalogue].filter((type) => !documented.has(type));
  const unknown = [...documented].filter((type) => !catalogue.has(type));
  assert.deepEqual(undocumented, [], `error types missing from the table in docs/errors.md: ${undocumented.join(', ')}`);
  assert.deepEqual(unknown, [], `docs/errors.md lists types that are not in ERROR_STATUS: ${unknown.join(', ')}`);
});

test('docs/errors.md gives each error type the status of ERROR_STATUS', () => {
  const documented = documentedStatuses(readFileSync(DOC, 'utf8'));
  for (const [type, status] of Object.entries(ERROR_STATUS)) {
    assert.equal(documented.get(type), String(status), `docs/errors.md: status of ${type}`);
  }
});
