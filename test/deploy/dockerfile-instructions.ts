/**
 * A small reader of Dockerfiles for the deploy tests: instructions (continuation lines joined, comments dropped) grouped
 * into stages, exec-form arguments parsed, and the path mapping that runs an image's steps under a temp folder standing
 * in for the container's root filesystem.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  readonly keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  readonly args: string;
  /** 1-based line of the keyword. */
  readonly line: number;
}

export interface Stage {
  /** The FROM line's image (ARGs not expanded). */
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs before the first FROM. */
  readonly globalArgs: readonly Instruction[];
  readonly stages: readonly Stage[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const first = lines[index]!.trim();
    if (first === '' || first.startsWith('#')) continue;
    const start = index + 1;
    let joined = first;
    while (joined.endsWith('\\') && index + 1 < lines.length) {
      joined = joined.slice(0, -1).trimEnd();
      index++;
      const next = lines[index]!.trim();
      // Docker drops comment lines inside a continued instruction.
      if (next.startsWith('#')) {
        joined += ' \\';
        continue;
      }
      joined += ` ${next}`;
    }
    const match = /^(\S+)\s*([\s\S]*)$/.exec(joined)!;
    instructions.push({ keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line: start });
  }
  const globalArgs: Instruction[] = [];
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, as, name] = instruction.args.replace(/^--\S+\s+/g, '').split(/\s+/);
      stages.push({ image: image ?? '', name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (stages.length === 0) {
      globalArgs.push(instruction);
    } else {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

export function readDockerfile(path: string): ParsedDockerfile {
  return parseDockerfile(readFileSync(path, 'utf8'));
}

/** The instructions of a stage with this keyword. */
export function find(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

/** The one instruction of a stage with this keyword (the last one, as Docker uses for CMD, ENTRYPOINT, USER ...). */
export function last(stage: Stage, keyword: string): Instruction {
  const found = find(stage, keyword).at(-1);
  if (!found) throw new Error(`the stage FROM ${stage.image} has no ${keyword}`);
  return found;
}

/** The JSON array of an exec-form instruction; throws for the shell form. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`not an exec form: ${args}`);
  return parsed;
}

/** A HEALTHCHECK: its --options and its command (exec form). */
export function healthcheck(instruction: Instruction): { options: Record<string, string>; command: string[] } {
  const options: Record<string, string> = {};
  let rest = instruction.args;
  for (let option = /^--([\w-]+)=(\S+)\s+/.exec(rest); option; option = /^--([\w-]+)=(\S+)\s+/.exec(rest)) {
    options[option[1]!] = option[2]!;
    rest = rest.slice(option[0].length);
  }
  if (!rest.startsWith('CMD ')) throw new Error(`HEALTHCHECK without CMD: ${instruction.args}`);
  return { options, command: execForm(rest.slice(4).trim()) };
}

/** KEY=value pairs of an ENV or ARG instruction (values double-quoted or bare). */
export function assignments(args: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][\w]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = match[2]!;
    values[match[1]!] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  }
  return values;
}

/** `KEY` or `KEY=default` of an ARG. */
export function argDefault(instruction: Instruction): { name: string; value: string | undefined } {
  const [name, ...value] = instruction.args.split('=');
  return { name: name!.trim(), value: value.length > 0 ? value.join('=') : undefined };
}

/** The shell commands of a RUN (shell form), split at top-level `&&`. */
export function runCommands(instruction: Instruction): string[] {
  return instruction.args.split(/\s+&&\s+/).map((command) => command.trim()).filter((command) => command !== '');
}

/**
 * Rewrites absolute paths under the given top-level folders (`/app/x` with roots ['app']) to the same paths under
 * `root`, for running an image's steps in a temp folder that stands in for the container's `/`.
 */
export function underRoot(text: string, root: string, roots: readonly string[]): string {
  const pattern = new RegExp(`(^|[\\s"'=:])/(${roots.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})(?=$|[\\s"'/:;])`, 'g');
  return text.replace(pattern, (_match, before: string, top: string) => `${before}${join(root, top)}`);
}
