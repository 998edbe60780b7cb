/**
 * One assertion for the errors the pure modules throw: the catalogue class, the HTTP status it maps to through
 * ERROR_STATUS, and the words its message must contain (the field or tensor it names, what was expected).
 */
import assert from 'node:assert/strict';
import { ERROR_STATUS, LongshoreError } from '../../src/errors.ts';

/** Runs `fn`, asserts it throws an instance of `Class` with `status` and every fragment in its message; returns it. */
export function expectError<E extends LongshoreError>(fn: () => unknown, Class: abstract new (...args: never[]) => E, status: number, ...fragments: string[]): E {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, `expected ${Class.name} to be thrown, nothing was`);
  assert.ok(thrown instanceof Class, `expected ${Class.name}, got ${String(thrown)}`);
  const error = thrown as E;
  assert.equal(ERROR_STATUS[error.type], status, `${error.type} maps to ${ERROR_STATUS[error.type]}, expected ${status}`);
  assert.equal(error.status, status);
  for (const fragment of fragments) assert.ok(error.message.includes(fragment), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`);
  return error;
}

