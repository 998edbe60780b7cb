/**
 * A text front end for the topic classifier (onnx/text_clf.onnx, a TfidfVectorizer + LogisticRegression pipeline):
 * callers send `{text}` and get `{topic, confidence}` instead of the graph's string tensor and class index. Used by the
 * built-in `longshore:transform` and `longshore:checks` decorators in examples/longshore.yaml (`topic_text`).
 */
import { Type, type Static } from '@sinclair/typebox';

export const TOPICS = ['sports', 'weather', 'food'] as const;

export const TextInput = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 2000, description: 'A sentence in English.' }) },
  { additionalProperties: false },
);

export const TopicOutput = Type.Object(
  {
    topic: Type.Union(TOPICS.map((topic) => Type.Literal(topic)), { description: 'The most likely topic.' }),
    confidence: Type.Number({ minimum: 0, maximum: 1, description: 'Probability of that topic.' }),
  },
  { additionalProperties: false },
);

/**
 * Normalises the text the way the vectorizer's training data looked: URLs and digits carry no topic, runs of
 * whitespace are one space. The graph lower-cases by itself.
 */
export function toTensorRecord(input: Static<typeof TextInput>): { input: string[] } {
  const text = input.text
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\d+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return { input: [text] };
}

export function fromTensorRecord(output: { label: number; probabilities: number[] }): Static<typeof TopicOutput> {
  const topic = TOPICS[output.label];
  if (topic === undefined) throw new Error(`the topic model answered label ${output.label}; expected 0, 1 or 2`);
  return { topic, confidence: output.probabilities[output.label] ?? 0 };
}

/** A sentence with no letters (only digits, links or punctuation) has no topic to find. */
export function hasWords(input: Static<typeof TextInput>): void {
  if (!/\p{L}{2,}/u.test(toTensorRecord(input).input[0] ?? '')) {
    throw new Error('text has no words once links and digits are removed; send a sentence');
  }
}
