/**
 * An ensemble: every member answers the same input, in parallel, and the answers are combined: a weighted majority
 * vote on the label, a weighted mean of the numeric fields (regression), or a weighted mean of class probabilities.
 */
import type { GraphModelEntry } from '../config/schema.js';
import { EntryProblem } from '../errors.js';
import type { CallContext } from '../model/contract.js';
import { isRecord, type SchemaRecord } from '../model/validation.js';
import { GraphModel, schemaOf, uniqueNames, type GraphSchemas } from './graph-model.js';
import { withRequiredProperty } from '../model/schema-edit.js';
import type { GraphMember } from './members.js';

type Combine = 'majority' | 'mean' | 'mean_probability';

const COMBINE_TEXT: Record<Combine, string> = {
  majority: 'majority vote',
  mean: 'mean of numeric fields',
  mean_probability: 'mean of probabilities',
};

/** Graph keys each way of combining reads (beside combine itself). */
const COMBINE_KEYS: Record<Combine, readonly string[]> = {
  majority: ['label_field'],
  mean: [],
  mean_probability: ['label_field', 'probabilities_field', 'labels'],
};

export class EnsembleModel extends GraphModel {
  readonly #combine: Combine;
  readonly #labelField: string;
  readonly #probabilitiesField: string;
  readonly #labels: readonly (string | number)[] | undefined;
  readonly #weights: readonly number[];
  readonly #totalWeight: number;

  constructor(entry: GraphModelEntry, members: readonly GraphMember[]) {
    const graph = entry.graph;
    const combine = graph.combine ?? 'majority';
    super(entry, 'ensemble', members, `Ensemble of ${uniqueNames(members).join(', ')} (${COMBINE_TEXT[combine]})`);
    for (const key of ['label_field', 'probabilities_field', 'labels'] as const) {
      if (graph[key] !== undefined && !COMBINE_KEYS[combine].includes(key)) {
        throw new EntryProblem(['graph', key], `graph.${key} does not apply to combine: ${combine}`);
      }
    }
    this.#combine = combine;
    this.#labelField = graph.label_field ?? 'label';
    this.#probabilitiesField = graph.probabilities_field ?? 'probabilities';
    this.#labels = graph.labels;
    this.#weights = members.map((member) => member.weight);
    this.#totalWeight = this.#weights.reduce((sum, weight) => sum + weight, 0);
  }

  protected deriveSchemas(): GraphSchemas {
    this.requireSameInputs();
    const [first] = this.members as [GraphMember];
    const input = schemaOf(first, 'input');
    const output = schemaOf(first, 'output');
    if (this.#combine !== 'mean_probability') return { input, output };
    // The label is computed here: one of `labels`, or the index of the most probable class.
    const label: SchemaRecord = this.#labels
      ? { enum: [...this.#labels, null], description: 'The class with the highest mean probability (null when no mean is finite).' }
      : { type: ['integer', 'null'], minimum: 0, description: 'The index of the class with the highest mean probability (null when no mean is finite).' };
    return { input, output: withRequiredProperty(output, this.#labelField, label) };
  }

  async predict(input: unknown, context?: CallContext): Promise<unknown> {
    const outputs = await Promise.all(this.members.map((member) => this.call(member, input, context)));
    switch (this.#combine) {
      case 'majority':
        return this.#vote(outputs);
      case 'mean':
        return this.#mean(outputs);
      case 'mean_probability':
        return this.#meanProbability(outputs);
    }
  }

  /** Weighted vote on the label; a tie goes to the tied label voted first. The first voter's record answers. */
  #vote(outputs: unknown[]): unknown {
    const tally = new Map<string, { weight: number; voter: number }>();
    outputs.forEach((output, index) => {
      const key = JSON.stringify(this.#field(output, index, this.#labelField));
      const entry = tally.get(key);
      if (entry) entry.weight += this.#weights[index] as number;
      else tally.set(key, { weight: this.#weights[index] as number, voter: index });
    });
    let best: { weight: number; voter: number } | undefined;
    for (const entry of tally.values()) if (best === undefined || entry.weight > best.weight) best = entry; // Map order: first voted wins ties
    return outputs[(best as { voter: number }).voter];
  }

  /** Weighted mean of each field that is a number (or numeric array) in every answer; the rest from the first answer. */
  #mean(outputs: unknown[]): unknown {
    const records = outputs.map((output, index) => this.#record(output, index));
    const first = records[0] as Record<string, unknown>;
    const answer: Record<string, unknown> = { ...first };
    for (const [field, value] of Object.entries(first)) {
      if (!isNumeric(value)) continue;
      const values = records.map((record) => record[field]);
      if (!values.every(isNumeric)) continue;
      values.forEach((other, index) => {
        if (!sameShape(value, other)) {
          throw this.fail(`member '${this.#name(index)}' answered field '${field}' in another shape than member '${this.#name(0)}'`);
        }
      });
      answer[field] = this.#weightedMean(values as Numeric[]);
    }
    return answer;
  }

  /** Weighted mean of the probability arrays; the label is the most probable class. */
  #meanProbability(outputs: unknown[]): unknown {
    const field = this.#probabilitiesField;
    const arrays = outputs.map((output, index) => {
      const value = this.#field(output, index, field);
      // null is a non-finite probability (JSON has no NaN; docs/onnx.md): it makes that class's mean null.
      if (!Array.isArray(value) || !value.every((p) => typeof p === 'number' || p === null)) {
        throw this.fail(`member '${this.#name(index)}' answered field '${field}' that is not an array of numbers`);
      }
      return value as (number | null)[];
    });
    const classes = (arrays[0] as (number | null)[]).length;
    if (classes === 0) throw this.fail(`member '${this.#name(0)}' answered no probabilities in '${field}'`);
    arrays.forEach((array, index) => {
      if (array.length !== classes) {
        throw this.fail(`member '${this.#name(index)}' answered ${array.length} probabilities in '${field}', member '${this.#name(0)}' ${classes}`);
      }
    });
    if (this.#labels !== undefined && this.#labels.length !== classes) {
      throw this.fail(`graph.labels names ${this.#labels.length} classes, but the members answered ${classes} probabilities`);
    }
    const mean = this.#weightedMean(arrays) as (number | null)[];
    // The most probable class among those with a finite mean; null when none has one (a member answered non-finite).
    let best: number | undefined;
    mean.forEach((value, index) => {
      if (value !== null && (best === undefined || value > (mean[best] as number))) best = index;
    });
    const label = best === undefined ? null : this.#labels === undefined ? best : this.#labels[best];
    return { ...(outputs[0] as Record<string, unknown>), [this.#labelField]: label, [field]: mean };
  }

  #weightedMean(values: readonly Numeric[]): Numeric {
    const first = values[0] as Numeric;
    if (isScalar(first)) {
      let sum = 0;
      for (const [index, value] of values.entries()) {
        if (value === null) return null;
        sum += (value as number) * (this.#weights[index] as number);
      }
      return sum / this.#totalWeight;
    }
    return first.map((_, position) => this.#weightedMean(values.map((value) => (value as Numeric[])[position] as Numeric)));
  }

  #record(output: unknown, index: number): Record<string, unknown> {
    if (!isRecord(output)) throw this.fail(`member '${this.#name(index)}' answered ${Array.isArray(output) ? 'an array' : typeof output}, not an object`);
    return output;
  }

  #field(output: unknown, index: number, field: string): unknown {
    const value = this.#record(output, index)[field];
    if (value === undefined) throw this.fail(`member '${this.#name(index)}' answered no field '${field}'`);
    return value;
  }

  #name(index: number): string {
    return (this.members[index] as GraphMember).name;
  }
}

/** A number or a (nested) array of numbers; null stands for a non-finite number, and any null makes the mean null. */
type Numeric = number | null | Numeric[];

function isScalar(value: Numeric): value is number | null {
  return value === null || typeof value === 'number';
}

function isNumeric(value: unknown): value is Numeric {
  return typeof value === 'number' || value === null || (Array.isArray(value) && value.every(isNumeric));
}

function sameShape(a: Numeric, b: Numeric): boolean {
  if (isScalar(a) || isScalar(b)) return isScalar(a) && isScalar(b);
  return a.length === b.length && a.every((item, index) => sameShape(item, b[index] as Numeric));
}
