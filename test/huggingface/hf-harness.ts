/**
 * The Hugging Face fixtures (test/fixtures/hf: three tiny self-made BERT models and the outputs Python transformers'
 * pipelines give for them) and comparisons at the tolerances their README suggests: labels, words and offsets exact,
 * scores and vectors within 1e-4.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const HF_DIR = resolve(import.meta.dirname, '../fixtures/hf');
export const SENTIMENT = join(HF_DIR, 'tiny-bert-sentiment');
export const EMBEDDINGS = join(HF_DIR, 'tiny-bert-embeddings');
export const NER = join(HF_DIR, 'tiny-bert-ner');

export interface ReferenceCase {
  name: string;
  text: string;
  tokens: string[];
  input_ids: number[];
  num_tokens: number;
  output?: { label: string; score: number }[];
  output_top_k_none?: { label: string; score: number }[];
  embedding?: number[];
  entities?: Record<string, unknown>[];
  tokens_aggregation_none?: Record<string, unknown>[];
}

export interface Reference {
  cases: ReferenceCase[];
  batch: { texts: string[]; output?: { label: string; score: number }[]; embeddings?: number[][]; entities?: Record<string, unknown>[][] };
  over_max_length: { text: string; output?: { label: string; score: number }[]; embedding?: number[]; input_ids_truncated?: number[]; num_tokens_truncated: number };
}

export function reference(model: 'tiny-bert-sentiment' | 'tiny-bert-embeddings' | 'tiny-bert-ner'): Reference {
  return JSON.parse(readFileSync(join(HF_DIR, `${model}.reference.json`), 'utf8')) as Reference;
}

export const TOLERANCE = 1e-4;

/** `actual` equals `expected` with every number within 1e-4 and everything else exactly. */
export function assertMatches(actual: unknown, expected: unknown, where: string): void {
  const mismatch = firstMismatch(actual, expected, '');
  assert.equal(mismatch, undefined, `${where}: ${mismatch}\n  got      ${JSON.stringify(actual)}\n  expected ${JSON.stringify(expected)}`);
}

function firstMismatch(actual: unknown, expected: unknown, path: string): string | undefined {
  if (typeof expected === 'number') {
    if (typeof actual !== 'number') return `${path || '/'} is ${JSON.stringify(actual)}, expected a number`;
    // Offsets and indices are integers: exact. Floats: within the tolerance.
    if (Number.isInteger(expected) && Number.isInteger(actual)) return actual === expected ? undefined : `${path} is ${actual}, expected ${expected}`;
    return Math.abs(actual - expected) <= TOLERANCE ? undefined : `${path} is ${actual}, expected ${expected} (±${TOLERANCE})`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path || '/'} has ${Array.isArray(actual) ? actual.length : 'no'} items, expected ${expected.length}`;
    for (let index = 0; index < expected.length; index++) {
      const found = firstMismatch(actual[index], expected[index], `${path}/${index}`);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return `${path || '/'} is ${JSON.stringify(actual)}, expected an object`;
    const keys = Object.keys(expected).sort();
    const got = Object.keys(actual).sort();
    if (JSON.stringify(keys) !== JSON.stringify(got)) return `${path || '/'} has keys ${got.join(',')}, expected ${keys.join(',')}`;
    for (const key of keys) {
      const found = firstMismatch((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}/${key}`);
      if (found) return found;
    }
    return undefined;
  }
  return actual === expected ? undefined : `${path || '/'} is ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`;
}
