/**
 * Code models for the refusal-on-arrival tests: predict() waits until the test opens the gate, so a test fills a
 * model's queue exactly (one call running, the next ones queued) and keeps it full for as long as it needs.
 * GatedModel has no explain(); GatedExplainerModel has one.
 */
import type { Model } from '../../src/model/contract.ts';

type Value = { value: number };

export class GatedModel implements Model<Value, Value> {
  qualified_name = 'gated';
  display_name = 'Gated';
  description = 'Adds one to value once the gate is open.';
  version = '1';
  input_schema = { type: 'object', properties: { value: { type: 'number' } }, required: ['value'], additionalProperties: false };
  output_schema = { type: 'object', properties: { value: { type: 'number' } }, required: ['value'], additionalProperties: false };
  /** The values of the calls that reached predict(), in order. */
  readonly seen: number[] = [];
  #open = false;
  #waiting: (() => void)[] = [];

  get calls(): number {
    return this.seen.length;
  }

  async predict(input: Value): Promise<Value> {
    this.seen.push(input.value);
    if (!this.#open) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    return { value: input.value + 1 };
  }

  /** Lets every waiting call and every later one through. */
  open(): void {
    this.#open = true;
    for (const resolve of this.#waiting.splice(0)) resolve();
  }
}

export class GatedExplainerModel extends GatedModel {
  explain(input: Value): { because: string } {
    return { because: `value ${input.value}` };
  }
}
