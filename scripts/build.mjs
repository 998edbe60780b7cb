// `npm run build`: compiles src/ to dist/ (JavaScript and declaration files) with tsconfig.build.json, then copies the
// few modules written in plain JavaScript (worker-thread entry files), which tsc does not emit, and writes the config's
// validators as Ajv standalone code (src/config/validators.ts says why: compiling them was most of a cold start).
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

for (const entry of readdirSync(src, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.js')) continue;
  const from = join(entry.parentPath, entry.name);
  cpSync(from, join(dist, relative(src, from)));
}

const validators = await import(pathToFileURL(join(dist, 'config/validators.js')).href);
const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
writeFileSync(join(dist, 'config', validators.GENERATED_FILE), validators.validatorsSource(standaloneCode));
