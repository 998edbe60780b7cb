/**
 * The small part of POSIX shell syntax that the docs' commands use: words with single quotes, double quotes and
 * backslashes, line continuations, `#` comments, `VAR=value` prefixes, `cd DIR && command`. Anything else (pipes,
 * redirections, `;`, substitutions) is refused, so a doc command is either run exactly as written or reported.
 */

export class ShellSyntaxError extends Error {}

export interface SimpleCommand {
  /** `VAR=value` assignments before the command. */
  env: Record<string, string>;
  /** The command's words, quotes removed; empty for a line that is only a comment (`$ # what follows`). */
  argv: string[];
  /** The directory of a leading `cd DIR &&`, as written. */
  cd?: string;
}

interface Scan {
  words: string[];
  /** Which words were written without any quote or backslash (so `&&` and `VAR=x` can be told from `'&&'`). */
  bare: boolean[];
  complete: boolean;
}

function scan(text: string): Scan {
  const words: string[] = [];
  const bare: boolean[] = [];
  let word: string | undefined;
  let quoted = false;
  const push = (): void => {
    if (word !== undefined) {
      words.push(word);
      bare.push(!quoted);
    }
    word = undefined;
    quoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      push();
    } else if (c === '#' && word === undefined) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return { words, bare, complete: false };
      if (text[i + 1] !== '\n') {
        word = (word ?? '') + text[i + 1]!;
        quoted = true;
      }
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end === -1) return { words, bare, complete: false };
      word = (word ?? '') + text.slice(i + 1, end);
      quoted = true;
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let value = '';
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === '\\' && '"\\$`\n'.includes(text[j + 1] ?? '')) j++;
        else if (text[j] === '$' || text[j] === '`') throw new ShellSyntaxError(`substitution inside double quotes is not supported: ${text}`);
        if (text[j] !== '\n' || text[j - 1] !== '\\') value += text[j];
      }
      if (j >= text.length) return { words, bare, complete: false };
      word = (word ?? '') + value;
      quoted = true;
      i = j;
    } else {
      word = (word ?? '') + c;
    }
  }
  push();
  return { words, bare, complete: true };
}

/** False while `text` ends inside quotes or with a line-continuing backslash. */
export function commandIsComplete(text: string): boolean {
  try {
    return scan(text).complete;
  } catch {
    return true;
  }
}

const OPERATORS = new Set(['&&', '||', '|', ';', '>', '>>', '<', '&', '2>&1', '2>']);

/** Parses one doc command into a SimpleCommand; throws ShellSyntaxError for anything beyond it. */
export function parseCommand(text: string): SimpleCommand {
  const { words, bare, complete } = scan(text);
  if (!complete) throw new ShellSyntaxError(`unterminated quote or continuation: ${text}`);
  let start = 0;
  let cd: string | undefined;
  if (words[0] === 'cd' && bare[0] && words[2] === '&&' && bare[2] && words[1] !== undefined) {
    cd = words[1];
    start = 3;
  }
  const env: Record<string, string> = {};
  while (start < words.length && bare[start] !== false && /^[A-Za-z_]\w*=/.test(words[start]!)) {
    const [name, ...value] = words[start]!.split('=');
    env[name!] = value.join('=');
    start++;
  }
  const argv = words.slice(start);
  argv.forEach((word, index) => {
    const raw = bare[start + index];
    if (raw && (OPERATORS.has(word) || /^[<>]|[|;]$/.test(word) || (word.includes('$') && word !== '$?'))) {
      throw new ShellSyntaxError(`'${word}' is shell syntax the doc checker does not run (only VAR=x, cd DIR &&, one command)`);
    }
  });
  return { env, argv, cd };
}
