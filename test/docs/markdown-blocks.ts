/**
 * Finds the code blocks of a Markdown file that show a command and its output.
 *
 * The convention (written down for doc authors in README.md, "Examples in the docs are tested"):
 * - A fenced block in which a line starts with `$ ` is a transcript: each `$ ` line is a command (continued on the
 *   next lines while it ends with `\` or a quote is open), and the lines after it, up to the next `$ ` line, are what
 *   the command prints (`$ # text` is a comment: it prints nothing). Every transcript is run and compared, unless it
 *   is marked.
 * - `<!-- not-checked: reason -->` on the line before the opening fence (blank lines between allowed) marks a block as
 *   illustrative: it is not run. The reason is required.
 * - A block that shows a command and its output in another form (the output as a `# {...}` comment, or in the next
 *   block) is "suspect": it must be rewritten as a transcript or marked.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { commandIsComplete } from './shell-words.ts';

export interface FencedBlock {
  /** `README.md`, `docs/onnx.md`: relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The first word of the info string (`sh`, `console`, `json`), '' for none. */
  lang: string;
  /** The lines between the fences, with the fence's indentation removed. */
  lines: string[];
  /** The reason of a `<!-- not-checked: reason -->` marker right before it, if there is one. */
  notChecked?: string;
  /** The line of the closing fence. */
  endLine: number;
}

export interface TranscriptStep {
  /** 1-based line of the `$ ` line in the Markdown file. */
  line: number;
  /** The command, continuation lines joined with newlines, without the `$ `. */
  command: string;
  /** The lines the doc says it prints. */
  expected: string[];
}

export interface Transcript {
  block: FencedBlock;
  steps: TranscriptStep[];
}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/;
const MARKER = /^\s*<!--\s*not-checked:(.*?)-->\s*$/;
/** A marker without a reason, or misspelled, so that it cannot silently fail to apply. */
const MARKER_LIKE = /^\s*<!--\s*not[- _]?checked/i;

export interface ParsedMarkdown {
  blocks: FencedBlock[];
  /** Problems with markers (no reason, not followed by a block): each `file:line: message`. */
  problems: string[];
}

/** Every fenced block of `text` (the content of `file`), with the marker that precedes it. */
export function fencedBlocks(file: string, text: string): ParsedMarkdown {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  const problems: string[] = [];
  let pendingMarker: { reason: string; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const marker = MARKER.exec(line);
    if (marker) {
      const reason = marker[1]!.trim();
      if (reason === '') problems.push(`${file}:${i + 1}: a not-checked marker needs a reason: <!-- not-checked: why -->`);
      if (pendingMarker) problems.push(`${file}:${pendingMarker.line}: this not-checked marker is not followed by a code block`);
      pendingMarker = { reason, line: i + 1 };
      continue;
    }
    if (MARKER_LIKE.test(line)) problems.push(`${file}:${i + 1}: write the marker exactly as <!-- not-checked: reason --> on its own line`);
    const fence = FENCE.exec(line);
    if (!fence) {
      if (line.trim() !== '' && pendingMarker) {
        problems.push(`${file}:${pendingMarker.line}: this not-checked marker is not followed by a code block`);
        pendingMarker = undefined;
      }
      continue;
    }
    const indent = fence[1]!.length;
    const close = new RegExp(`^\\s*${fence[2]![0] === '`' ? '`' : '~'}{${fence[2]!.length},}\\s*$`);
    const body: string[] = [];
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) {
      body.push(lines[end]!.slice(Math.min(indent, /^\s*/.exec(lines[end]!)![0].length)));
      end++;
    }
    blocks.push({ file, line: i + 1, lang: fence[3]!.toLowerCase(), lines: body, endLine: end + 1, notChecked: pendingMarker?.reason });
    pendingMarker = undefined;
    i = end;
  }
  if (pendingMarker) problems.push(`${file}:${pendingMarker.line}: this not-checked marker is not followed by a code block`);
  return { blocks, problems };
}

/** Reads `path` and returns its blocks, named relative to `root`, and its text. */
export function readBlocks(root: string, path: string): ParsedMarkdown & { text: string } {
  const text = readFileSync(path, 'utf8');
  return { ...fencedBlocks(relative(root, path), text), text };
}

export function isTranscript(block: FencedBlock): boolean {
  return block.lines.some((line) => line.startsWith('$ '));
}

/** A transcript block split into its commands and their expected output. */
export function transcriptOf(block: FencedBlock): Transcript {
  const steps: TranscriptStep[] = [];
  let i = block.lines.findIndex((line) => line.startsWith('$ '));
  const leading = block.lines.slice(0, i).filter((line) => line.trim() !== '');
  if (leading.length > 0) throw new Error(`${block.file}:${block.line + 1}: a transcript block starts with a \`$ \` command line, not with output`);
  while (i < block.lines.length) {
    const start = i;
    let command = block.lines[i]!.slice(2);
    while (!commandIsComplete(command) && i + 1 < block.lines.length) command += `\n${block.lines[++i]!}`;
    const expected: string[] = [];
    while (i + 1 < block.lines.length && !block.lines[i + 1]!.startsWith('$ ')) expected.push(block.lines[++i]!);
    steps.push({ line: block.line + 1 + start, command, expected });
    i++;
  }
  return { block, steps };
}

const SHELL_LANGS = new Set(['', 'sh', 'bash', 'shell', 'console', 'shell-session', 'zsh']);
const COMMAND = /^\s*(?:[A-Z_]+=\S*\s+)*(?:curl|longshore|npx longshore|node bin\/longshore\.js)\s/;
const OUTPUT_LANGS = new Set(['json', 'text', 'txt', '', 'console', 'http']);

/**
 * Why `block` looks like a command with its output written another way than a transcript, or undefined. `next` is
 * the block after it, when only blank lines separate them.
 */
export function suspectReason(block: FencedBlock, next: FencedBlock | undefined): string | undefined {
  if (block.notChecked !== undefined || isTranscript(block) || !SHELL_LANGS.has(block.lang)) return undefined;
  const commandLine = block.lines.findIndex((line) => COMMAND.test(line));
  if (commandLine === -1) return undefined;
  const later = block.lines.slice(commandLine);
  if (later.some((line) => /#\s*[[{]/.test(line))) {
    return 'shows a command and its output as a `# {...}` comment';
  }
  if (next && OUTPUT_LANGS.has(next.lang) && !next.lines.some((line) => COMMAND.test(line))) {
    return `shows a command here and its output in the next block (line ${next.line})`;
  }
  return undefined;
}

/** The next block when only blank lines lie between `block` and it (as in `text`). */
export function adjacentBlock(blocks: FencedBlock[], index: number, text: string): FencedBlock | undefined {
  const block = blocks[index]!;
  const next = blocks[index + 1];
  if (!next) return undefined;
  const between = text.split('\n').slice(block.endLine, next.line - 1);
  return between.every((line) => line.trim() === '') ? next : undefined;
}
