/**
 * Unit tests of the transformers runtime's task heads on hand-made logits: classification functions and top_k,
 * token-classification's aggregation strategies (as transformers' TokenClassificationPipeline groups), and pooling.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyFunction, classify, defaultFunction } from '../../src/runtimes/transformers/classification.ts';
import { decodePieces, tagEntities, type EntitySettings, type TaggedText } from '../../src/runtimes/transformers/entities.ts';
import { normalized, pool } from '../../src/runtimes/transformers/pooling.ts';

const LABELS = ['O', 'B-PER', 'I-PER', 'B-LOC', 'I-LOC'];

/** Logits that make each position's label the given one (the others far below). */
function logitsFor(labels: readonly string[]): number[] {
  return labels.flatMap((label) => LABELS.map((candidate) => (candidate === label ? 5 : 0)));
}

function settings(aggregation: EntitySettings['aggregation']): EntitySettings {
  return { labels: LABELS, aggregation, unkToken: '[UNK]', continuingPrefix: '##', ignore: ['O'] };
}

function tagged(text: string, tokens: string[], offsets: ([number, number] | null)[], labels: string[]): TaggedText {
  return { text, tokens, special: tokens.map((token) => token === '[CLS]' || token === '[SEP]'), offsets, logits: logitsFor(labels) };
}

describe('text-classification head', () => {
  it('picks functions as transformers does: sigmoid for multi-label or one label, softmax for single-label', () => {
    assert.equal(defaultFunction('multi_label_classification', 3), 'sigmoid');
    assert.equal(defaultFunction(undefined, 1), 'sigmoid');
    assert.equal(defaultFunction('single_label_classification', 2), 'softmax');
    assert.equal(defaultFunction('regression', 0), 'none');
  });

  it('applies softmax, sigmoid or nothing to the logits', () => {
    const [a, b] = applyFunction([0, Math.log(3)], 'softmax');
    assert.ok(Math.abs((a as number) - 0.25) < 1e-12 && Math.abs((b as number) - 0.75) < 1e-12);
    assert.deepEqual(applyFunction([0], 'sigmoid'), [0.5]);
    assert.deepEqual(applyFunction([1.5, -2], 'none'), [1.5, -2]);
  });

  it('answers the best label alone at top_k 1, and the k best in order with top_k k', () => {
    const classes = { labels: ['a', 'b', 'c'], functionToApply: 'none' as const };
    assert.deepEqual(classify([1, 3, 2], { ...classes, topK: 1 }), { label: 'b', score: 3 });
    assert.deepEqual(classify([1, 3, 2], { ...classes, topK: 2 }), {
      label: 'b',
      score: 3,
      labels: [
        { label: 'b', score: 3 },
        { label: 'c', score: 2 },
      ],
    });
  });
});

describe('token-classification head', () => {
  const text = 'Alice Smith went to Rio';
  const tokens = ['[CLS]', 'alice', 'sm', '##ith', 'went', 'to', 'rio', '[SEP]'];
  const offsets: ([number, number] | null)[] = [null, [0, 5], [6, 8], [8, 11], [12, 16], [17, 19], [20, 23], null];

  it('simple: merges B-X with the I-X after it, averaging scores, leaving O out', () => {
    const entities = tagEntities(tagged(text, tokens, offsets, ['O', 'B-PER', 'I-PER', 'I-PER', 'O', 'O', 'B-LOC', 'O']), settings('simple'));
    assert.deepEqual(
      entities.map(({ entity_group, word, start, end }) => ({ entity_group, word, start, end })),
      [
        { entity_group: 'PER', word: 'alice smith', start: 0, end: 11 },
        { entity_group: 'LOC', word: 'rio', start: 20, end: 23 },
      ],
    );
  });

  it('none: one entry per token with its index, O left out', () => {
    const entities = tagEntities(tagged(text, tokens, offsets, ['O', 'B-PER', 'O', 'O', 'O', 'O', 'B-LOC', 'O']), settings('none'));
    assert.deepEqual(
      entities.map(({ entity, index, word }) => ({ entity, index, word })),
      [
        { entity: 'B-PER', index: 1, word: 'alice' },
        { entity: 'B-LOC', index: 6, word: 'rio' },
      ],
    );
  });

  it("first: a word takes its first piece's label, even when a later piece says otherwise", () => {
    const labels = ['O', 'O', 'B-PER', 'B-LOC', 'O', 'O', 'O', 'O'];
    const entities = tagEntities(tagged(text, tokens, offsets, labels), settings('first'));
    assert.deepEqual(entities.map(({ entity_group, word }) => ({ entity_group, word })), [{ entity_group: 'PER', word: 'smith' }]);
  });

  it("max: a word takes the label of its most confident piece; average: of the pieces' mean scores", () => {
    const logits = logitsFor(['O', 'O', 'B-PER', 'B-LOC', 'O', 'O', 'O', 'O']);
    logits[3 * LABELS.length + 3] = 9; // ##ith is surer of B-LOC than sm is of B-PER
    const input = { ...tagged(text, tokens, offsets, []), logits };
    assert.deepEqual(tagEntities(input, settings('max')).map((entity) => entity.entity_group), ['LOC']);
    assert.deepEqual(tagEntities(input, settings('average')).map((entity) => entity.entity_group), ['LOC']);
    assert.equal(tagEntities(input, settings('average'))[0]?.word, 'smith');
  });

  it('reports an [UNK] token with the characters it stands for, as Python does (transformers.js drops it)', () => {
    const unk = tagged('Bob ❄', ['[CLS]', 'bob', '[UNK]', '[SEP]'], [null, [0, 3], [4, 5], null], ['O', 'B-PER', 'B-LOC', 'O']);
    assert.deepEqual(
      tagEntities(unk, settings('simple')).map(({ entity_group, word, start, end }) => ({ entity_group, word, start, end })),
      [
        { entity_group: 'PER', word: 'bob', start: 0, end: 3 },
        { entity_group: 'LOC', word: '❄', start: 4, end: 5 },
      ],
    );
  });

  it('decodes pieces as the WordPiece decoder: prefixes glued, clean-up applied token by token as tokenizers does', () => {
    assert.equal(decodePieces(['new', 'york', '##er', ',', 'inc', '.'], '##'), 'new yorker, inc.');
    // The clean-up sees one token at a time (" '" has no space after it), so this apostrophe keeps its spaces.
    assert.equal(decodePieces(['don', "'", 't'], '##'), "don ' t");
  });
});

describe('feature-extraction pooling', () => {
  // Two real tokens of width 2, then a padding row that must not count.
  const hidden = [1, 2, 3, 6, 100, 100];

  it('mean-pools over the real tokens only', () => {
    assert.deepEqual(pool(hidden, 2, 2, { pooling: 'mean', normalize: false, dimensions: 2 }), [2, 4]);
  });

  it('takes the first token for cls, the largest value for max, and every token for none', () => {
    assert.deepEqual(pool(hidden, 2, 2, { pooling: 'cls', normalize: false, dimensions: 2 }), [1, 2]);
    assert.deepEqual(pool(hidden, 2, 2, { pooling: 'max', normalize: false, dimensions: 2 }), [3, 6]);
    assert.deepEqual(pool(hidden, 2, 2, { pooling: 'none', normalize: false, dimensions: 2 }), [
      [1, 2],
      [3, 6],
    ]);
  });

  it('scales to unit length when normalize is on, and leaves a zero vector at zero', () => {
    assert.deepEqual(pool([3, 4], 1, 2, { pooling: 'mean', normalize: true, dimensions: 2 }), [0.6, 0.8]);
    assert.deepEqual(normalized([0, 0]), [0, 0]);
  });
});
