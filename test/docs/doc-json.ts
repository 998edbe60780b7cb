/**
 * JSON as the docs write it: standard JSON, plus `...` (a bare ellipsis among the members of an object: "and other
 * fields"; as the last element of an array: "and more elements") and `"..."` (any value). Numbers keep the text they were written with, so
 * the comparison knows how many digits the doc claims.
 */

export type DocValue =
  | { kind: 'any' }
  | { kind: 'number'; value: number; text: string }
  | { kind: 'literal'; value: string | boolean | null }
  | { kind: 'array'; items: DocValue[]; open: boolean }
  | { kind: 'object'; members: [string, DocValue][]; open: boolean };

export class DocJsonError extends Error {}

export function parseDocJson(text: string): DocValue {
  let at = 0;
  const fail = (message: string): never => {
    const line = text.slice(0, at).split('\n').length;
    throw new DocJsonError(`the doc's JSON output, line ${line} of it: ${message} near ${JSON.stringify(text.slice(at, at + 20))}`);
  };
  const space = (): void => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  const ellipsis = (): boolean => {
    space();
    if (!text.startsWith('...', at)) return false;
    at += 3;
    return true;
  };
  const expect = (char: string): void => {
    space();
    if (text[at] !== char) fail(`expected '${char}'`);
    at++;
  };
  const string = (): string => {
    space();
    const match = /^"(?:[^"\\\n]|\\.)*"/.exec(text.slice(at));
    if (!match) return fail('expected a string');
    at += match[0].length;
    return JSON.parse(match[0]) as string;
  };
  const value = (): DocValue => {
    space();
    const char = text[at];
    if (char === '{') {
      at++;
      const members: [string, DocValue][] = [];
      let open = false;
      space();
      if (text[at] === '}') return at++, { kind: 'object', members, open };
      for (;;) {
        if (ellipsis()) {
          open = true;
          space();
          if (text[at] === '}') return at++, { kind: 'object', members, open };
          expect(',');
          continue;
        }
        const key = string();
        expect(':');
        members.push([key, value()]);
        space();
        if (text[at] === '}') return at++, { kind: 'object', members, open };
        expect(',');
      }
    }
    if (char === '[') {
      at++;
      const items: DocValue[] = [];
      space();
      if (text[at] === ']') return at++, { kind: 'array', items, open: false };
      for (;;) {
        if (ellipsis()) {
          expect(']');
          return { kind: 'array', items, open: true };
        }
        items.push(value());
        space();
        if (text[at] === ']') return at++, { kind: 'array', items, open: false };
        expect(',');
      }
    }
    if (char === '"') {
      const parsed = string();
      return parsed === '...' ? { kind: 'any' } : { kind: 'literal', value: parsed };
    }
    const number = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at));
    if (number) {
      at += number[0].length;
      return { kind: 'number', value: Number(number[0]), text: number[0] };
    }
    for (const [word, literal] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) {
        at += word.length;
        return { kind: 'literal', value: literal };
      }
    }
    return fail('expected a JSON value or "..." (a bare ... may stand for object members, or for the last array elements)');
  };
  const result = value();
  space();
  if (at < text.length) fail('unexpected text after the JSON value');
  return result;
}
