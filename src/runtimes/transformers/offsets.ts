/**
 * Where each token came from in the text, as `[start, end)` counted in Unicode code points (Python's string indices,
 * which the Python pipelines report). @huggingface/tokenizers gives no offsets, so they are found here: the text is
 * normalized one code point at a time the way BERT's normalizer does it (clean, split CJK, strip accents, lowercase),
 * remembering which code point each normalized character came from, and the word pieces are matched against it in
 * order. A piece that does not match where expected gets no offsets (null) rather than wrong ones.
 */

export type Offsets = readonly [start: number, end: number] | null;

/** BERT normalizer settings (tokenizer.json `normalizer`, type BertNormalizer). */
export interface NormalizerSettings {
  readonly cleanText: boolean;
  readonly chineseChars: boolean;
  readonly stripAccents: boolean;
  readonly lowercase: boolean;
}

export interface PieceSettings {
  /** The prefix of a word's later pieces (`##`). */
  readonly continuingPrefix: string;
  readonly unkToken: string | undefined;
}

const MARK = /\p{Mn}/u;
const PUNCTUATION = /\p{P}/u;
const WHITESPACE = /\s/u;
const CONTROL = /\p{Cc}|\p{Cf}/u;

/** The normalized text, and for each of its UTF-16 units the code point of the original it came from. */
export function normalizeWithMap(text: string, settings: NormalizerSettings): { normalized: string; origin: number[] } {
  let normalized = '';
  const origin: number[] = [];
  let index = 0;
  for (const char of text) {
    const out = normalizeChar(char, settings);
    for (let unit = 0; unit < out.length; unit++) origin.push(index);
    normalized += out;
    index++;
  }
  return { normalized, origin };
}

function normalizeChar(char: string, settings: NormalizerSettings): string {
  const code = char.codePointAt(0) as number;
  if (settings.cleanText) {
    if (code === 0 || code === 0xfffd) return '';
    if (char === '\t' || char === '\n' || char === '\r' || WHITESPACE.test(char)) return ' ';
    if (CONTROL.test(char)) return '';
  }
  let out = settings.chineseChars && isChinese(code) ? ` ${char} ` : char;
  if (settings.stripAccents) out = [...out.normalize('NFD')].filter((part) => !MARK.test(part)).join('');
  if (settings.lowercase) out = out.toLowerCase();
  return out;
}

/** The CJK Unified Ideographs blocks, as BERT's tokenizer lists them. */
function isChinese(code: number): boolean {
  return (
    (code >= 0x4e00 && code <= 0x9fff) ||
    (code >= 0x3400 && code <= 0x4dbf) ||
    (code >= 0x20000 && code <= 0x2a6df) ||
    (code >= 0x2a700 && code <= 0x2b73f) ||
    (code >= 0x2b740 && code <= 0x2b81f) ||
    (code >= 0x2b820 && code <= 0x2ceaf) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0x2f800 && code <= 0x2fa1f)
  );
}

function isPunctuation(char: string): boolean {
  const code = char.codePointAt(0) as number;
  return (code >= 33 && code <= 47) || (code >= 58 && code <= 64) || (code >= 91 && code <= 96) || (code >= 123 && code <= 126) || PUNCTUATION.test(char);
}

/**
 * The offsets of each token of one text. `special` marks the tokens the post-processor added (they get null, as in
 * transformers' offset mapping, where they are (0, 0)).
 */
export function tokenOffsets(
  text: string,
  tokens: readonly string[],
  special: readonly boolean[],
  normalizer: NormalizerSettings,
  pieces: PieceSettings,
): Offsets[] {
  const { normalized, origin } = normalizeWithMap(text, normalizer);
  const span = (from: number, to: number): Offsets => [origin[from] as number, (origin[to - 1] as number) + 1];
  let cursor = 0;
  let inWord = false;
  return tokens.map((token, index) => {
    if (special[index]) return null;
    const continuing = token.startsWith(pieces.continuingPrefix) && pieces.continuingPrefix.length > 0;
    if (!continuing || !inWord) {
      while (cursor < normalized.length && normalized[cursor] === ' ') cursor++;
    }
    if (cursor >= normalized.length) return null;
    if (token === pieces.unkToken) {
      // A whole pre-token (a word, or one punctuation character) the vocabulary cannot spell.
      const from = cursor;
      const first = String.fromCodePoint(normalized.codePointAt(cursor) as number);
      cursor += first.length;
      if (!isPunctuation(first)) {
        while (cursor < normalized.length) {
          const next = String.fromCodePoint(normalized.codePointAt(cursor) as number);
          if (next === ' ' || isPunctuation(next)) break;
          cursor += next.length;
        }
      }
      inWord = false;
      return span(from, cursor);
    }
    const piece = continuing ? token.slice(pieces.continuingPrefix.length) : token;
    if (piece.length === 0 || !normalized.startsWith(piece, cursor)) return null;
    const from = cursor;
    cursor += piece.length;
    const next = normalized[cursor];
    inWord = next !== undefined && next !== ' ' && !isPunctuation(piece.at(-1) as string) && !isPunctuation(next);
    return span(from, cursor);
  });
}
