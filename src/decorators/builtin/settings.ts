/**
 * Reading a built-in decorator's `configuration`. Each problem is an EntryProblem at the exact key
 * (`['configuration', 'max_entries']`), so create.ts reports it as `file:LINE models[i].decorators[j].configuration.max_entries: …`
 * on the line of that key. The message names the key too (`max_entries must be …`), for anyone constructing the class
 * directly, without repeating the path.
 */
import type { SchemaRecord } from '../../model/validation.js';
import { EntryProblem } from '../../errors.js';

export type Configuration = Readonly<Record<string, unknown>>;

function problem(key: string, message: string): EntryProblem {
  return new EntryProblem(['configuration', key], `${key} ${message}`);
}

/** A misspelt key would otherwise be ignored silently, so unknown keys are refused. */
export function onlyKeys(configuration: Configuration, decorator: string, allowed: readonly string[]): void {
  for (const key of Object.keys(configuration)) {
    if (!allowed.includes(key)) throw problem(key, `is not a setting of ${decorator}; its settings are: ${allowed.join(', ')}`);
  }
}

function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

export function integerSetting(configuration: Configuration, key: string, minimum: number, fallback: number): number {
  const value = configuration[key] ?? fallback;
  if (!Number.isSafeInteger(value) || (value as number) < minimum) throw problem(key, `must be an integer ≥ ${minimum}, got ${shown(value)}`);
  return value as number;
}

export function stringSetting(configuration: Configuration, key: string): string {
  const value = configuration[key];
  if (typeof value !== 'string' || value === '') throw problem(key, `must be a non-empty string, got ${shown(value)}`);
  return value;
}

export function optionalStringSetting(configuration: Configuration, key: string): string | undefined {
  return configuration[key] === undefined ? undefined : stringSetting(configuration, key);
}

export function stringListSetting(configuration: Configuration, key: string): string[] {
  const value = configuration[key];
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string' && item !== '')) {
    throw problem(key, `must be a list of at least one export name, got ${shown(value)}`);
  }
  return value as string[];
}

/** A schema setting: the name of an export of the module (a string), or an inline JSON Schema (a mapping). */
export function schemaSetting(configuration: Configuration, key: string): string | SchemaRecord | undefined {
  const value = configuration[key];
  if (value === undefined || (typeof value === 'string' && value !== '') || isPlainObject(value)) return value as string | SchemaRecord | undefined;
  throw problem(key, `must be the name of an export of the module or an inline JSON Schema (a mapping), got ${shown(value)}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}
