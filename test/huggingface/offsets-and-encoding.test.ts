/**
 * Unit tests of the tokenization the transformers runtime adds around @huggingface/tokenizers: truncation as
 * transformers does it (pieces cut before [CLS]/[SEP] are added, longest_first for pairs), the special-token mask,
 * padding, and character offsets in code points found by matching pieces against the BERT-normalized text.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { normalizeWithMap, tokenOffsets, type NormalizerSettings } from '../../src/runtimes/transformers/offsets.ts';
import { TextEncoder } from '../../src/runtimes/transformers/text-encoder.ts';
import { reference, SENTIMENT } from './hf-harness.ts';

const tokenizer = JSON.parse(readFileSync(join(SENTIMENT, 'tokenizer.json'), 'utf8')) as object;
const tokenizerConfig = JSON.parse(readFileSync(join(SENTIMENT, 'tokenizer_config.json'), 'utf8')) as object;
const BERT: NormalizerSettings = { cleanText: true, chineseChars: true, stripAccents: true, lowercase: true };
const PIECES = { continuingPrefix: '##', unkToken: '[UNK]' };

function offsetsOf(text: string, encoder = new TextEncoder(tokenizer, tokenizerConfig, 128)) {
  const encoded = encoder.encode(text);
  return { encoded, offsets: tokenOffsets(text, encoded.tokens, encoded.special, BERT, PIECES) };
}

describe('TextEncoder', () => {
  it("gives the reference's tokens and ids for every case, [CLS] and [SEP] included", () => {
    const encoder = new TextEncoder(tokenizer, tokenizerConfig, 128);
    for (const item of reference('tiny-bert-sentiment').cases) {
      const encoded = encoder.encode(item.text);
      assert.deepEqual(encoded.tokens, item.tokens, item.name);
      assert.deepEqual(encoded.ids, item.input_ids, item.name);
      assert.equal(encoded.truncated, false);
    }
  });

  it('cuts an over-long text before adding the special tokens, so [SEP] stays last (Python), not dropped (transformers.js)', () => {
    const over = reference('tiny-bert-sentiment').over_max_length;
    const encoded = new TextEncoder(tokenizer, tokenizerConfig, 128).encode(over.text);
    assert.equal(encoded.ids.length, 128);
    assert.deepEqual(encoded.ids, over.input_ids_truncated);
    assert.equal(encoded.tokens.at(-1), '[SEP]');
    assert.equal(encoded.truncated, true);
  });

  it('marks only the tokens the post-processor added as special', () => {
    const encoded = new TextEncoder(tokenizer, tokenizerConfig, 128).encode('good day');
    assert.deepEqual(encoded.special, [true, false, false, true]);
  });

  it('encodes a pair as [CLS] A [SEP] B [SEP] with type ids 0 then 1, cutting the longer text first', () => {
    const encoder = new TextEncoder(tokenizer, tokenizerConfig, 8);
    const encoded = encoder.encode('the bus was late again today', 'good');
    assert.equal(encoded.ids.length, 8);
    assert.deepEqual(encoded.tokens, ['[CLS]', 'the', 'bus', 'was', 'late', '[SEP]', 'good', '[SEP]']);
    assert.deepEqual(encoded.typeIds, [0, 0, 0, 0, 0, 0, 1, 1]);
    assert.deepEqual(encoded.special, [true, false, false, false, false, true, false, true]);
  });

  it('counts tokens with the special tokens, at most max_length', () => {
    const encoder = new TextEncoder(tokenizer, tokenizerConfig, 128);
    assert.equal(encoder.countTokens(''), 2);
    assert.equal(encoder.countTokens('good day'), 4);
    assert.equal(encoder.countTokens(reference('tiny-bert-sentiment').over_max_length.text), 128);
  });

  it('pads a batch to its longest text with [PAD] and attention mask 0', () => {
    const encoder = new TextEncoder(tokenizer, tokenizerConfig, 128);
    const batch = encoder.batch([encoder.encode('good'), encoder.encode('good day to you')]);
    assert.equal(batch.length, 6);
    assert.deepEqual(Array.from(batch.attention_mask, Number), [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    assert.equal(batch.input_ids[3], 0n);
  });

  it('refuses a max_length with no room for text beside the special tokens', () => {
    assert.throws(() => new TextEncoder(tokenizer, tokenizerConfig, 3), /max_length 3 leaves no room/);
  });
});

describe('tokenOffsets', () => {
  it('counts offsets in code points: text after an emoji is where Python puts it', () => {
    const text = 'Bob 😀 in Paris.';
    const { encoded, offsets } = offsetsOf(text);
    const paris = encoded.tokens.indexOf('paris');
    assert.deepEqual(offsets[paris], [9, 14]);
    assert.equal(Array.from(text).slice(9, 14).join(''), 'Paris');
    assert.equal(text.indexOf('Paris'), 10, 'a UTF-16 index would be one more');
  });

  it('gives an [UNK] token the whole word it stands for, and special tokens no offsets', () => {
    const { encoded, offsets } = offsetsOf('café ❄ good');
    assert.deepEqual(encoded.tokens, ['[CLS]', 'ca', '##fe', '[UNK]', 'good', '[SEP]']);
    assert.deepEqual(offsets, [null, [0, 2], [2, 4], [5, 6], [7, 11], null]);
  });

  it('maps pieces of an accented, upper-case word back to the original characters', () => {
    const { offsets } = offsetsOf('CAFÉ');
    assert.deepEqual(offsets.slice(1, 3), [[0, 2], [2, 4]]);
  });

  it('splits punctuation from words as the BERT pre-tokenizer does', () => {
    const { encoded, offsets } = offsetsOf('paris.');
    assert.deepEqual(encoded.tokens.slice(1, 3), ['paris', '.']);
    assert.deepEqual(offsets.slice(1, 3), [[0, 5], [5, 6]]);
  });

  it('drops control characters and maps whitespace to spaces while keeping the original positions', () => {
    const { normalized, origin } = normalizeWithMap('A\u0000\tb', BERT);
    assert.equal(normalized, 'a b');
    assert.deepEqual(origin, [0, 2, 3]);
  });

  it('puts spaces around CJK ideographs, each its own word', () => {
    const { normalized } = normalizeWithMap('你好', BERT);
    assert.equal(normalized, ' 你  好 ');
  });
});
