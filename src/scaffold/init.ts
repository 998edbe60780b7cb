/**
 * `longshore init [dir]`: scaffolds a project a Node team can start from (package.json, longshore.yaml, a TypeScript
 * model, a test). It never overwrites: if any file it would write exists, it writes nothing and says which.
 */
import { lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LONGSHORE_VERSION } from '../version.js';
import { dockerfile, dockerignore } from './dockerfile.js';
import { gitignore, longshoreYaml, modelSource, modelTest, npmrc, packageJson, readme, tsconfigJson, type ScaffoldContext } from './templates.js';

/**
 * Every file init writes, relative to the project directory, in the order they are written and listed. The only list
 * (the Dockerfile and .dockerignore are also what `longshore dockerfile --write` writes, from dockerfile.ts).
 */
export const SCAFFOLD_FILES: readonly { readonly path: string; readonly content: (context: ScaffoldContext) => string }[] = [
  { path: 'package.json', content: packageJson },
  { path: '.npmrc', content: npmrc },
  { path: '.gitignore', content: gitignore },
  { path: 'README.md', content: readme },
  { path: 'tsconfig.json', content: tsconfigJson },
  { path: 'longshore.yaml', content: longshoreYaml },
  { path: 'models/price-model.ts', content: modelSource },
  { path: 'test/model.test.js', content: modelTest },
  { path: 'Dockerfile', content: dockerfile },
  { path: '.dockerignore', content: dockerignore },
];

/** The name used when the directory's name leaves nothing valid (e.g. `/`, or `!!!`). */
export const FALLBACK_NAME = 'longshore-service';

/** A call init refuses (clashing files, an invalid name, a target that is not a directory): exit 2, nothing written. */
export class InitRefusedError extends Error {
  override readonly name = 'InitRefusedError';
}

export interface InitOptions {
  /** `--name`: the package name (sanitised). Default: the directory's name, sanitised. */
  readonly name?: string;
}

export interface InitResult {
  /** The project directory, absolute. */
  readonly dir: string;
  readonly name: string;
  /** The files written, relative to `dir`, in SCAFFOLD_FILES order. */
  readonly files: readonly string[];
}

/**
 * Makes `raw` a valid npm package name, or returns undefined when nothing valid is left: lower case, characters outside
 * `a-z 0-9 - . _` become `-` (runs collapsed), no leading `.`/`_`/`-`, no trailing `.`/`-`, at most 214 characters.
 * A scope (`@scope/name`) is kept, each half sanitised. Node's built-in module names and `node_modules`/`favicon.ico`
 * get `-service` appended.
 */
export function sanitizePackageName(raw: string): string | undefined {
  const scoped = /^@([^/]+)\/(.+)$/.exec(raw.trim());
  if (scoped) {
    const scope = sanitizePart(scoped[1] ?? '');
    const name = sanitizePart(scoped[2] ?? '');
    return scope && name ? `@${scope}/${name}`.slice(0, 214).replace(/[._-]+$/, '') : undefined;
  }
  const name = sanitizePart(raw.trim());
  if (!name) return undefined;
  const reserved = name === 'node_modules' || name === 'favicon.ico' || builtinModules.includes(name);
  return reserved ? `${name}-service` : name;
}

function sanitizePart(part: string): string {
  return part
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214)
    .replace(/[._-]+$/, '');
}

/** Writes the scaffold into `dirArgument` (resolved against `cwd`, created if missing). Throws InitRefusedError. */
export function initProject(dirArgument: string, options: InitOptions = {}, cwd: string = process.cwd()): InitResult {
  const dir = resolve(cwd, dirArgument);
  const name = projectName(dir, options.name);
  const existing = kindOf(dir);
  if (existing !== undefined && existing !== 'directory') throw new InitRefusedError(`${dir} exists and is not a directory`);

  const clashes = [...new Set(SCAFFOLD_FILES.map((file) => clashAt(dir, file.path)).filter((path) => path !== undefined))];
  if (clashes.length > 0) {
    throw new InitRefusedError(
      `refusing to overwrite existing files in ${dir}: ${clashes.join(', ')} (nothing was written; ` +
        'init a new folder with `longshore init <dir>`, or add longshore to this project as its README\'s "Use it in your project" says)',
    );
  }

  const context: ScaffoldContext = { name, longshoreVersion: LONGSHORE_VERSION, typeboxRange: typeboxRange() };
  const contents = SCAFFOLD_FILES.map((file) => ({ path: file.path, text: file.content(context) }));
  const written: string[] = [];
  for (const file of contents) {
    const target = join(dir, file.path);
    try {
      mkdirSync(dirname(target), { recursive: true });
      // 'wx': never overwrite, even a file that appeared since the check above.
      writeFileSync(target, file.text, { flag: 'wx' });
    } catch (error) {
      const done = written.length === 0 ? 'nothing was written' : `only ${written.join(', ')} written`;
      throw new InitRefusedError(`cannot write ${target}: ${(error as Error).message} (${done})`);
    }
    written.push(file.path);
  }
  return { dir, name, files: written };
}

/** The CLI's side of `init`: runs it, prints what was written and the next steps, and returns the exit code. */
export function runInit(dirArgument: string, options: InitOptions, cwd: string = process.cwd()): number {
  let result: InitResult;
  try {
    result = initProject(dirArgument, options, cwd);
  } catch (error) {
    if (!(error instanceof InitRefusedError)) throw error;
    process.stderr.write(`longshore init: ${error.message}\n`);
    return 2;
  }
  const where = relative(cwd, result.dir);
  const lines = [
    `created ${result.name} in ${result.dir}:`,
    ...result.files.map((file) => `  ${file}`),
    '',
    'next steps:',
    ...(where === '' ? [] : [`  cd ${shellQuote(where === '..' || where.startsWith(`..${sep}`) || isAbsolute(where) ? result.dir : where)}`]),
    '  npm install',
    '  npm test          # starts the service in-process and calls it over HTTP',
    '  npm start         # serves http://127.0.0.1:8000, API docs at http://127.0.0.1:8000/docs',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  return 0;
}

/** `path` as a POSIX shell word: as is when it is plain, else single-quoted. */
function shellQuote(path: string): string {
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", "'\\''")}'`;
}

function projectName(dir: string, explicit: string | undefined): string {
  if (explicit === undefined) return sanitizePackageName(basename(dir)) ?? FALLBACK_NAME;
  const name = sanitizePackageName(explicit);
  if (name === undefined) throw new InitRefusedError(`--name '${explicit}' has nothing that can make a valid npm package name`);
  return name;
}

/**
 * What stands in the way of writing `path` (relative to `dir`): the path itself when something is there, or a parent
 * folder of it that is a file; undefined when the way is clear.
 */
function clashAt(dir: string, path: string): string | undefined {
  const parts = path.split('/');
  for (let end = 1; end < parts.length; end++) {
    const parent = parts.slice(0, end).join('/');
    const kind = kindOf(join(dir, parent));
    if (kind === undefined) return undefined;
    if (kind !== 'directory') return parent;
  }
  return kindOf(join(dir, path)) === undefined ? undefined : path;
}

/** What is at `path` (a symlink counts as what it points to; a dangling one as a file), or undefined for nothing. */
function kindOf(path: string): 'directory' | 'file' | undefined {
  try {
    lstatSync(path);
  } catch {
    return undefined;
  }
  try {
    return statSync(path).isDirectory() ? 'directory' : 'file';
  } catch {
    return 'file';
  }
}

/** The `@sinclair/typebox` range of longshore's own package.json (src/scaffold and dist/scaffold are both two levels down). */
function typeboxRange(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies?: Record<string, string> };
  const range = manifest.dependencies?.['@sinclair/typebox'];
  if (range === undefined) throw new Error("longshore's package.json has no @sinclair/typebox dependency");
  return range;
}
