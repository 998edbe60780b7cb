/**
 * token-classification as transformers' TokenClassificationPipeline answers it: softmax per token, special tokens left
 * out, then grouped by the aggregation strategy (`none`: one entry per token; `simple`: neighbouring B-X/I-X tokens
 * merged; `first` | `max` | `average`: word pieces merged into words first), and `O` left out.
 */
import type { AGGREGATIONS } from '../../config/entry-schema.js';
import type { JsonSchema } from '../../model/contract.js';
import { softmax } from './classification.js';
import type { Offsets } from './offsets.js';

export type Aggregation = (typeof AGGREGATIONS)[number];

/** One text's tokens as the model saw them, with the logits of each position. */
export interface TaggedText {
  readonly text: string;
  readonly tokens: readonly string[];
  readonly special: readonly boolean[];
  readonly offsets: readonly Offsets[];
  /** Row-major [positions × labels]; positions past the tokens (padding) are ignored. */
  readonly logits: ArrayLike<number>;
}

export interface EntitySettings {
  readonly labels: readonly string[];
  readonly aggregation: Aggregation;
  readonly unkToken: string | undefined;
  readonly continuingPrefix: string;
  /** Labels left out of the answer (`O`). */
  readonly ignore: readonly string[];
}

interface PreEntity {
  word: string;
  scores: number[];
  start: number | null;
  end: number | null;
  index: number;
  isSubword: boolean;
}

interface TokenEntity {
  entity: string;
  score: number;
  word: string;
  start: number | null;
  end: number | null;
  index?: number;
}

/** The entities of one text. */
export function tagEntities(input: TaggedText, settings: EntitySettings): Record<string, unknown>[] {
  const pre = gatherPreEntities(input, settings);
  if (settings.aggregation === 'none' || settings.aggregation === 'simple') {
    const entities: TokenEntity[] = pre.map((entry) => {
      const id = argmax(entry.scores);
      return { entity: labelOf(settings, id), score: entry.scores[id] as number, index: entry.index, word: entry.word, start: entry.start, end: entry.end };
    });
    if (settings.aggregation === 'none') {
      return entities.filter((entity) => !settings.ignore.includes(entity.entity)).map((entity) => ({ ...entity }));
    }
    return groupEntities(entities, settings);
  }
  return groupEntities(aggregateWords(pre, settings), settings);
}

function labelOf(settings: EntitySettings, id: number): string {
  return settings.labels[id] ?? `LABEL_${id}`;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let index = 1; index < values.length; index++) if ((values[index] as number) > (values[best] as number)) best = index;
  return best;
}

function gatherPreEntities(input: TaggedText, settings: EntitySettings): PreEntity[] {
  const width = settings.labels.length;
  const chars = Array.from(input.text);
  const pre: PreEntity[] = [];
  input.tokens.forEach((token, index) => {
    if (input.special[index]) return;
    const scores = softmax(Array.from({ length: width }, (_, label) => input.logits[index * width + label] as number));
    const offsets = input.offsets[index] ?? null;
    let word = token;
    let isSubword = false;
    if (offsets !== null) {
      const reference = chars.slice(offsets[0], offsets[1]).join('');
      // A piece is a word's later piece when it is not the text it covers (`##ce` for `ce`), as transformers decides.
      isSubword = Array.from(token).length !== offsets[1] - offsets[0];
      if (token === settings.unkToken) {
        word = reference;
        isSubword = false;
      }
    } else {
      isSubword = token.startsWith(settings.continuingPrefix);
    }
    pre.push({ word, scores, start: offsets?.[0] ?? null, end: offsets?.[1] ?? null, index, isSubword });
  });
  return pre;
}

/** Word pieces merged into words (`first`, `max`, `average`), each word labelled once. */
function aggregateWords(pre: readonly PreEntity[], settings: EntitySettings): TokenEntity[] {
  const words: PreEntity[][] = [];
  for (const entry of pre) {
    const last = words.at(-1);
    if (last !== undefined && entry.isSubword) last.push(entry);
    else words.push([entry]);
  }
  return words.map((group) => {
    const word = decodePieces(group.map((entry) => entry.word), settings.continuingPrefix);
    let scores: number[];
    if (settings.aggregation === 'first') scores = (group[0] as PreEntity).scores;
    else if (settings.aggregation === 'max') {
      scores = group.reduce((best, entry) => (Math.max(...entry.scores) > Math.max(...best.scores) ? entry : best)).scores;
    } else {
      scores = (group[0] as PreEntity).scores.map((_, label) => group.reduce((total, entry) => total + (entry.scores[label] as number), 0) / group.length);
    }
    const id = argmax(scores);
    return { entity: labelOf(settings, id), score: scores[id] as number, word, start: (group[0] as PreEntity).start, end: (group.at(-1) as PreEntity).end };
  });
}

function tagOf(entity: string): { bi: 'B' | 'I'; tag: string } {
  if (entity.startsWith('B-')) return { bi: 'B', tag: entity.slice(2) };
  if (entity.startsWith('I-')) return { bi: 'I', tag: entity.slice(2) };
  return { bi: 'I', tag: entity };
}

/** Neighbouring tokens (or words) of one tag merged, a `B-` starting a new group; then the ignored groups left out. */
function groupEntities(entities: readonly TokenEntity[], settings: EntitySettings): Record<string, unknown>[] {
  const groups: TokenEntity[][] = [];
  for (const entity of entities) {
    const last = groups.at(-1);
    const { bi, tag } = tagOf(entity.entity);
    if (last !== undefined && tagOf((last.at(-1) as TokenEntity).entity).tag === tag && bi !== 'B') last.push(entity);
    else groups.push([entity]);
  }
  return groups
    .map((group) => ({
      entity_group: (group[0] as TokenEntity).entity.split('-').slice(1).join('-') || (group[0] as TokenEntity).entity,
      score: group.reduce((total, entity) => total + entity.score, 0) / group.length,
      word: decodePieces(group.map((entity) => entity.word), settings.continuingPrefix),
      start: (group[0] as TokenEntity).start,
      end: (group.at(-1) as TokenEntity).end,
    }))
    .filter((group) => !settings.ignore.includes(group.entity_group));
}

/**
 * Tokens back to text as the WordPiece decoder does (`convert_tokens_to_string`): later pieces glued on without their
 * prefix, other tokens joined by a space, then the decoder's clean-up of spaces before punctuation and contractions.
 */
export function decodePieces(tokens: readonly string[], prefix: string): string {
  const parts = tokens.map((token, index) => {
    if (index > 0 && prefix.length > 0 && token.startsWith(prefix)) return token.slice(prefix.length);
    return index > 0 ? ` ${token}` : token;
  });
  return parts.map(cleanUp).join('');
}

function cleanUp(text: string): string {
  return text
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(" do not", " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

export function entitiesOutputSchema(settings: Pick<EntitySettings, 'aggregation' | 'labels'>): JsonSchema {
  const offset = (what: string) => ({ type: ['integer', 'null'], description: `${what}, in Unicode code points (Python's string indices); null when not known.` });
  const common = {
    score: { type: 'number', description: 'Softmax probability (for a group: the mean over its tokens or words).' },
    word: { type: 'string', description: 'The decoded text of the tokens (lowercased by an uncased tokenizer).' },
    start: offset('Where it starts in the text'),
    end: offset('Where it ends in the text (exclusive)'),
  };
  const item =
    settings.aggregation === 'none'
      ? {
          type: 'object',
          properties: { entity: { type: 'string', description: 'The token\'s label (B-PER, I-LOC, ...).' }, index: { type: 'integer', description: 'Token position ([CLS] is 0).' }, ...common },
          required: ['entity', 'score', 'index', 'word', 'start', 'end'],
          additionalProperties: false,
        }
      : {
          type: 'object',
          properties: { entity_group: { type: 'string', description: 'The entity type (PER, LOC, ...).' }, ...common },
          required: ['entity_group', 'score', 'word', 'start', 'end'],
          additionalProperties: false,
        };
  return {
    type: 'object',
    properties: { entities: { type: 'array', items: item, description: `Entities found (aggregation: ${settings.aggregation}); the label O is left out.` } },
    required: ['entities'],
    additionalProperties: false,
  };
}
