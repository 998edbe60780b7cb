/**
 * text-classification as transformers' TextClassificationPipeline answers it: the logits of one text through softmax
 * (single-label), sigmoid (multi-label or one label) or nothing, then the best label, or the `top_k` best.
 */
import type { CLASSIFICATION_FUNCTIONS } from '../../config/entry-schema.js';
import type { JsonSchema } from '../../model/contract.js';

export type ClassificationFunction = (typeof CLASSIFICATION_FUNCTIONS)[number];

export interface ClassificationSettings {
  /** config.json's id2label, by id. */
  readonly labels: readonly string[];
  readonly functionToApply: ClassificationFunction;
  /** 1: the best label alone; more (or 'all'): also the list of that many best, highest score first. */
  readonly topK: number | 'all';
}

export interface LabelScore {
  label: string;
  score: number;
}

/** transformers' default: sigmoid for multi-label models and single-output ones, softmax for single-label. */
export function defaultFunction(problemType: unknown, labels: number): ClassificationFunction {
  if (problemType === 'multi_label_classification' || labels === 1) return 'sigmoid';
  if (problemType === 'single_label_classification' || labels > 1) return 'softmax';
  return 'none';
}

/** Applies the function to one row of logits, computing in float64. */
export function applyFunction(logits: ArrayLike<number>, fn: ClassificationFunction): number[] {
  const values = Array.from(logits);
  if (fn === 'sigmoid') return values.map((value) => 1 / (1 + Math.exp(-value)));
  if (fn === 'none') return values;
  return softmax(values);
}

export function softmax(values: readonly number[]): number[] {
  const max = Math.max(...values);
  const exps = values.map((value) => Math.exp(value - max));
  const sum = exps.reduce((total, value) => total + value, 0);
  return exps.map((value) => value / sum);
}

/** `{label, score}`; with top_k above 1, also `labels`: the top_k best, highest first (ties keep label order). */
export function classify(logits: ArrayLike<number>, settings: ClassificationSettings): Record<string, unknown> {
  const scores = applyFunction(logits, settings.functionToApply);
  const ranked = scores.map((score, id) => ({ label: settings.labels[id] ?? `LABEL_${id}`, score })).sort((a, b) => b.score - a.score);
  const best = ranked[0] as LabelScore;
  if (settings.topK === 1) return { label: best.label, score: best.score };
  return { label: best.label, score: best.score, labels: settings.topK === 'all' ? ranked : ranked.slice(0, settings.topK) };
}

export function classificationOutputSchema(settings: ClassificationSettings): JsonSchema {
  const label = { type: 'string', enum: [...settings.labels], description: "The best label (config.json's id2label)." };
  const score = {
    type: 'number',
    description: settings.functionToApply === 'none' ? 'The raw logit of the label.' : `The label's probability (${settings.functionToApply} of the logits).`,
  };
  const properties: Record<string, unknown> = { label, score };
  const required = ['label', 'score'];
  if (settings.topK !== 1) {
    properties.labels = {
      type: 'array',
      description: `The ${settings.topK === 'all' ? '' : `${settings.topK} `}best labels, highest score first (top_k).`,
      items: { type: 'object', properties: { label, score }, required: ['label', 'score'], additionalProperties: false },
    };
    required.push('labels');
  }
  return { type: 'object', properties, required, additionalProperties: false };
}
