/**
 * feature-extraction as sentence-transformers answers it: the token vectors of one text (`last_hidden_state`) pooled
 * over the real tokens (mean, the [CLS] vector, or max) and, when asked, scaled to unit length; `pooling: none` keeps
 * one vector per token, as transformers' FeatureExtractionPipeline returns them.
 */
import type { POOLINGS } from '../../config/entry-schema.js';
import type { JsonSchema } from '../../model/contract.js';

export type Pooling = (typeof POOLINGS)[number];

export interface PoolingSettings {
  readonly pooling: Pooling;
  readonly normalize: boolean;
  /** The vectors' size (config.json hidden_size). */
  readonly dimensions: number;
}

/**
 * One text's embedding from its rows of `hidden` (row-major [positions × width], starting at the text's first position;
 * `tokens` real positions, the rest padding).
 */
export function pool(hidden: ArrayLike<number>, tokens: number, width: number, settings: PoolingSettings): number[] | number[][] {
  if (settings.pooling === 'none') {
    return Array.from({ length: tokens }, (_, position) => {
      const vector = Array.from({ length: width }, (_, column) => hidden[position * width + column] as number);
      return settings.normalize ? normalized(vector) : vector;
    });
  }
  let vector: number[];
  if (settings.pooling === 'cls') vector = Array.from({ length: width }, (_, column) => hidden[column] as number);
  else if (settings.pooling === 'max') {
    vector = new Array<number>(width).fill(-Infinity);
    for (let position = 0; position < tokens; position++) {
      for (let column = 0; column < width; column++) vector[column] = Math.max(vector[column] as number, hidden[position * width + column] as number);
    }
  } else {
    vector = new Array<number>(width).fill(0);
    for (let position = 0; position < tokens; position++) {
      for (let column = 0; column < width; column++) vector[column] = (vector[column] as number) + (hidden[position * width + column] as number);
    }
    const count = Math.max(tokens, 1e-9);
    for (let column = 0; column < width; column++) vector[column] = (vector[column] as number) / count;
  }
  return settings.normalize ? normalized(vector) : vector;
}

/** The vector divided by its L2 norm (norms below 1e-12 count as 1e-12, as torch's F.normalize does). */
export function normalized(vector: readonly number[]): number[] {
  const norm = Math.max(Math.sqrt(vector.reduce((total, value) => total + value * value, 0)), 1e-12);
  return vector.map((value) => value / norm);
}

export function embeddingOutputSchema(settings: PoolingSettings): JsonSchema {
  const vector = { type: 'array', items: { type: 'number' }, minItems: settings.dimensions, maxItems: settings.dimensions };
  const how = settings.pooling === 'none' ? 'One vector per token, special tokens included' : `The ${settings.pooling}-pooled vector of the text's tokens`;
  return {
    type: 'object',
    properties: {
      embedding:
        settings.pooling === 'none'
          ? { type: 'array', items: vector, description: `${how}${settings.normalize ? ', each of unit length' : ''}.` }
          : { ...vector, description: `${how}${settings.normalize ? ', of unit length (L2-normalized)' : ''}; ${settings.dimensions} numbers.` },
    },
    required: ['embedding'],
    additionalProperties: false,
  };
}
