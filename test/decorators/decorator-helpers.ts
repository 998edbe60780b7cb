/**
 * Helpers for the decorator tests: fixture paths, a DecoratorSetup for constructing decorators directly, and a server
 * over YAML (test/runtimes/onnx-harness.ts) whose models are the fixtures of test/fixtures/decorators.
 */
import { resolve } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { DecoratorSetup } from '../../src/model/contract.ts';
import { parseExposition, valueOf } from '../metrics/exposition.ts';
import type { Harness } from '../runtimes/onnx-harness.ts';

export const DECORATOR_FIXTURES = resolve(import.meta.dirname, '../fixtures/decorators');

/** Absolute path of a decorator fixture, with `#Export` when given. */
export function fixturePath(file: string, exportName?: string): string {
  const path = resolve(DECORATOR_FIXTURES, file);
  return exportName === undefined ? path : `${path}#${exportName}`;
}

/** A setup for constructing a decorator outside a server; relative module paths resolve in the fixtures folder. */
export function testSetup(overrides: Partial<DecoratorSetup> = {}): DecoratorSetup {
  return {
    model: 'm',
    version: '1',
    configDir: DECORATOR_FIXTURES,
    metrics: new Registry(),
    modelLabels: true,
    logger: pino({ level: 'silent' }),
    ...overrides,
  };
}

/** POSTs one record to a model's /prediction route. */
export function predict(harness: Harness, model: string, body: unknown, headers: Record<string, string> = {}) {
  return harness.app.inject({ method: 'POST', url: `/api/models/${model}/prediction`, payload: body as object, headers });
}

/** The value of a sample of GET /metrics (exact labels), or undefined when the series is absent. */
export async function scrape(harness: Harness, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const response = await harness.app.inject({ method: 'GET', url: '/metrics' });
  return valueOf(parseExposition(response.body), name, labels);
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
