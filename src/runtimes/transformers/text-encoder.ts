/**
 * Text to token ids as the Python pipelines make them: the model's own tokenizer.json (run by @huggingface/tokenizers,
 * pure JavaScript), truncated the way transformers truncates (the text's pieces are cut, then the special tokens are
 * added, so `[SEP]` stays), and a batch padded to its longest text into the int64 tensors a BERT-style graph takes.
 */
import { Tokenizer } from '@huggingface/tokenizers';

/** One text (or pair) as the model sees it. */
export interface Encoded {
  readonly ids: readonly number[];
  readonly typeIds: readonly number[];
  readonly tokens: readonly string[];
  /** Whether each position holds a token the post-processor added ([CLS], [SEP]); pipelines leave those out. */
  readonly special: readonly boolean[];
  /** Whether the text (or pair) had more pieces than max_length allowed, so its end was cut. */
  readonly truncated: boolean;
  /** The length (UTF-16) of the start of `text` its tokens come from: all of it, or less for a very long text. */
  readonly covered: number;
}

/** The batch's input tensors, rows padded to the longest (right side, the pad id, attention mask 0). */
export interface EncodedBatch {
  readonly rows: number;
  readonly length: number;
  readonly input_ids: BigInt64Array;
  readonly attention_mask: BigInt64Array;
  readonly token_type_ids: BigInt64Array;
}

/**
 * The post-processor's output for texts of given lengths: per position, the index of a piece of the first text (≥ 0),
 * of the second (-1 - index), or the token it added; which positions it added; their type ids.
 */
interface Layout {
  readonly slots: readonly (number | string)[];
  readonly special: readonly boolean[];
  readonly typeIds: readonly number[];
}

/** Layouts kept per encoder (pairs of lengths beyond it are laid out again each time). */
const MAX_LAYOUTS = 4096;

/** Characters of text tokenized per piece truncation may keep, before the rest of a long text is left unread. */
const CHARS_PER_PIECE = 16;

/** Stand-ins for the text's pieces while the post-processor places them (characters no tokenizer emits). */
const FIRST_MARK = '\u0001';
const SECOND_MARK = '\u0002';

export class TextEncoder {
  readonly #tokenizer: Tokenizer;
  readonly #maxLength: number;
  readonly #padId: number;
  readonly #unkToken: string | undefined;
  /** Tokens the post-processor adds around one text and around a pair. */
  readonly #specialSingle: number;
  readonly #specialPair: number;
  /** Layouts by lengths (#layout): at most max_length + 1 for single texts, capped for pairs. */
  readonly #layouts = new Map<number, Layout>();

  constructor(tokenizerJson: object, tokenizerConfig: object, maxLength: number) {
    this.#tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    this.#maxLength = maxLength;
    const config = tokenizerConfig as { pad_token?: unknown; unk_token?: unknown };
    const padToken = typeof config.pad_token === 'string' ? config.pad_token : '[PAD]';
    this.#padId = this.#tokenizer.token_to_id(padToken) ?? 0;
    const model = (tokenizerJson as { model?: { unk_token?: unknown } }).model;
    this.#unkToken = typeof model?.unk_token === 'string' ? model.unk_token : typeof config.unk_token === 'string' ? config.unk_token : undefined;
    this.#specialSingle = this.#process([], null).tokens.length;
    this.#specialPair = this.#process([], []).tokens.length;
    if (maxLength <= this.#specialPair) throw new Error(`max_length ${maxLength} leaves no room for text next to the ${this.#specialPair} special tokens`);
  }

  get maxLength(): number {
    return this.#maxLength;
  }

  /** The token a word outside the vocabulary becomes (`[UNK]`). */
  get unkToken(): string | undefined {
    return this.#unkToken;
  }

  /** The tokens of `text` with the special tokens added, cut to max_length the way transformers' `truncation=True` does. */
  encode(text: string, pair?: string): Encoded {
    const budget = this.#maxLength - (pair === undefined ? this.#specialSingle : this.#specialPair);
    const head = this.#pieces(text, budget);
    let first: string[] = head.pieces;
    let second: string[] | null = pair === undefined ? null : this.#pieces(pair, budget).pieces;
    const truncated = first.length + (second?.length ?? 0) > budget;
    if (truncated) [first, second] = truncate(first, second, budget);
    const layout = this.#layout(first.length, second?.length);
    const pieces = second ?? [];
    const tokens = layout.slots.map((slot) => (typeof slot === 'string' ? slot : slot >= 0 ? (first[slot] as string) : (pieces[-1 - slot] as string)));
    const ids = tokens.map((token) => this.#idOf(token));
    return { ids, typeIds: layout.typeIds, tokens, special: layout.special, truncated, covered: head.covered };
  }

  /** How many tokens `text` becomes (special tokens included, after truncation), as OpenAI's `usage` counts them. */
  countTokens(text: string): number {
    return Math.min(this.#pieces(text, this.#maxLength).pieces.length + this.#specialSingle, this.#maxLength);
  }

  /**
   * The word pieces of `text`, at least `budget` of them when it has that many (those are all truncation keeps). A very
   * long text is tokenized from its start only: up to a space past BUDGET_CHARS per piece needed, so its first pieces
   * are the whole text's (no word is cut), and a megabyte of text costs no more than the start the model sees.
   */
  #pieces(text: string, budget: number): { pieces: string[]; covered: number } {
    const limit = budget * CHARS_PER_PIECE;
    if (text.length > limit) {
      const cut = text.lastIndexOf(' ', limit);
      if (cut > 0) {
        const pieces = this.#tokenizer.tokenize(text.slice(0, cut));
        if (pieces.length > budget) return { pieces, covered: cut };
      }
    }
    return { pieces: this.#tokenizer.tokenize(text), covered: text.length };
  }

  /** Pads encodings to the longest into one set of tensors. */
  batch(encodings: readonly Encoded[]): EncodedBatch {
    const rows = encodings.length;
    const length = Math.max(1, ...encodings.map((encoding) => encoding.ids.length));
    const input_ids = new BigInt64Array(rows * length).fill(BigInt(this.#padId));
    const attention_mask = new BigInt64Array(rows * length);
    const token_type_ids = new BigInt64Array(rows * length);
    encodings.forEach((encoding, row) => {
      const base = row * length;
      for (let index = 0; index < encoding.ids.length; index++) {
        input_ids[base + index] = BigInt(encoding.ids[index] as number);
        attention_mask[base + index] = 1n;
        token_type_ids[base + index] = BigInt(encoding.typeIds[index] as number);
      }
    });
    return { rows, length, input_ids, attention_mask, token_type_ids };
  }

  /**
   * Where the post-processor puts the pieces of texts of these lengths, and what it adds: found once per pair of
   * lengths by running it on markers (the pieces' own values never change where the template puts them).
   */
  #layout(first: number, second: number | undefined): Layout {
    const key = second === undefined ? first : first * 100_003 + second + 1;
    const known = this.#layouts.get(key);
    if (known !== undefined) return known;
    const marked = this.#process(
      Array.from({ length: first }, (_, index) => `${FIRST_MARK}${index}`),
      second === undefined ? null : Array.from({ length: second }, (_, index) => `${SECOND_MARK}${index}`),
    );
    const slots = marked.tokens.map((token) =>
      token.startsWith(FIRST_MARK) ? Number(token.slice(1)) : token.startsWith(SECOND_MARK) ? -1 - Number(token.slice(1)) : token,
    );
    const layout: Layout = { slots, special: slots.map((slot) => typeof slot === 'string'), typeIds: marked.token_type_ids ?? slots.map(() => 0) };
    if (this.#layouts.size < MAX_LAYOUTS) this.#layouts.set(key, layout);
    return layout;
  }

  #process(first: string[], second: string[] | null): { tokens: string[]; token_type_ids?: number[] } {
    const processor = this.#tokenizer.post_processor;
    if (processor === null) return { tokens: [...first, ...(second ?? [])] };
    return processor(first, second, true);
  }

  #idOf(token: string): number {
    const id = this.#tokenizer.token_to_id(token);
    if (id !== undefined) return id;
    const unk = this.#unkToken === undefined ? undefined : this.#tokenizer.token_to_id(this.#unkToken);
    if (unk === undefined) throw new Error(`the tokenizer has no id for the token '${token}' and no unknown token`);
    return unk;
  }
}

/**
 * transformers' `longest_first`: one piece at a time off the end of the longer sequence until both fit (a single text
 * is simply cut).
 */
function truncate(first: string[], second: string[] | null, budget: number): [string[], string[] | null] {
  if (second === null) return [first.slice(0, budget), null];
  let a = first.length;
  let b = second.length;
  while (a + b > budget) {
    if (a >= b) a--;
    else b--;
  }
  return [first.slice(0, a), second.slice(0, b)];
}
